"""Dependencies of the web routes: the logged-in user (else a redirect to /login), role checks, the
CSRF check of every unsafe request and the posted form as a dict."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from continuity.domain.users import Role, User
from continuity.entrypoints.web.session import expected_csrf, session_of

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__("login required")
        self.next_url = next_url


class RoleTooLow(Exception):
    def __init__(self, needed: Role, user: User) -> None:
        super().__init__(f"needs {needed.value}")
        self.needed, self.user = needed, user


class CsrfRefused(Exception):
    pass


def current_user(request: Request) -> User:
    session = session_of(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired("/login?next=" + quote(target if request.method == "GET" else "/", safe=""))
    return session.user


def require_role(role: Role) -> Callable[[User], User]:
    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.role.may_act_as(role):
            raise RoleTooLow(role, user)
        return user

    return check


async def verify_csrf(request: Request) -> None:
    """Unsafe methods need the form field ``csrf_token`` (or the X-CSRF-Token header) of this session."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    expected = expected_csrf(request)
    if not sent or not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()


async def form_of(request: Request) -> dict[str, Any]:
    return dict(await request.form())


Form = Annotated[dict[str, Any], Depends(form_of)]
CurrentUser = Annotated[User, Depends(current_user)]
Agent = Annotated[User, Depends(require_role(Role.AGENT))]
Manager = Annotated[User, Depends(require_role(Role.MANAGER))]
