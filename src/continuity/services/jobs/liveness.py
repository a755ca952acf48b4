"""Is a job run still alive? A heartbeat while it makes progress, and the reaper for runs whose worker
died (SIGKILL, a lost machine) and left them 'running': the next run marks them 'abandoned'. Every
job is idempotent and catches up, so that next run also finishes what the dead one left."""

from __future__ import annotations

from datetime import datetime, timedelta

from continuity.services.jobs.context import JobDeps, Progress, is_silent
from continuity.services.jobs.ports import JobRuns
from continuity.services.ports import Clock

#: At most one heartbeat write per this much of the clock, however small the chunks.
HEARTBEAT_EVERY = timedelta(seconds=5)
ABANDONED = "no heartbeat since {since}; the worker was probably killed — the next run finishes its work"


class Heartbeat:
    """The job's progress passed through; each ``advance`` (once per chunk) refreshes the run's
    heartbeat when HEARTBEAT_EVERY has passed since the last one (one small UPDATE)."""

    def __init__(self, inner: Progress, runs: JobRuns, clock: Clock, run_id: int, started: datetime) -> None:
        self.inner, self.runs, self.clock, self.run_id, self.last = inner, runs, clock, run_id, started
        self.silent = is_silent(inner)

    def start(self, description: str, total: int | None) -> None:
        self.inner.start(description, total)

    def advance(self, count: int) -> None:
        self.inner.advance(count)
        now = self.clock.now()
        if now - self.last >= HEARTBEAT_EVERY:
            self.runs.beat(self.run_id, now)
            self.last = now


def reap_abandoned(deps: JobDeps) -> int:
    """Mark runs still 'running' with no heartbeat for ``deps.job_stale_minutes`` 'abandoned';
    returns how many."""
    now = deps.clock.now()
    return deps.runs.abandon_stale(now - timedelta(minutes=deps.job_stale_minutes), now, ABANDONED)
