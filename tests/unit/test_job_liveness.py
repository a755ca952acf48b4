"""The job-run heartbeat is throttled by the injected clock; the stale limit comes from the settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from continuity.config import Settings
from continuity.domain.errors import ValidationFailed
from continuity.services.jobs.context import JobDeps, NoProgress, is_silent
from continuity.services.jobs.liveness import ABANDONED, HEARTBEAT_EVERY, Heartbeat, reap_abandoned

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class ManualClock:
    def __init__(self) -> None:
        self.at = T0

    def today(self) -> date:
        return self.at.date()

    def now(self) -> datetime:
        return self.at


class FakeRuns:
    def __init__(self) -> None:
        self.beats: list[tuple[int, datetime]] = []
        self.reaped: list[tuple[datetime, datetime, str]] = []

    def beat(self, run_id: int, now: datetime) -> None:
        self.beats.append((run_id, now))

    def abandon_stale(self, older: datetime, now: datetime, reason: str) -> int:
        self.reaped.append((older, now, reason))
        return 2


class CountingProgress:
    def __init__(self) -> None:
        self.advanced = 0

    def start(self, description: str, total: int | None) -> None:
        return None

    def advance(self, count: int) -> None:
        self.advanced += count


def test_the_heartbeat_writes_at_most_once_per_interval_of_the_clock_and_passes_progress_on():
    clock, runs, inner = ManualClock(), FakeRuns(), CountingProgress()
    heartbeat = Heartbeat(inner, runs, clock, 7, clock.now())
    assert HEARTBEAT_EVERY == timedelta(seconds=5)

    for _ in range(12):  # twelve chunks, one second of clock apart
        clock.at += timedelta(seconds=1)
        heartbeat.advance(3)

    assert inner.advanced == 36
    assert runs.beats == [(7, T0 + timedelta(seconds=5)), (7, T0 + timedelta(seconds=10))]


def test_a_heartbeat_around_silent_progress_is_silent_too():
    clock, runs = ManualClock(), FakeRuns()
    assert is_silent(Heartbeat(NoProgress(), runs, clock, 1, T0))
    assert not is_silent(Heartbeat(CountingProgress(), runs, clock, 1, T0))


def test_the_reaper_asks_for_runs_with_no_heartbeat_for_the_stale_limit():
    clock, runs = ManualClock(), FakeRuns()
    deps = JobDeps(
        uow=None,
        gateway=None,
        clock=clock,
        runs=runs,
        child_orders=None,  # type: ignore[arg-type]
        payments=None,
        schedules=None,
        outbox=None,
        lifecycle=None,
        card_expiry=None,
        job_stale_minutes=20,
    )

    assert reap_abandoned(deps) == 2
    assert runs.reaped == [(T0 - timedelta(minutes=20), T0, ABANDONED)]
    assert ABANDONED.startswith("no heartbeat since {since}; the worker was probably killed")


def test_the_stale_limit_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("CONTINUITY_JOB_STALE_MINUTES", raising=False)
    assert Settings.from_env().job_stale_minutes == 15
    monkeypatch.setenv("CONTINUITY_JOB_STALE_MINUTES", "40")
    assert Settings.from_env().job_stale_minutes == 40
    for bad in ("0", "-5", "ten", "1.5"):
        monkeypatch.setenv("CONTINUITY_JOB_STALE_MINUTES", bad)
        with pytest.raises(ValidationFailed, match="CONTINUITY_JOB_STALE_MINUTES"):
            Settings.from_env()
