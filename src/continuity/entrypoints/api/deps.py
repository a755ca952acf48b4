"""Dependencies of the routes: the App, the authenticated user and role checks, pagination."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypedDict, TypeGuard, TypeVar, overload

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


T = TypeVar("T")
V = TypeVar("V")
#: What a cursor holds: the key of the last item of the page before (an id, or a job run's number).
CursorKey = str | int


class PageView(TypedDict, Generic[V]):
    """A page of a list (the JSON of schemas.Page)."""

    items: list[V]
    next_cursor: str | None


def encode_cursor(value: CursorKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, check: Callable[[object], TypeGuard[T]]) -> T | None:
    """The key ``cursor`` holds; ``check`` says whether it is one this list could have given out."""
    if cursor is None:
        return None
    try:
        value: object = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    if value is None or not check(value):
        raise ApiProblem(422, "cursor_invalid", "the cursor is not one this list gave out")
    return value


@overload
def page(items: Sequence[T], limit: int, key: Callable[[T], CursorKey]) -> PageView[T]: ...


@overload
def page(items: Sequence[T], limit: int, key: Callable[[T], CursorKey], view: Callable[[T], V]) -> PageView[V]: ...


def page(
    items: Sequence[T], limit: int, key: Callable[[T], CursorKey], view: Callable[[T], V] | None = None
) -> PageView[T] | PageView[V]:
    """``items`` holds up to limit + 1 entries; the extra one only says that there is a next page."""
    shown = items[:limit]
    next_cursor = encode_cursor(key(shown[-1])) if len(items) > limit else None
    if view is None:
        return {"items": list(shown), "next_cursor": next_cursor}
    return {"items": [view(i) for i in shown], "next_cursor": next_cursor}


def is_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= 40
