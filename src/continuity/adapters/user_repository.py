"""API users: name, role, the hash of their bearer token, and whether they are disabled."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from continuity.adapters import orm
from continuity.adapters.orm_web import web_sessions
from continuity.domain.errors import RuleViolation
from continuity.domain.users import Role, User

REVOKED = "!"  # a revoked token's hash starts with it: base64url (what a token hashes to) never does


def revoked_token_hash() -> str:
    """A unique value no token hashes to (token_hash stays NOT NULL UNIQUE)."""
    return REVOKED + secrets.token_hex(24)


def user_of(row: Row[Any]) -> User:
    return User(
        row.user_id,
        row.name,
        Role(row.role),
        disabled=row.disabled_at is not None,
        has_token=not row.token_hash.startswith(REVOKED),
    )


def end_credentials(conn: Connection, user_id: int) -> None:
    """Revoke the user's API token and end every web session of theirs (in the caller's transaction)."""
    conn.execute(update(orm.users).where(orm.users.c.user_id == user_id).values(token_hash=revoked_token_hash()))
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


class UserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, name: str, role: str, token_hash: str, now: datetime) -> User:
        t = orm.users
        if self.conn.execute(select(t.c.user_id).where(t.c.name == name)).first():
            raise RuleViolation(f"there is already a user named {name!r}", "user_exists")
        user_id = self.conn.execute(
            insert(t).values(name=name, role=role, token_hash=token_hash, created_at=now).returning(t.c.user_id)
        ).scalar_one()
        return User(user_id, name, Role(role))

    def by_token_hash(self, token_hash: str) -> User | None:
        t = orm.users
        row = self.conn.execute(select(t).where(t.c.token_hash == token_hash, t.c.disabled_at.is_(None))).first()
        return None if row is None else user_of(row)

    def named(self, name: str) -> User | None:
        t = orm.users
        row = self.conn.execute(select(t).where(t.c.name == name).with_for_update()).first()
        return None if row is None else user_of(row)

    def all(self) -> list[User]:
        t = orm.users
        return [user_of(r) for r in self.conn.execute(select(t).order_by(t.c.name))]

    def end_credentials(self, user_id: int) -> None:
        end_credentials(self.conn, user_id)

    def revoke_token(self, user_id: int) -> None:
        self.set_token_hash(user_id, revoked_token_hash())

    def set_token_hash(self, user_id: int, token_hash: str) -> None:
        self.conn.execute(update(orm.users).where(orm.users.c.user_id == user_id).values(token_hash=token_hash))

    def set_disabled(self, user_id: int, disabled_at: datetime | None) -> None:
        self.conn.execute(update(orm.users).where(orm.users.c.user_id == user_id).values(disabled_at=disabled_at))
