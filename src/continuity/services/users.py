"""API users: create one (its bearer token is shown once, only a hash is kept) and authenticate."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets

from continuity.domain.errors import ValidationFailed
from continuity.domain.users import Role, User
from continuity.services.order_entry import UowFactory
from continuity.services.ports import Clock

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
TOKEN_PREFIX = "ct_"


def token_hash(token: str) -> str:
    """SHA-256 of the token, base64url: tokens are 256 random bits, so a fast hash is enough."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).decode().rstrip("=")


def add_user(uow_factory: UowFactory, clock: Clock, name: str, role: str) -> tuple[User, str]:
    """Create a user; returns it with its new bearer token (the only time the token exists in clear)."""
    if not _NAME.match(name):
        raise ValidationFailed("a user name is 1–100 letters, digits or . _ @ - and starts with a letter or digit",
                               "user_name_invalid")
    try:
        role_ = Role(role)
    except ValueError:
        raise ValidationFailed(f"role must be one of {', '.join(Role)}", "role_invalid") from None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow_factory() as uow:
        user = uow.users.add(name, role_.value, token_hash(token), clock.now())
        uow.commit()
    return user, token


def authenticate(uow_factory: UowFactory, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with uow_factory() as uow:
        return uow.users.by_token_hash(token_hash(token))


def list_users(uow_factory: UowFactory) -> list[User]:
    with uow_factory() as uow:
        return uow.users.all()
