"""The job_runs records: one row per run, written at start and at the end, with a heartbeat between."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import ColumnElement, Engine, Row, String, func, insert, literal, select, update

from continuity.adapters.orm import job_runs
from continuity.services.jobs.records import JobRun, JobRunStatus


class JobRunStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, name: str, as_of: date, filters: Mapping[str, object], now: datetime) -> int:
        with self.engine.begin() as conn:
            run_id: int = conn.execute(
                insert(job_runs)
                .values(
                    name=name,
                    as_of=as_of,
                    filters=json.dumps(filters),
                    counts="{}",
                    status=JobRunStatus.RUNNING,
                    error="",
                    started_at=now,
                    heartbeat_at=now,
                )
                .returning(job_runs.c.run_id)
            ).scalar_one()
        return run_id

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
                .where(job_runs.c.status == JobRunStatus.RUNNING, since < older)
                .values(status=JobRunStatus.ABANDONED, finished_at=now, error=error)
            ).rowcount

    def finish(self, run_id: int, status: JobRunStatus, counts: Mapping[str, int], error: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(job_runs)
                .where(job_runs.c.run_id == run_id)
                .values(status=status, counts=json.dumps(counts), error=error, finished_at=now)
            )

    def get(self, run_id: int) -> JobRun:
        with self.engine.connect() as conn:
            row = conn.execute(select(job_runs).where(job_runs.c.run_id == run_id)).one()
        return _view(row)

    def recent(self, limit: int = 50, before: int | None = None) -> list[JobRun]:
        query = select(job_runs).order_by(job_runs.c.run_id.desc()).limit(limit)
        if before:
            query = query.where(job_runs.c.run_id < before)
        with self.engine.connect() as conn:
            return [_view(r) for r in conn.execute(query)]


def _utc_text(dialect: str, instant: ColumnElement[datetime]) -> ColumnElement[str]:
    """'YYYY-MM-DD HH:MM:SS UTC' (SQLite keeps instants as UTC text, PostgreSQL as timestamptz)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", instant), 'YYYY-MM-DD HH24:MI:SS "UTC"', type_=String)
    return func.strftime("%Y-%m-%d %H:%M:%S UTC", instant, type_=String)


def _view(row: Row[tuple[object, ...]]) -> JobRun:
    return JobRun(
        row.run_id,
        row.name,
        row.as_of,
        json.loads(row.filters),
        json.loads(row.counts),
        JobRunStatus(row.status),
        row.error,
        row.started_at,
        row.finished_at,
        row.heartbeat_at,
    )
