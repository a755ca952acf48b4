"""Idempotency-Key records: one per (user, key), claimed with INSERT … ON CONFLICT DO NOTHING."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from continuity.adapters import orm
from continuity.services.ports import IdempotencyRecord

T = orm.idempotency_records


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, user_id: int, key: str, request_hash: str, method: str, path: str, now: datetime) -> bool:
        """Insert a running record; False when another request holds the key already."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        result = self.conn.execute(
            dialect.insert(T)
            .values(
                user_id=user_id,
                idempotency_key=key,
                request_hash=request_hash,
                method=method,
                path=path[:300],
                status="running",
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(T.c.user_id)
        )
        return result.first() is not None

    def get(self, user_id: int, key: str) -> IdempotencyRecord | None:
        row = self.conn.execute(select(T).where(T.c.user_id == user_id, T.c.idempotency_key == key)).first()
        if row is None:
            return None
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        return IdempotencyRecord(
            row.request_hash, row.status, row.response_status, row.response_content_type, row.response_body, created
        )

    def finish(
        self,
        user_id: int,
        key: str,
        status: str,
        response_status: int | None,
        content_type: str | None,
        body: str | None,
    ) -> None:
        self.conn.execute(
            update(T)
            .where(T.c.user_id == user_id, T.c.idempotency_key == key)
            .values(
                status=status, response_status=response_status, response_content_type=content_type, response_body=body
            )
        )

    def delete(self, user_id: int, key: str) -> None:
        self.conn.execute(delete(T).where(T.c.user_id == user_id, T.c.idempotency_key == key))

    def purge(self, user_id: int, created_before: datetime) -> None:
        self.conn.execute(delete(T).where(T.c.user_id == user_id, T.c.created_at < created_before))
