"""Errors as application/problem+json with a stable ``code``, mapped once; request ids; no tracebacks.

Domain errors: NotFound → 404, ValidationFailed → 422, RuleViolation and InvalidTransition → 409
(the request is well-formed but conflicts with the current state), CardInvalid and CardExpired → 422
(bad card input), other PaymentErrors (a decline) → 402. Request validation → 422 with one entry per
field and never the value that was sent (a card number must not come back in an error).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any, TypedDict

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from continuity.domain.errors import (
    CardExpired,
    CardInvalid,
    DomainError,
    InvalidTransition,
    NotFound,
    PaymentError,
    RuleViolation,
    ValidationFailed,
)

log = logging.getLogger("continuity.api")
MEDIA_TYPE = "application/problem+json"

#: Most specific first.
DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (ValidationFailed, 422),
    (RuleViolation, 409),
    (InvalidTransition, 409),
    (CardInvalid, 422),
    (CardExpired, 422),
    (PaymentError, 402),
    (DomainError, 422),
]
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    402: "Payment failed",
    403: "Not allowed for your role",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    500: "Internal error",
}
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "request_invalid",
}


class ApiProblem(Exception):
    """An error the API layer itself raises (authentication, roles, cursors)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


class FieldProblem(TypedDict):
    """One entry of a 422's ``errors`` (schemas.FieldError): where, what (never the value sent), its type."""

    loc: list[str | int]
    msg: str
    type: str


def problem(
    status: int,
    code: str,
    detail: str,
    request_id: str | None,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:continuity:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def request_id(scope_or_request: Request | Scope) -> str | None:
    scope = scope_or_request.scope if isinstance(scope_or_request, Request) else scope_or_request
    rid: str | None = (scope.get("state") or {}).get("request_id")
    return rid


def domain_status(exc: DomainError) -> int:
    return next(status for cls, status in DOMAIN_STATUS if isinstance(exc, cls))


def install(api: FastAPI) -> None:
    # arg-type: Starlette types a handler as taking any Exception; each of these takes its own class
    api.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    api.add_exception_handler(ApiProblem, _api_problem)  # type: ignore[arg-type]
    api.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    api.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    api.add_exception_handler(IntegrityError, _integrity_error)  # type: ignore[arg-type]


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    return problem(domain_status(exc), exc.code, exc.message, request_id(request))


async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
    return problem(exc.status, exc.code, exc.detail, request_id(request), headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors: list[FieldProblem] = [
        {
            "loc": [_safe(part) for part in e.get("loc", ())],
            "msg": _scrubbed(str(e.get("msg", ""))),
            "type": e.get("type", "invalid"),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else FieldProblem(loc=[], msg="invalid request", type="invalid")
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(422, "request_invalid", f"{where}: {first['msg']}{more}", request_id(request), errors)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "Error")
    return problem(
        status,
        HTTP_CODES.get(status, f"http_{status}"),
        detail,
        request_id(request),
        headers=getattr(exc, "headers", None),
    )


async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
    """Two requests created the same thing at once: the loser gets 409 (any other violation is a bug: 500)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) != "23505" and "UNIQUE constraint failed" not in str(orig):
        raise exc
    log.warning("unique violation in %s %s (request %s)", request.method, _safe(request.url.path), request_id(request))
    return problem(
        409, "concurrent_change", "another request changed the same data at the same time; retry", request_id(request)
    )


def _safe(part: object) -> str | int:
    """A location part without what the caller sent (see _scrubbed); an index stays a number."""
    return part if isinstance(part, int) else _scrubbed(str(part))


def _scrubbed(text: str) -> str:
    """A location or message part without what the caller sent: no long digit runs, only valid text."""
    text = text.encode("utf-8", "replace").decode("utf-8")[:200]
    return re.sub(r"\d[\d -]{10,}\d", "…", text)


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID), logs one line per request (never a body), and turns
    an unhandled exception into a logged 500 problem that carries the id — never a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = secrets.token_urlsafe(12)  # not hex: no long digit runs for a card-number scan to trip on
        scope.setdefault("state", {})["request_id"] = rid
        started, status, begun = False, 500, time.monotonic()

        async def send_with_id(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:  # noqa: BLE001 - the last line of defence
            log.exception("internal error in %s %s (request %s)", scope["method"], _safe(scope["path"]), rid)
            if not started:
                await problem(
                    500, "internal_error", f"an internal error occurred; it was logged as request {rid}", rid
                )(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s %.0fms request %s",
                scope["method"],
                _safe(scope["path"]),
                status,
                (time.monotonic() - begun) * 1000,
                rid,
            )


class BodyTooLarge(Exception):
    """Raised by the limited ``receive`` once a request body has gone past the limit."""


class BodyLimitMiddleware:
    """Request bodies of at most ``max_bytes`` (CONTINUITY_MAX_BODY_BYTES), on the API and the web UI alike.

    A ``Content-Length`` above the limit is refused with 413 before anything is read (and the
    connection is closed rather than drained). A body without a length (chunked) is counted as it
    arrives: past the limit, ``receive`` raises and the answer is 413 — whatever the app made of the
    interrupted read (FastAPI turns it into a 400) is replaced, as long as nothing was sent yet."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "").strip()
        if length.isascii() and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send, close=True)
            return
        received, too_large, started, refused = 0, False, False, False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal started, refused
            if too_large and not started:  # the app answered the interrupted read: 413 instead
                if not refused:
                    refused = True
                    await self._refuse(scope, receive, send, close=False)
                return
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, send_unless_refused)
        except BodyTooLarge:
            if started:
                raise
            if not refused:
                await self._refuse(scope, receive, send, close=False)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, close: bool) -> None:
        headers = {"Connection": "close"} if close else None
        await problem(
            413,
            "body_too_large",
            f"a request body is at most {self.max_bytes} bytes",
            request_id(scope),
            headers=headers,
        )(scope, receive, send)
