"""/me (who am I) and /users (admin: list, create — the token is shown once —, revoke a token, disable,
enable)."""

from __future__ import annotations

from typing import Annotated, TypedDict

from fastapi import APIRouter, Path, Response

from continuity.domain.users import User
from continuity.entrypoints.api.deps import Admin, AppDep, CurrentUser
from continuity.entrypoints.api.routes import WRITE, errors
from continuity.entrypoints.api.schemas import NewUserOut, RevokedTokenOut, RevokeTokenIn, UserIn, UserOut
from continuity.services import users

router = APIRouter(tags=["users"])
UserName = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$", examples=["agent-user"], description="A user's name.")
]


class UserView(TypedDict):
    """The JSON of schemas.UserOut."""

    name: str
    role: str
    disabled: bool
    has_token: bool


class NewUserView(UserView):
    token: str


class RevokedTokenView(UserView):
    token: str | None


def _out(user: User) -> UserView:
    return {"name": user.name, "role": user.role.value, "disabled": user.disabled, "has_token": user.has_token}


@router.get("/me", response_model=UserOut, responses=errors(401, 500))
def me(user: CurrentUser) -> UserView:
    return _out(user)


@router.get("/users", response_model=list[UserOut], responses=errors(401, 403, 500))
def list_users(app: AppDep, _: Admin) -> list[UserView]:
    return [_out(u) for u in users.list_users(app.uow)]


@router.post("/users", status_code=201, response_model=NewUserOut, responses=errors(*WRITE))
def create_user(body: UserIn, app: AppDep, _: Admin, response: Response) -> NewUserView:
    """A new API user; its bearer token is in this response only (not kept for Idempotency-Key replays)."""
    user, token = users.add_user(app.uow, app.clock, body.name, body.role)
    response.headers["Cache-Control"] = "no-store"
    return {**_out(user), "token": token}


@router.post("/users/{user_name}/revoke-token", response_model=RevokedTokenOut, responses=errors(*WRITE))
def revoke_token(
    user_name: UserName, app: AppDep, admin: Admin, response: Response, body: RevokeTokenIn | None = None
) -> RevokedTokenView:
    """The user's bearer token stops working at once; with `new_token` the answer holds its replacement
    (then not kept for Idempotency-Key replays). Your own token only with a new one."""
    user, token = users.revoke_token(app.uow, user_name, bool(body and body.new_token), actor=admin.name)
    if token is not None:
        response.headers["Cache-Control"] = "no-store"
    return {**_out(user), "token": token}


@router.post("/users/{user_name}/disable", response_model=UserOut, responses=errors(*WRITE))
def disable_user(user_name: UserName, app: AppDep, admin: Admin) -> UserView:
    """No web login and no API token (revoked); the user's web sessions end at once. Not yourself."""
    return _out(users.disable_user(app.uow, app.clock, user_name, actor=admin.name))


@router.post("/users/{user_name}/enable", response_model=UserOut, responses=errors(*WRITE))
def enable_user(user_name: UserName, app: AppDep, _: Admin) -> UserView:
    """The web password works again; an API token comes from revoke-token with `new_token`."""
    return _out(users.enable_user(app.uow, user_name))
