"""Job runs a dead worker left 'running': the heartbeat stops, and the next run marks them 'abandoned'.

A worker killed with SIGKILL never gets to finish its job_runs row. Every run refreshes its row's
heartbeat_at chunk by chunk; any run that starts first marks the rows still 'running' whose heartbeat
is older than CONTINUITY_JOB_STALE_MINUTES (default 15) 'abandoned'. The clock is the test's own.
(The SIGKILL itself: tests/integration/test_concurrency.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs_support import START, execute, job, rows

from bench.generate import generate_due_parents
from continuity.adapters.batch.job_runs import JobRunStore

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class StepClock:
    """today() is START; now() is where the test put it, plus ``step`` more at every call."""

    def __init__(self, at: datetime, step: timedelta = timedelta()) -> None:
        self.at, self.step = at, step

    def today(self):  # type: ignore[no-untyped-def]
        return START

    def now(self) -> datetime:
        now, self.at = self.at, self.at + self.step
        return now


def _runs(app) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    return {r[0]: r[1:] for r in rows(app, "SELECT run_id, status, error, finished_at FROM job_runs ORDER BY run_id")}


def test_a_run_left_running_with_an_old_heartbeat_is_abandoned_by_the_next_run_and_a_fresh_one_is_left_alone(app):
    store = JobRunStore(app.engine)
    killed = store.start("create-child-orders", START, {}, T0)  # its worker died at once: heartbeat T0
    beating = store.start("process-payments", START, {}, T0)
    store.beat(beating, T0 + timedelta(minutes=10))  # alive until 02:10, then killed too
    from_before = store.start("extend-lines", START, {}, T0)  # a row from before heartbeats existed
    execute(app, "UPDATE job_runs SET heartbeat_at = NULL WHERE run_id = :r", r=from_before)
    live = store.start("process-payments", START, {}, T0 + timedelta(minutes=20))  # still at work
    app.clock = StepClock(T0 + timedelta(minutes=15))

    job(app, "close-orders", START)  # 02:15: nothing is older than 15 minutes yet
    assert [r[0] for r in _runs(app).values()] == ["running"] * 4 + ["succeeded"]
    app.clock = StepClock(T0 + timedelta(minutes=16))
    job(app, "close-orders", START)  # 02:16: the ones with no sign of life since 02:00 are
    assert [r[0] for r in _runs(app).values()] == ["abandoned", "running", "abandoned", "running"] + ["succeeded"] * 2

    app.clock = StepClock(T0 + timedelta(minutes=26))
    job(app, "close-orders", START)  # 02:26: 16 minutes after 02:10, 26 after 02:00; the live one beat at 02:20

    runs = _runs(app)
    assert {run_id: runs[run_id][0] for run_id in (killed, beating, from_before, live)} == {
        killed: "abandoned",
        beating: "abandoned",
        from_before: "abandoned",
        live: "running",
    }
    assert runs[beating][1] == (
        "no heartbeat since 2026-11-23 02:10:00 UTC; the worker was probably killed — the next run finishes its work"
    )
    assert "since 2026-11-23 02:00:00 UTC" in runs[from_before][1] and runs[live][1:] == ("", None)
    assert [r[0] for r in rows(app, "SELECT status FROM job_runs WHERE run_id > :r ORDER BY run_id", r=live)] == [
        "succeeded"
    ] * 3
    assert rows(app, "SELECT COUNT(*) FROM job_runs WHERE status = 'abandoned' AND finished_at IS NULL") == [(0,)]
    shown = {r.run_id: r.as_json() for r in store.recent()}
    assert shown[beating]["status"] == "abandoned" and shown[beating]["finished_at"].startswith("2026-11-23T02:26")


def test_the_limit_is_the_job_stale_minutes_setting(app):
    store = JobRunStore(app.engine)
    old = store.start("extend-lines", START, {}, T0)
    app.clock = StepClock(T0 + timedelta(minutes=9))
    deps = app.job_deps()
    deps.job_stale_minutes = 10
    job(app, "close-orders", START, deps=deps)
    assert _runs(app)[old][0] == "running"
    app.clock = StepClock(T0 + timedelta(minutes=11))
    deps.clock = app.clock
    job(app, "close-orders", START, deps=deps)
    assert _runs(app)[old][0] == "abandoned"


class RecordingRuns(JobRunStore):
    """The real store; every heartbeat write also reads back what the row holds at that moment."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        super().__init__(engine)
        self.seen: list[str] = []

    def beat(self, run_id: int, now: datetime) -> None:
        super().beat(run_id, now)
        self.seen.append(self.get(run_id).as_json()["heartbeat_at"])


def test_the_heartbeat_moves_on_chunk_by_chunk_during_a_run(app):
    generate_due_parents(app.engine, 12, START, program_id="TRILOGY")
    app.clock = StepClock(T0, step=timedelta(seconds=2))  # a slow run: 2 s of clock per clock reading
    deps = app.job_deps()
    deps.runs = RecordingRuns(app.engine)

    record = job(app, "create-child-orders", START, deps=deps, chunk_size=2)  # 6 chunks

    assert record["status"] == "succeeded" and record["counts"]["created"] == 12
    seen = deps.runs.seen
    assert 2 <= len(seen) <= 6, seen  # at most one write per chunk, and several over a long run
    assert seen == sorted(set(seen)), seen  # it moved forward at every write
    assert record["heartbeat_at"] == seen[-1] and seen[0] > record["started_at"]


def test_a_quick_run_writes_no_heartbeat_beyond_its_start(app):
    generate_due_parents(app.engine, 12, START, program_id="TRILOGY")
    app.clock = StepClock(T0)  # the clock does not move: well under the heartbeat interval
    deps = app.job_deps()
    deps.runs = RecordingRuns(app.engine)

    record = job(app, "create-child-orders", START, deps=deps, chunk_size=2)

    assert record["counts"]["created"] == 12 and deps.runs.seen == []
    assert record["heartbeat_at"] == record["started_at"]
