"""Mounts the web UI on the FastAPI app: static files, security headers, error pages, the routers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from continuity.bootstrap import App
from continuity.domain.errors import DomainError, NotFound
from continuity.entrypoints.api import problems
from continuity.entrypoints.web.auth import CsrfRefused, LoginRequired, RoleTooLow, verify_csrf
from continuity.entrypoints.web.routes import agent_routes, order_returns, order_servicing
from continuity.entrypoints.web.security import CSP, SecurityHeadersMiddleware, card_entry_csp, is_web_path
from continuity.entrypoints.web.session import WebState
from continuity.entrypoints.web.templating import render

STATIC = Path(__file__).with_name("static")


def include_web(api: FastAPI, app: App) -> None:
    settings = app.settings
    api.state.web = WebState(
        app.web_auth_store(),
        app.clock,
        timedelta(minutes=settings.web_idle_minutes),
        timedelta(hours=settings.session_max_hours),
    )
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    web_csp = card_entry_csp(settings.stripe_js_url, settings.stripe_api_base) if settings.gateway == "stripe" else CSP
    api.add_middleware(
        SecurityHeadersMiddleware,
        docs_path=api.docs_url,  # outermost: on every answer
        trust_forwarded_proto=app.settings.trust_forwarded_proto,
        web_csp=web_csp,
    )
    csrf = [Depends(verify_csrf)]
    for router in agent_routes() + _manager_routes() + [order_servicing.router, order_returns.router]:
        api.include_router(router, dependencies=csrf)
    _install_error_pages(api)


def _manager_routes() -> list[APIRouter]:
    from continuity.entrypoints.web.routes import dashboard, jobs_page, setup_pages

    return [setup_pages.router, jobs_page.router, dashboard.router]


def _install_error_pages(api: FastAPI) -> None:
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.next_url, status_code=303)

    async def role_too_low(request: Request, exc: RoleTooLow) -> Response:
        return render(request, "error.html", 403, kind="role", needed=exc.needed.value)

    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return render(request, "error.html", 403, kind="csrf")

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_web_path(request.url.path):
            return await problems._http_error(request, exc)
        return render(request, "error.html", exc.status_code, kind="http", status=exc.status_code)

    async def domain_error(request: Request, exc: DomainError) -> Response:
        if not is_web_path(request.url.path):
            return await problems._domain_error(request, exc)
        status = 404 if isinstance(exc, NotFound) else 422
        return render(request, "error.html", status, kind="domain", status=status, message=exc.message)

    # arg-type: Starlette types a handler as taking any Exception; each of these takes its own class
    api.add_exception_handler(LoginRequired, login_required)  # type: ignore[arg-type]
    api.add_exception_handler(RoleTooLow, role_too_low)  # type: ignore[arg-type]
    api.add_exception_handler(CsrfRefused, csrf_refused)  # type: ignore[arg-type]
    api.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    api.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]
