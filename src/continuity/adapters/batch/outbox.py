"""The notification outbox: rows written with the change, claimed in chunks, marked when sent."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine

from continuity.adapters.batch.sql import skip_locked, sql_text, transaction
from continuity.services.jobs.ports import Send
from continuity.services.jobs.records import OutboxMessage


class OutboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def deliver_chunk(self, chunk: int, send: Send, now: datetime) -> tuple[int, int]:
        """Claim undelivered rows (SKIP LOCKED on PostgreSQL), send each, mark the ones sent.

        A crash after sending and before the commit sends those again: at least once."""
        with transaction(self.engine) as conn:
            rows = (
                conn.execute(
                    sql_text(
                        "SELECT n.notification_id, n.kind, n.account, n.sales_id, n.language, n.email, n.payload "
                        "FROM notifications n WHERE n.delivered_at IS NULL AND n.attempts < 10 "
                        "ORDER BY n.notification_id LIMIT :chunk" + skip_locked(conn, "n")
                    ),
                    {"chunk": chunk},
                )
                .mappings()
                .all()
            )
            sent: list[dict[str, object]] = []
            failed: list[dict[str, object]] = []
            for row in rows:
                error = send(
                    OutboxMessage(
                        row["notification_id"],
                        row["kind"],
                        row["account"],
                        row["sales_id"],
                        row["language"],
                        row["email"],
                        json.loads(row["payload"]),
                    )
                )
                (failed if error else sent).append({"id": row["notification_id"], "error": error or ""})
            if sent:
                conn.execute(
                    sql_text(
                        "UPDATE notifications SET delivered_at = :now, attempts = attempts + 1 "
                        "WHERE notification_id = :id"
                    ),
                    [{"id": s["id"], "now": now} for s in sent],
                )
            if failed:
                conn.execute(
                    sql_text(
                        "UPDATE notifications SET attempts = attempts + 1, last_error = :error "
                        "WHERE notification_id = :id"
                    ),
                    failed,
                )
        return len(sent), len(failed)

    def undelivered(self) -> int:
        with self.engine.connect() as conn:
            count: int = conn.execute(
                sql_text("SELECT COUNT(*) FROM notifications WHERE delivered_at IS NULL AND attempts < 10")
            ).scalar_one()
        return count
