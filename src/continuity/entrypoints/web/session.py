"""The web session of a request (from its cookie), its user, language and CSRF token; loaded once per
request and kept on ``request.state``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request, Response

from continuity.domain.users import User
from continuity.entrypoints.web import i18n
from continuity.services import web_auth
from continuity.services.ports import Clock, Session, WebAuthStore

SESSION_COOKIE = "continuity_session"
CSRF_COOKIE = "continuity_csrf"  # the CSRF token of a visitor who is not logged in (login form, language)
LANG_COOKIE = "continuity_lang"
_NOT_LOADED = object()


@dataclass
class WebState:
    store: WebAuthStore
    clock: Clock
    idle_timeout: timedelta
    max_age: timedelta  # CONTINUITY_SESSION_MAX_HOURS


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def session_of(request: Request) -> Session | None:
    cached = getattr(request.state, "web_session", _NOT_LOADED)
    if cached is _NOT_LOADED:
        state = web_state(request)
        cached = web_auth.current_session(
            state.store, state.clock, request.cookies.get(SESSION_COOKIE), state.idle_timeout, state.max_age
        )
        request.state.web_session = cached
    return cached if isinstance(cached, Session) else None


def user_of(request: Request) -> User | None:
    session = session_of(request)
    return session.user if session else None


def language_of(request: Request) -> str:
    chosen = getattr(request.state, "language", None)
    if isinstance(chosen, str) and chosen:
        return chosen
    session = session_of(request)
    return (
        i18n.supported(session.language if session else None)
        or i18n.supported(request.cookies.get(LANG_COOKIE))
        or i18n.from_accept_language(request.headers.get("accept-language"))
    )


def csrf_token(request: Request) -> str:
    """The token every form carries: the session's, or before login a random one kept in a cookie."""
    session = session_of(request)
    if session is not None:
        return session.csrf_token
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def expected_csrf(request: Request) -> str | None:
    session = session_of(request)
    return session.csrf_token if session is not None else request.cookies.get(CSRF_COOKIE)


def remember_anonymous_csrf(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token and session_of(request) is None:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request), path="/")


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="lax", secure=is_https(request), path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"
