"""The FastAPI application: /api/v1, OpenAPI at /api/v1/openapi.json, docs at /api/docs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from continuity.bootstrap import App, bootstrap
from continuity.entrypoints.api import problems
from continuity.entrypoints.api.idempotency import IdempotencyMiddleware
from continuity.entrypoints.api.routes import (
    catalog,
    customers,
    holds,
    jobs,
    returns,
    review,
    sales_orders,
    servicing,
    taxes,
    users,
)
from continuity.entrypoints.web.app import include_web
from continuity.services import users as user_service

PREFIX = "/api/v1"
DESCRIPTION = """Continuity programs for a call center.

Authenticate with `Authorization: Bearer TOKEN` (`continuity users add NAME --role agent|warehouse|manager|admin`).
Errors are `application/problem+json` with a stable `code`. Every POST honours `Idempotency-Key`:
the first response is replayed for 24 hours to a retry with the same key and body.
"""


def create_app(app: App | None = None) -> FastAPI:
    continuity = app or bootstrap()
    api = FastAPI(
        title="continuity",
        version="1",
        description=DESCRIPTION,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    api.state.continuity = continuity
    problems.install(api)
    api.add_middleware(IdempotencyMiddleware, continuity=continuity)
    api.add_middleware(AuthenticateFirstMiddleware, continuity=continuity)
    api.add_middleware(problems.BodyLimitMiddleware, max_bytes=continuity.settings.max_body_bytes)
    api.add_middleware(problems.RequestIdMiddleware)  # ids, request log, last-resort 500 (then the web's headers)
    v1 = APIRouter(prefix=PREFIX)
    for module in (customers, sales_orders, holds, review, servicing, returns, catalog, taxes, jobs, users):
        v1.include_router(module.router)
    v1.add_api_route("/health", health, methods=["GET"], tags=["health"], summary="Liveness (no token needed)")
    api.include_router(v1)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]  # FastAPI's documented override
    include_web(api, continuity)  # the web UI (server-rendered pages) on the same app
    return api


class AuthenticateFirstMiddleware:
    """A write under /api/v1 (POST, PUT, PATCH, DELETE) needs a valid bearer token before its body is read.

    FastAPI reads and parses a route's JSON body before it resolves the route's dependencies, so
    without this an anonymous caller has its body parsed (and a broken one answered 422) before the
    401. The route's own dependency still authenticates and checks the role; this only answers 401
    first, in the same words (deps.current_user)."""

    WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: ASGIApp, continuity: App) -> None:
        self.app = app
        self.continuity = continuity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.WRITES or not scope["path"].startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        token = token if scheme.lower() == "bearer" else ""
        user = await run_in_threadpool(user_service.authenticate, self.continuity.uow, token) if token else None
        if user is None:
            await problems.problem(
                401,
                "not_authenticated",
                "a valid bearer token is required",
                problems.request_id(scope),
                headers={"WWW-Authenticate": "Bearer"},
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)


def health() -> dict[str, str]:
    return {"status": "ok"}


def _openapi(api: FastAPI) -> dict[str, Any]:
    """The generated document, with problem+json as the media type of every error response and the
    Idempotency-Key header declared on every POST."""
    if api.openapi_schema:
        return api.openapi_schema
    doc = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
    for path in doc["paths"].values():
        for method, operation in path.items():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    response["content"] = {problems.MEDIA_TYPE: content.pop("application/json")}
            if method == "post":
                operation.setdefault("parameters", []).append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Replays the first response to a retry with the same key and body (24 h).",
                        "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                    }
                )
    api.openapi_schema = doc
    return doc
