"""Log in, log out, and pick the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from continuity.entrypoints.web import i18n
from continuity.entrypoints.web.session import (
    LANG_COOKIE,
    SESSION_COOKIE,
    clear_session_cookie,
    is_https,
    language_of,
    session_of,
    set_session_cookie,
    web_state,
)
from continuity.entrypoints.web.templating import render
from continuity.services import web_auth

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no //host): no open redirect after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if session_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), username="", error=None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    state = web_state(request)
    client = request.client.host if request.client else ""
    try:
        new = web_auth.log_in(state.store, state.clock, username.strip(), password, language_of(request), client)
    except web_auth.LoginRefused:  # one answer for an unknown name, a wrong password and a throttled client
        return render(request, "login.html", 401, next=safe_next(next), username=username, error="wrong")
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, new.session_id)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    web_auth.log_out(web_state(request).store, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.post("/language")
def choose_language(
    request: Request, language: Annotated[str, Form()] = "en", next: Annotated[str, Form()] = "/"
) -> Response:
    lang = i18n.supported(language) or i18n.DEFAULT
    session = session_of(request)
    if session is not None:
        web_state(request).store.set_language(session.session_hash, session.user.user_id, lang)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax", secure=is_https(request), path="/"
    )
    return response
