"""The job_runs records: one row per run, written at start and at the end, with a heartbeat between."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import ColumnElement, Engine, String, func, insert, literal, select, update

from continuity.adapters.orm import job_runs


class JobRunStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, name: str, as_of: date, filters: dict, now: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                insert(job_runs)
                .values(
                    name=name,
                    as_of=as_of,
                    filters=json.dumps(filters),
                    counts="{}",
                    status="running",
                    error="",
                    started_at=now,
                    heartbeat_at=now,
                )
                .returning(job_runs.c.run_id)
            ).scalar_one()

    def beat(self, run_id: int, now: datetime) -> None:
        """The run is alive and making progress."""
        with self.engine.begin() as conn:
            conn.execute(update(job_runs).where(job_runs.c.run_id == run_id).values(heartbeat_at=now))

    def abandon_stale(self, older: datetime, now: datetime, reason: str) -> int:
        """Runs still 'running' with no heartbeat (else start) since before ``older`` become 'abandoned',
        in one UPDATE; ``reason`` is the error text, its ``{since}`` that last sign of life (UTC)."""
        since = func.coalesce(job_runs.c.heartbeat_at, job_runs.c.started_at)
        before, _, after = reason.partition("{since}")
        error = literal(before, String) + _utc_text(self.engine.dialect.name, since) + literal(after, String)
        with self.engine.begin() as conn:
            return conn.execute(
                update(job_runs)
                .where(job_runs.c.status == "running", since < older)
                .values(status="abandoned", finished_at=now, error=error)
            ).rowcount

    def finish(self, run_id: int, status: str, counts: dict, error: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(job_runs)
                .where(job_runs.c.run_id == run_id)
                .values(status=status, counts=json.dumps(counts), error=error, finished_at=now)
            )

    def get(self, run_id: int) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(select(job_runs).where(job_runs.c.run_id == run_id)).one()
        return _view(row)

    def recent(self, limit: int = 50, before: int | None = None) -> list[dict]:
        query = select(job_runs).order_by(job_runs.c.run_id.desc()).limit(limit)
        if before:
            query = query.where(job_runs.c.run_id < before)
        with self.engine.connect() as conn:
            return [_view(r) for r in conn.execute(query)]


def _utc_text(dialect: str, instant: ColumnElement) -> ColumnElement[str]:
    """'YYYY-MM-DD HH:MM:SS UTC' (SQLite keeps instants as UTC text, PostgreSQL as timestamptz)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", instant), 'YYYY-MM-DD HH24:MI:SS "UTC"', type_=String)
    return func.strftime("%Y-%m-%d %H:%M:%S UTC", instant, type_=String)


def _view(row) -> dict:  # type: ignore[no-untyped-def]
    return {
        "run_id": row.run_id,
        "name": row.name,
        "as_of": row.as_of.isoformat(),
        "filters": json.loads(row.filters),
        "counts": json.loads(row.counts),
        "status": row.status,
        "error": row.error,
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "heartbeat_at": row.heartbeat_at.isoformat() if row.heartbeat_at else None,
    }
