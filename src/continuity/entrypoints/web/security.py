"""Security headers on every response.

- Web pages: the web UI's policy (its own script and stylesheet only, no framing, no caching but for
  /static).
- The API (/api…): ``Cache-Control: no-store``, nosniff, no framing and a policy under which a JSON
  answer loads nothing.
- The docs page (/api/docs): the same, with a policy that lets Swagger UI load from where FastAPI
  takes it (its CDN) and run its one inline start-up script, allowed by the script's hash.
- HSTS when the request came over https: the ASGI scheme, or ``X-Forwarded-Proto: https`` from a
  proxy when CONTINUITY_TRUST_FORWARDED_PROTO is on (off by default: any client can send that header).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from continuity.entrypoints.held_response import HeldResponse

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
API_HEADERS = {
    "Content-Security-Policy": API_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
#: Where fastapi.openapi.docs.get_swagger_ui_html loads Swagger UI's script, stylesheet and icon from.
DOCS_ASSETS = "https://cdn.jsdelivr.net"
DOCS_ICON = "https://fastapi.tiangolo.com"
HSTS = "max-age=31536000"
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def card_entry_csp(script_url: str, api_base: str) -> str:
    """The web policy with Stripe.js allowed (CONTINUITY_GATEWAY=stripe): its script and frames from
    CONTINUITY_STRIPE_JS_URL's origin, its calls to CONTINUITY_STRIPE_API_BASE's (the card number goes
    there from the browser, never to us)."""
    js, api = _origin(script_url), _origin(api_base)
    return (
        f"default-src 'self'; script-src 'self' {js}; style-src 'self'; frame-src {js}; "
        f"connect-src 'self' {api}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'"
    )


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def is_web_path(path: str) -> bool:
    return not path.startswith("/api")


def docs_csp(html: bytes) -> str:
    """The docs page's policy: its inline scripts by hash, Swagger UI from its CDN, fetches to us only."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src {DOCS_ASSETS} {hashes}; style-src {DOCS_ASSETS} 'unsafe-inline'; "
        f"img-src 'self' data: {DOCS_ASSETS} {DOCS_ICON}; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


def came_over_https(scope: Scope, trust_forwarded_proto: bool) -> bool:
    if scope.get("scheme") == "https":
        return True
    if not trust_forwarded_proto:
        return False
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.rsplit(",", 1)[-1].strip().lower() == "https"  # the last value: our own proxy's


class SecurityHeadersMiddleware:
    def __init__(
        self, app: ASGIApp, docs_path: str | None = "/api/docs", trust_forwarded_proto: bool = False, web_csp: str = CSP
    ) -> None:
        self.app = app
        self.web_headers = {**HEADERS, "Content-Security-Policy": web_csp}
        self.docs_path = docs_path
        self.trust_forwarded_proto = trust_forwarded_proto

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        web = is_web_path(path)
        hsts = came_over_https(scope, self.trust_forwarded_proto)

        def add_headers(message: Message) -> MutableHeaders:
            headers = MutableHeaders(scope=message)
            for name, value in (self.web_headers if web else API_HEADERS).items():
                headers[name] = value
            if web and not path.startswith("/static/"):
                headers["Cache-Control"] = "no-store"
            if hsts:
                headers["Strict-Transport-Security"] = HSTS
            return headers

        if path == self.docs_path:
            await self._docs_page(scope, receive, send, add_headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(
        self, scope: Scope, receive: Receive, send: Send, add_headers: Callable[[Message], MutableHeaders]
    ) -> None:
        """The page is small: held whole, so that its policy can name its inline script's hash."""
        held = HeldResponse()
        await self.app(scope, receive, held)
        add_headers(held.start)["Content-Security-Policy"] = docs_csp(held.body)
        await held.send_to(send)
