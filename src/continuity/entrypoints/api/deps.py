"""Dependencies of the routes: the App, the authenticated user and role checks, pagination."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from continuity.bootstrap import App
from continuity.domain.users import Role, User
from continuity.entrypoints.api.problems import ApiProblem
from continuity.services import users

bearer = HTTPBearer(auto_error=False, description="`continuity users add NAME --role ROLE` prints a token.")


def get_app(request: Request) -> App:
    app: App = request.app.state.continuity
    return app


AppDep = Annotated[App, Depends(get_app)]


def current_user(app: AppDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    user = users.authenticate(app.uow, credentials.credentials) if credentials else None
    if user is None:
        raise ApiProblem(401, "not_authenticated", "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
    return user


def require(role: Role) -> Callable[[User], User]:
    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.role.may_act_as(role):
            raise ApiProblem(403, "forbidden", f"this needs the {role.value} role; you are {user.role.value}")
        return user

    return check


CurrentUser = Annotated[User, Depends(current_user)]
Agent = Annotated[User, Depends(require(Role.AGENT))]
Warehouse = Annotated[User, Depends(require(Role.WAREHOUSE))]
Manager = Annotated[User, Depends(require(Role.MANAGER))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Cursor = Annotated[
    str | None, Query(max_length=300, pattern=r"^[A-Za-z0-9_-]+$", description="`next_cursor` of the previous page.")
]


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, check: Callable[[Any], bool]) -> Any:
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    if value is None or not check(value):
        raise ApiProblem(422, "cursor_invalid", "the cursor is not one this list gave out")
    return value


def page(
    items: list[Any], limit: int, key: Callable[[Any], Any], view: Callable[[Any], Any] = lambda x: x
) -> dict[str, Any]:
    """``items`` holds up to limit + 1 entries; the extra one only says that there is a next page."""
    shown = items[:limit]
    more = len(items) > limit
    return {"items": [view(i) for i in shown], "next_cursor": encode_cursor(key(shown[-1])) if more else None}


def is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 40
