"""The append-only audit trail (the database refuses UPDATE and DELETE on audit_entries)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, insert, select

from continuity.adapters.orm_servicing import audit_entries
from continuity.domain.audit import Actor, ActorKind, AuditEntry, Entity
from continuity.services.ports import Clock


class AuditRepository:
    def __init__(self, conn: Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock

    def add(self, entry: AuditEntry, now: datetime | None = None) -> None:
        self.add_all([entry], now)

    def add_all(self, entries: list[AuditEntry], now: datetime | None = None) -> None:
        """Append entries at ``now`` (the unit of work's clock when the caller gives none)."""
        now = now or self.clock.now()
        if entries:
            self.conn.execute(insert(audit_entries), [_row(e, now) for e in entries])

    def for_order(self, sales_id: str) -> list[AuditEntry]:
        return self._select(audit_entries.c.sales_id == sales_id)

    def for_program(self, program_id: str) -> list[AuditEntry]:
        return self._select(audit_entries.c.program_id == program_id)

    def _select(self, condition: ColumnElement[bool]) -> list[AuditEntry]:
        t = audit_entries
        rows = self.conn.execute(select(t).where(condition).order_by(t.c.occurred_at.desc(), t.c.entry_id.desc()))
        return [_entry(r) for r in rows]


def dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _row(e: AuditEntry, now: datetime) -> dict[str, object]:
    return dict(
        occurred_at=e.occurred_at or now,
        actor=e.actor.name,
        actor_kind=e.actor.kind.value,
        entity=e.entity.value,
        entity_key=e.entity_key,
        sales_id=e.sales_id,
        program_id=e.program_id,
        action=e.action,
        before=dumps(e.before),
        after=dumps(e.after),
        reason=e.reason,
    )


def _entry(r: Row[Any]) -> AuditEntry:
    return AuditEntry(
        Actor(r.actor, ActorKind(r.actor_kind)),
        Entity(r.entity),
        r.entity_key,
        r.action,
        json.loads(r.before) if r.before else None,
        json.loads(r.after) if r.after else None,
        r.reason,
        r.sales_id,
        r.program_id,
        r.occurred_at,
        r.entry_id,
    )
