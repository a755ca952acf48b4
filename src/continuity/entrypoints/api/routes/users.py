"""/me (who am I) and /users (admin: list, create — the token is shown once)."""
from __future__ import annotations

from fastapi import APIRouter, Response

from continuity.entrypoints.api.deps import Admin, AppDep, CurrentUser
from continuity.entrypoints.api.routes import WRITE, errors
from continuity.entrypoints.api.schemas import NewUserOut, UserIn, UserOut
from continuity.services import users

router = APIRouter(tags=["users"])


@router.get("/me", response_model=UserOut, responses=errors(401, 500))
def me(user: CurrentUser) -> dict:
    return {"name": user.name, "role": user.role.value}


@router.get("/users", response_model=list[UserOut], responses=errors(401, 403, 500))
def list_users(app: AppDep, _: Admin) -> list[dict]:
    return [{"name": u.name, "role": u.role.value} for u in users.list_users(app.uow)]


@router.post("/users", status_code=201, response_model=NewUserOut, responses=errors(*WRITE))
def create_user(body: UserIn, app: AppDep, _: Admin, response: Response) -> dict:
    """A new API user; its bearer token is in this response only (not kept for Idempotency-Key replays)."""
    user, token = users.add_user(app.uow, app.clock, body.name, body.role)
    response.headers["Cache-Control"] = "no-store"
    return {"name": user.name, "role": user.role.value, "token": token}
