"""`continuity jobs …`, `continuity worker` and the child-order commands."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from datetime import date
from typing import Annotated, TypeVar

import typer
from dateutil import tz
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from continuity.bootstrap import bootstrap
from continuity.domain.calendar import parse_date, parse_time_of_day, seconds_until
from continuity.entrypoints.cli_output import console, emit, handles_errors, table
from continuity.services.jobs.context import JobDeps, JobRequest, NoProgress
from continuity.services.jobs.context import Progress as JobProgress
from continuity.services.jobs.liveness import reap_abandoned
from continuity.services.jobs.records import JobRunJson
from continuity.services.jobs.registry import JOBS, run_all, run_job

jobs_app = typer.Typer(help="The continuity batch jobs (each records a job run).", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Business date of the run (default: today).")]
Item = Annotated[str | None, typer.Option("--item", help="Only this continuity (parent) item.")]
SalesOrder = Annotated[str | None, typer.Option("--sales-order", help="Only this parent sales order.")]
T = TypeVar("T")
Chunk = Annotated[int, typer.Option("--chunk-size", min=1, help="Rows per chunk (one transaction each).")]


class RichProgress:
    """A Rich progress bar on a terminal; silent when output is piped or --json."""

    def __init__(self) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def start(self, description: str, total: int | None) -> None:
        self.task = self.bar.add_task(description, total=total)

    def advance(self, count: int) -> None:
        if self.task is not None:
            self.bar.advance(self.task, count)


def _progress(as_json: bool) -> RichProgress | _Quiet:
    return RichProgress() if sys.stdout.isatty() and not as_json else _Quiet()


def _on_day(
    as_of: str | None, as_json: bool, run: Callable[[JobDeps, date, JobProgress], T], render: Callable[[T], None]
) -> None:
    """``run`` with the jobs' collaborators on the business date ``as_of`` (default: today), with a
    progress bar on a terminal; then print what it returns (``render``, or JSON)."""
    app = bootstrap()
    day = parse_date(as_of) if as_of else app.clock.today()
    with _progress(as_json) as progress:
        result = run(app.job_deps(), day, progress)
    emit(result, as_json, render)


class _Quiet(NoProgress):
    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _render_runs(runs: list[JobRunJson]) -> None:
    table(
        "Job runs",
        ["run", "job", "as_of", "status", "counts"],
        [[r["run_id"], r["name"], r["as_of"], r["status"], _outcome(r)] for r in runs],
    )
    for r in runs:
        for d in r.get("details", []):
            console.print(
                f"{d['sales_id']} line {d['line_no']}: +{len(d['added'])} ~{len(d['changed'])} "
                f"-{len(d['removed'])} occurrences, {len(d['installments'])} installments"
            )
            for c in d["changed"]:
                console.print(f"  seq {c['before']['seq']}: {c['before']} → {c['after']}")


def _outcome(run: JobRunJson) -> str:
    """The counts; for a run that did not succeed, why (abandoned: no heartbeat since …)."""
    counts = ", ".join(f"{k}={v}" for k, v in run["counts"].items() if v)
    if run["status"] == "succeeded":
        return counts or "nothing to do"
    return "; ".join(part for part in (counts, run["error"]) if part) or "—"


def _register(name: str) -> None:
    doc = (JOBS[name].__doc__ or name).strip().splitlines()[0]

    @jobs_app.command(name, help=doc)
    @handles_errors
    def command(
        as_of: AsOf = None,
        item: Item = None,
        sales_order: SalesOrder = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="continuity-update, tax-rate-change: list the changes, write nothing.")
        ] = False,
        chunk_size: Chunk = 2000,
        as_json: Json = False,
    ) -> None:
        _on_day(
            as_of,
            as_json,
            lambda deps, day, progress: run_job(
                deps, name, JobRequest(day, item, sales_order, dry_run, chunk_size), progress
            ),
            lambda r: _render_runs([r]),
        )


for _name in JOBS:
    _register(_name)


@jobs_app.command("run-all")
@handles_errors
def jobs_run_all(
    as_of: AsOf = None,
    fulfil: Annotated[
        bool, typer.Option("--fulfil", help="Also release and ship paid child orders (simulation of the warehouse).")
    ] = False,
    chunk_size: Chunk = 2000,
    as_json: Json = False,
) -> None:
    """The nightly sequence for one as-of date."""
    _on_day(
        as_of,
        as_json,
        lambda deps, day, progress: run_all(deps, JobRequest(day, chunk_size=chunk_size), progress, fulfil=fulfil),
        _render_runs,
    )


@jobs_app.command("runs")
@handles_errors
def jobs_runs(limit: int = 20, as_json: Json = False) -> None:
    """The most recent job runs with their counts."""
    app = bootstrap()
    emit([run.as_json() for run in app.job_deps().runs.recent(limit)], as_json, _render_runs)


@jobs_app.command("reap")
@handles_errors
def jobs_reap(as_json: Json = False) -> None:
    """Mark runs left running by a killed worker (no heartbeat for CONTINUITY_JOB_STALE_MINUTES) abandoned."""
    app = bootstrap()
    deps = app.job_deps()
    result = {"abandoned": reap_abandoned(deps), "stale_minutes": deps.job_stale_minutes}
    emit(
        result,
        as_json,
        lambda r: console.print(
            f"{r['abandoned']} job run(s) marked abandoned (no heartbeat for {r['stale_minutes']} minutes)"
        ),
    )


def worker(
    interval: Annotated[float, typer.Option(help="Seconds between nightly sequences.")] = 3600,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Run the sequence each day at this local time, HH:MM[:SS], instead of every --interval "
            "seconds (with --once: at its next occurrence). Workers started at different moments start "
            "their night together.",
        ),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run the sequence once and stop.")] = False,
    fulfil: Annotated[bool, typer.Option("--fulfil", help="Also ship paid child orders.")] = False,
    chunk_size: Chunk = 2000,
) -> None:
    """Run the nightly sequence continuously; stops cleanly on SIGTERM or Ctrl-C."""
    moment = parse_time_of_day(at) if at is not None else None  # a bad time: one line, before any work
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    app = bootstrap()
    app.check_gateway()  # a missing or refused key stops the worker here, in one line
    deps = app.job_deps()
    while not stop.is_set():
        if moment is not None:
            console.print(f"worker: next sequence at {moment.isoformat()}")
            if stop.wait(seconds_until(moment, app.clock.now(), tz.tzlocal())):
                break
        runs = run_all(deps, JobRequest(app.clock.today(), chunk_size=chunk_size), fulfil=fulfil, stop=stop.is_set)
        console.print(f"worker: ran {len(runs)} jobs for {app.clock.today()}")
        if once:
            break
        if moment is None:
            stop.wait(interval)
    console.print("worker stopped")
