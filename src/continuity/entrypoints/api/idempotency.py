"""The Idempotency-Key header on every POST, as ASGI middleware around the routes.

The use case (claim, replay, refuse) is services.idempotency; this module only reads the request,
holds the response until it is stored, and writes the stored one back. A response with
``Cache-Control: no-store`` (it holds a secret, e.g. a new user's token) is not kept: a retry is told
that the request ran. Server errors are not kept: the key may be retried.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from continuity.bootstrap import App
from continuity.entrypoints.api.problems import problem, request_id
from continuity.entrypoints.held_response import HeldResponse
from continuity.services import idempotency, users
from continuity.services.idempotency import Begin

KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
REFUSED = {
    Begin.RUNNING: (
        409,
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still running; retry in a moment",
    ),
    Begin.MISMATCH: (
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was used for a different request; use a new key",
    ),
    Begin.UNSTORED: (
        409,
        "idempotency_response_not_stored",
        "a request with this Idempotency-Key ran; its response held a secret and was not kept",
    ),
}


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, continuity: App) -> None:
        self.app = app
        self.continuity = continuity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        if not KEY.match(key):
            await problem(
                422,
                "idempotency_key_invalid",
                "an Idempotency-Key is 1–255 visible ASCII characters",
                request_id(scope),
            )(scope, receive, send)
            return
        token = _bearer(headers.get("authorization", ""))
        user = await run_in_threadpool(users.authenticate, self.continuity.uow, token) if token else None
        if not token or user is None:  # the route answers 401; nothing to remember
            await self.app(scope, receive, send)
            return
        limit = self.continuity.settings.max_body_bytes
        body = await _read_body(receive, limit)
        if body is None:
            await problem(413, "body_too_large", f"a request body is at most {limit} bytes", request_id(scope))(
                scope, receive, send
            )
            return
        target = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope["query_string"] else "")
        req_hash = idempotency.request_hash(token, "POST", target, body)
        now = self.continuity.clock.now()
        outcome, record = await run_in_threadpool(
            idempotency.begin, self.continuity.uow, user.user_id, key, req_hash, "POST", scope["path"], now
        )
        if outcome == Begin.RUN:
            await self._run(scope, body, receive, send, user.user_id, key)
        elif outcome == Begin.REPLAY and record is not None:
            await _send(
                send,
                record.response_status or 200,
                record.response_content_type,
                (record.response_body or "").encode(),
                replayed=True,
            )
        else:
            status, code, detail = REFUSED[outcome]
            extra = {"Retry-After": "1"} if outcome == Begin.RUNNING else None
            await problem(status, code, detail, request_id(scope), headers=extra)(scope, receive, send)

    async def _run(self, scope: Scope, body: bytes, receive: Receive, send: Send, user_id: int, key: str) -> None:
        sent_body = False

        async def replay_body() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        held = HeldResponse()
        uow = self.continuity.uow
        try:
            await self.app(scope, replay_body, held)
        except BaseException:
            await run_in_threadpool(idempotency.abandon, uow, user_id, key)
            raise
        if held.status >= 500 or held.status in (401, 403):
            await run_in_threadpool(idempotency.abandon, uow, user_id, key)
        else:
            store = "no-store" not in held.headers.get("cache-control", "")
            await run_in_threadpool(
                idempotency.finish,
                uow,
                user_id,
                key,
                held.status,
                held.headers.get("content-type"),
                held.body.decode("utf-8", "replace"),
                store,
            )
        await held.send_to(send)


def _bearer(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it is longer than ``limit`` (CONTINUITY_MAX_BODY_BYTES)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send: Send, status: int, content_type: str | None, body: bytes, replayed: bool) -> None:
    headers = [
        (b"content-type", (content_type or "application/json").encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
    ]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
