"""The hold codes set up in the hold_codes table (the built-in ones are in domain/holds.py)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from continuity.adapters import orm
from continuity.domain.holds import HoldCode, HoldKind


class HoldCodeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def listed(self) -> list[HoldCode]:
        t = orm.hold_codes
        rows = self.conn.execute(select(t.c.code, t.c.description, t.c.kind).order_by(t.c.code))
        return [HoldCode(r.code, r.description, HoldKind(r.kind)) for r in rows]

    def add(self, code: HoldCode) -> bool:
        """Add ``code``; False when a code of that name is listed already (nothing written)."""
        t = orm.hold_codes
        if self.conn.execute(select(t.c.code).where(t.c.code == code.code)).first() is not None:
            return False
        self.conn.execute(insert(t).values(code=code.code, description=code.description, kind=code.kind.value))
        return True
