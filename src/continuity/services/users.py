"""API users: create one (its bearer token is shown once, only a hash is kept), authenticate, revoke a
token (optionally issuing a new one), disable and enable. Disabling ends the user's web sessions and
revokes the token; a disabled user is refused like an unknown one."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from continuity.domain.errors import NotFound, RuleViolation, ValidationFailed
from continuity.domain.free_text import checked_name
from continuity.domain.users import Role, User
from continuity.services.ports import Clock, UnitOfWork, UowFactory

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
TOKEN_PREFIX = "ct_"


def token_hash(token: str) -> str:
    """SHA-256 of the token, base64url: tokens are 256 random bits, so a fast hash is enough."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).decode().rstrip("=")


def add_user(uow_factory: UowFactory, clock: Clock, name: str, role: str) -> tuple[User, str]:
    """Create a user; returns it with its new bearer token (the only time the token exists in clear)."""
    if not _NAME.match(name):
        raise ValidationFailed(
            "a user name is 1–100 letters, digits or . _ @ - and starts with a letter or digit", "user_name_invalid"
        )
    checked_name(name, "name")
    try:
        role_ = Role(role)
    except ValueError:
        raise ValidationFailed(f"role must be one of {', '.join(Role)}", "role_invalid") from None
    token = new_token()
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


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def revoke_token(
    uow_factory: UowFactory, name: str, issue_new: bool = False, actor: str | None = None
) -> tuple[User, str | None]:
    """The user's API token stops working at once; with ``issue_new`` a new one is returned (shown once).
    An ``actor`` (the API caller) may revoke its own token only for a new one."""
    if actor == name and not issue_new:
        raise RuleViolation("revoking your own token without a new one would lock you out", "self_lockout")
    token = new_token() if issue_new else None
    with uow_factory() as uow:
        user = _named(uow, name)
        if token is None:
            uow.users.revoke_token(user.user_id)
        else:
            uow.users.set_token_hash(user.user_id, token_hash(token))
        user = _named(uow, name)
        uow.commit()
    return user, token


def disable_user(uow_factory: UowFactory, clock: Clock, name: str, actor: str | None = None) -> User:
    """No web login, no API token (revoked, not restored by enable), every web session ended. An
    ``actor`` (the API caller) may not disable itself."""
    if actor == name:
        raise RuleViolation("you cannot disable yourself", "self_lockout")
    with uow_factory() as uow:
        user = _named(uow, name)
        if not user.disabled:
            uow.users.set_disabled(user.user_id, clock.now())
        uow.users.end_credentials(user.user_id)
        user = _named(uow, name)
        uow.commit()
    return user


def enable_user(uow_factory: UowFactory, name: str) -> User:
    """The web password works again; an API token needs revoke_token(issue_new=True)."""
    with uow_factory() as uow:
        user = _named(uow, name)
        uow.users.set_disabled(user.user_id, None)
        user = _named(uow, name)
        uow.commit()
    return user


def _named(uow: UnitOfWork, name: str) -> User:
    user = uow.users.named(name)
    if user is None:
        raise NotFound(f"there is no user named {name!r}", "user_not_found")
    return user
