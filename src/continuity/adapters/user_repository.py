"""API users: name, role and the hash of their bearer token."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from continuity.adapters import orm
from continuity.domain.errors import RuleViolation
from continuity.domain.users import Role, User


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
        row = self.conn.execute(select(t).where(t.c.token_hash == token_hash)).first()
        return None if row is None else User(row.user_id, row.name, Role(row.role))

    def all(self) -> list[User]:
        t = orm.users
        return [User(r.user_id, r.name, Role(r.role)) for r in self.conn.execute(select(t).order_by(t.c.name))]
