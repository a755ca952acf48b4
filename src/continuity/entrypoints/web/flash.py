"""Post-redirect-get (issue 18 item 8): every web POST answers 303 to a GET page, so a refresh never
re-posts a form. What that page must show once (a form's error and the values typed) travels in a
flash: a short-lived cookie, signed with the visitor's session (its cookie's id, else the anonymous CSRF
cookie) and meant for one path, read and cleared by the next page of that path.

Only what a person may see again goes in: never a card number, a CVV, a password, a gateway
reference or the CSRF token (``SECRET_FIELDS``), and never a value holding a card number."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from continuity.domain.free_text import card_number_spans
from continuity.entrypoints.web.session import CSRF_COOKIE, SESSION_COOKIE, is_https

FLASH_COOKIE = "continuity_flash"
#: fields never kept: they are typed again (or were never ours to keep)
SECRET_FIELDS = frozenset(
    {"card_number", "cvv", "cvc", "csrf_token", "password", "new_password", "payment_method", "expected"}
)
MAX_COOKIE = 3800  # bytes: under the browsers' 4 KB per cookie; bigger values are dropped, the error kept


@dataclass(frozen=True)
class Flash:
    """What the POST left for its page: the error (already in the page's language), the values typed
    (text only) and any further data the page shows (e.g. a job run's outcome)."""

    error: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def kept(values: Mapping[str, Any]) -> dict[str, str]:
    """The form values a flash may hold: text, not secret, holding no card number."""
    return {
        k: v for k, v in values.items() if isinstance(v, str) and k not in SECRET_FIELDS and not card_number_spans(v)
    }


def redirect(
    request: Request,
    url: str,
    *,
    error: str | None = None,
    values: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> RedirectResponse:
    """303 to ``url``; with an error, values or data, a flash for that page (path only, query ignored)."""
    response = RedirectResponse(url, status_code=303)
    if error is None and not values and not data:
        return response
    key = _key(request)
    if key is None:
        return response
    payload: dict[str, Any] = {"p": url.split("?", 1)[0].split("#", 1)[0], "e": error, "v": kept(values or {})}
    if data:
        payload["d"] = dict(data)
    cookie = _seal(key, payload)
    if len(cookie) > MAX_COOKIE:  # too much typed to carry: the error still shows, the values are lost
        cookie = _seal(key, {**payload, "v": {}, "d": {}})
    response.set_cookie(
        FLASH_COOKIE, cookie, max_age=300, httponly=True, samesite="lax", secure=is_https(request), path="/"
    )
    return response


def take(request: Request) -> Flash:
    """This page's flash (an empty one when there is none, it is for another page or it was forged);
    ``forget`` then clears the cookie from the page's answer: it is shown once."""
    cached = getattr(request.state, "flash", None)
    if isinstance(cached, Flash):
        return cached
    found = Flash()
    raw, key = request.cookies.get(FLASH_COOKIE), _key(request)
    if raw and key is not None:
        request.state.flash_taken = True
        payload = _open(key, raw)
        if payload is not None and unquote(str(payload.get("p"))) == unquote(request.url.path):
            found = Flash(payload.get("e"), kept(payload.get("v") or {}), payload.get("d") or {})
    request.state.flash = found
    return found


def forget(request: Request, response: Response) -> None:
    """Clear a flash this request read (called by every rendered page)."""
    if getattr(request.state, "flash_taken", False):
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))


def _key(request: Request) -> bytes | None:
    secret = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)
    if not secret:
        secret = getattr(request.state, "new_csrf", None)
    return secret.encode() if secret else None


def _seal(key: bytes, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(
        zlib.compress(json.dumps(payload, separators=(",", ":"), default=str).encode())
    ).decode()
    return body + "." + hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _open(key: bytes, raw: str) -> dict[str, Any] | None:
    body, _, signature = raw.rpartition(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(signature, expected):
        return None
    try:
        payload = json.loads(zlib.decompressobj().decompress(base64.urlsafe_b64decode(body.encode()), 1 << 16))
    except (ValueError, zlib.error):
        return None
    return payload if isinstance(payload, dict) else None
