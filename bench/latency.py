"""The bench step ``process-payments-latency`` (issue 13): due charges against a gateway that answers in
BENCH_LATENCY_MS (default 50) ms, charged by real ``continuity worker --once`` processes.

BENCH_LATENCY_N (default 10000) due charges (REPLENISH parents, one installment due each; their child
orders made beforehand, untimed, so the nightly's create-child-orders does not compete). Runs:
one worker on SQLite and on PostgreSQL with no rate limit (CONTINUITY_GATEWAY_RATE=1000000), one worker
with CONTINUITY_GATEWAY_RATE=100 (on min(N, BENCH_RATE_N=2000) charges), and 2 and 4 workers sharing one
PostgreSQL database. charges/s is read from the test connector's own ledger: N / (last arrival − first
arrival + one latency); CPU s is the workers' (the test connector, standing for the gateway, runs in
them: on a real gateway its share is not ours); "vs limit" is that over workers × min(concurrency /
latency, rate); "busiest 1 s" the most captures that reached the connector in any one-second window;
"vs 1 worker" the PostgreSQL charges/s over the one-worker PostgreSQL figure of the same run. The
workers start their night together, as workers kept running do: ``--at`` the next whole second after
BENCH_START_AFTER (default 5) seconds, their imports (about a second each, on cores they share) done by
then. "all running" is the window when every worker was charging, from the last one's start of its
process-payments run to the first one's end of it (job_runs), with the charges/s inside it and its ratio
to one worker's (the same window of a lone worker: its whole run).
BENCH_LATENCY_CHUNK (default 200) is the workers' --chunk-size: small, so that at the end of a run of
N = 10,000 no worker is left alone with a large chunk.
Peak RSS is the largest worker's.

CPU per charge, a figure the load of a shared machine does not change: the workers' and (PostgreSQL on
this machine) the database's backends' CPU, read from /proc/<pid>/stat every SAMPLE seconds while the
workers run, over the window from the first to the last capture (so a worker's start, ~1 s of imports,
and the rest of its nightly sequence are left out), divided by the captures in that window. "worker ms"
includes the test connector (its ledger rows are written in groups: adapters/test_gateway_ledger.py).
"""

from __future__ import annotations

import bisect
import compileall
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, select, text

import continuity
from bench.generate import generate_due_parents
from continuity.adapters.clock import FixedClock
from continuity.adapters.db import make_engine
from continuity.adapters.migrate import upgrade
from continuity.adapters.orm import job_runs
from continuity.adapters.test_gateway_ledger import arrivals as ledger_arrivals
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

AS_OF = date(2026, 11, 23)
CLI = str(Path(sys.executable).with_name("continuity"))
UNLIMITED = 1_000_000.0
CONCURRENCY = 32
CHUNK = int(os.environ.get("BENCH_LATENCY_CHUNK", "200"))  # due charges a worker claims at once
START_AFTER = float(os.environ.get("BENCH_START_AFTER", "5"))  # seconds the workers have to start up
SAMPLE = 0.1  # seconds between two readings of the processes' CPU
TICK = os.sysconf("SC_CLK_TCK")
console = Console(width=260)


class CpuSampler:
    """The CPU seconds used so far by the worker processes and by the PostgreSQL backends serving the
    database ``url`` (found in pg_stat_activity through the ``postgres`` database, so the sampler's own
    backend is not counted), read every SAMPLE seconds from /proc: ``samples`` is (time, workers' CPU,
    backends' CPU). A backend that ended keeps its last reading; one /proc cannot show (PostgreSQL on
    another machine) leaves the backends' figure at None."""

    def __init__(self, url: str, pids: list[int]) -> None:
        self.pids, self.samples = pids, []  # type: ignore[var-annotated]
        self.database = url.rsplit("/", 1)[1] if url.startswith("postgresql") else None
        self.admin: Engine | None = create_engine(url.rsplit("/", 1)[0] + "/postgres") if self.database else None
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.admin is not None:
            self.admin.dispose()

    def _run(self) -> None:
        while not self._stop.is_set():
            workers = sum(_cpu_of(pid) or 0.0 for pid in self.pids)
            self.samples.append((time.time(), workers, self._backends()))
            self._stop.wait(SAMPLE)

    def _backends(self) -> float | None:
        if self.admin is None:
            return None
        with self.admin.connect() as conn:
            pids = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :db"), {"db": self.database}
            ).scalars()
            for pid in pids:
                cpu = _cpu_of(pid)
                if cpu is None:
                    return None  # not on this machine
                self._cpu[pid] = cpu
        return sum(self._cpu.values())

    def per_charge(self, arrivals: list[float]) -> tuple[float | None, float | None]:
        """(workers' ms, backends' ms) of CPU per capture, between the first sample after the first capture
        and the last sample before the last one."""
        inside = [s for s in self.samples if arrivals[0] <= s[0] <= arrivals[-1]]
        if len(inside) < 2:
            return None, None
        (t0, w0, b0), (t1, w1, b1) = inside[0], inside[-1]
        charges = bisect.bisect_right(arrivals, t1) - bisect.bisect_right(arrivals, t0)
        if not charges:
            return None, None
        backends = None if b0 is None or b1 is None else (b1 - b0) * 1000 / charges
        return (w1 - w0) * 1000 / charges, backends


def _cpu_of(pid: int) -> float | None:
    """The user + system CPU seconds of process ``pid`` so far (None: no such process here)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def run(label: str, url: str, n: int, workers: int, rate: float, latency_ms: int) -> list[str]:
    """Generate ``n`` due charges in the (empty) database at ``url``, charge them with ``workers`` worker
    processes at once; one table row."""
    _prepare(url, n)
    env = {
        **os.environ,
        "CONTINUITY_DATABASE_URL": url,
        "CONTINUITY_TODAY": AS_OF.isoformat(),
        "CONTINUITY_TEST_GATEWAY_LATENCY_MS": str(latency_ms),
        "CONTINUITY_GATEWAY_RATE": str(rate),
        "CONTINUITY_GATEWAY_CONCURRENCY": str(CONCURRENCY),
    }
    # the workers start their night together, at the next whole second after START_AFTER (their imports
    # done by then), as workers kept running start it at the time given by --at
    start = datetime.now().astimezone().replace(microsecond=0) + timedelta(seconds=START_AFTER + 1)
    command = [CLI, "worker", "--once", "--at", start.time().isoformat(), "--chunk-size", str(CHUNK)]
    with tempfile.TemporaryFile("w+") as err:
        procs = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err) for _ in range(workers)]
        sampler = CpuSampler(url, [proc.pid for proc in procs])
        watchdog = threading.Timer(START_AFTER + 600, lambda: [proc.kill() for proc in procs])
        watchdog.start()  # a worker that missed the start would wait for tomorrow's
        rss, cpu = 0.0, 0.0
        try:
            for proc in procs:
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                rss, cpu = max(rss, usage.ru_maxrss / 1024), cpu + usage.ru_utime + usage.ru_stime
        finally:
            sampler.stop()
            watchdog.cancel()
        if any(proc.returncode != 0 for proc in procs):
            err.seek(0)
            raise SystemExit(f"{label}: a worker failed or missed its start (BENCH_START_AFTER): {err.read()[-2000:]}")
    arrivals = _arrivals(url)
    if len(arrivals) != n:
        raise SystemExit(f"{label}: {len(arrivals)} captures at the gateway for {n} due charges")
    seconds = arrivals[-1] - arrivals[0] + latency_ms / 1000
    limit = workers * min(CONCURRENCY / (latency_ms / 1000), rate) if latency_ms else workers * rate
    worker_ms, backend_ms = sampler.per_charge(arrivals)
    steady = _all_running(url, arrivals)
    return [
        label,
        f"{n:,}",
        str(workers),
        "none" if rate >= UNLIMITED else f"{rate:g}/s",
        f"{seconds:.2f}",
        f"{n / seconds:,.0f}",
        "-",  # vs 1 worker: filled in by main
        f"{limit:,.0f}",
        f"{n / seconds / limit:.0%}",
        "-" if steady is None else f"{steady[0]:.2f}",
        "-" if steady is None else f"{steady[1]:,.0f}",
        "-",  # vs 1 worker, all running: filled in by main
        str(_busiest_second(arrivals)),
        f"{cpu:.1f}",
        _ms(worker_ms),
        _ms(backend_ms),
        _ms(None if worker_ms is None else worker_ms + (backend_ms or 0.0)),
        f"{rss:.0f}",
        f"{os.getloadavg()[0]:.1f}",
    ]


def _all_running(url: str, arrivals: list[float]) -> tuple[float, float] | None:
    """(seconds, charges/s) over the window when every worker was charging: from the last worker's start of
    its process-payments run to the first worker's end of it (job_runs; the run of each worker that
    charged anything). None when that window is under a second."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(
                select(job_runs.c.started_at, job_runs.c.finished_at, job_runs.c.counts).where(
                    job_runs.c.name == "process-payments"
                )
            ).all()
    finally:
        engine.dispose()
    charging = [(_stamp(r.started_at), _stamp(r.finished_at)) for r in runs if json.loads(r.counts).get("approved")]
    start, end = max(s for s, _ in charging), min(e for _, e in charging)
    if end - start < 1.0:
        return None
    inside = bisect.bisect_right(arrivals, end) - bisect.bisect_left(arrivals, start)
    return end - start, inside / (end - start)


def _stamp(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _prepare(url: str, n: int) -> None:
    """The due charges, and their child orders made beforehand (not timed): the workers' nightly then
    has little else to do while the captures are measured."""
    app = bootstrap(Settings(url, None, None), clock=FixedClock(AS_OF))
    try:
        upgrade(app.engine)
        generate_due_parents(
            app.engine, n, AS_OF, program_id="REPLENISH", prefix="L", due_occurrences=1, future_occurrences=2
        )
        run_job(app.job_deps(), "create-child-orders", JobRequest(AS_OF))
    finally:
        app.engine.dispose()


def _arrivals(url: str) -> list[float]:
    engine = make_engine(url)
    try:
        return ledger_arrivals(engine)
    finally:
        engine.dispose()


def _busiest_second(arrivals: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s) (two pointers over the sorted arrivals)."""
    best, start = 0, 0
    for end, t in enumerate(arrivals):
        while arrivals[start] <= t - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def main(postgres_url, drop) -> None:  # type: ignore[no-untyped-def]
    """``postgres_url()``: a fresh PostgreSQL database URL (or None); ``drop(url)`` removes it."""
    # the package's bytecode, as an installed package has it: an editable install under
    # PYTHONDONTWRITEBYTECODE=1 (this machine's setting) compiles every module at every worker's start
    compileall.compile_dir(str(Path(continuity.__file__).parent), quiet=1)
    n = int(os.environ.get("BENCH_LATENCY_N", "10000"))
    latency_ms = int(os.environ.get("BENCH_LATENCY_MS", "50"))
    rate_n = min(n, int(os.environ.get("BENCH_RATE_N", "2000")))
    rows = []
    if os.environ.get("BENCH_SQLITE", "1") != "0":
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
            rows.append(run("SQLite", f"sqlite:///{tmp}/a.db", n, 1, UNLIMITED, latency_ms))
            rows.append(run("SQLite", f"sqlite:///{tmp}/b.db", rate_n, 1, 100.0, latency_ms))
    one_worker = one_steady = None
    for workers in (1, 2, 4):
        url = postgres_url()
        if url is None:
            break
        try:
            row = run("PostgreSQL", url, n, workers, UNLIMITED, latency_ms)
        finally:
            drop(url)
        rate = float(row[5].replace(",", ""))
        one_worker = one_worker or rate
        row[6] = f"{rate / one_worker:.2f}x"
        if row[10] != "-":
            steady = float(row[10].replace(",", ""))
            one_steady = one_steady or steady
            row[11] = f"{steady / one_steady:.2f}x"
        rows.append(row)
    table = Table(
        title=f"process-payments-latency: {latency_ms} ms per gateway call, concurrency {CONCURRENCY} "
        "per worker (`continuity worker --once` processes; figures from the connector's ledger)"
    )
    for column in (
        "backend",
        "charges",
        "workers",
        "rate limit",
        "seconds",
        "charges/s",
        "vs 1 worker",
        "limit/s",
        "vs limit",
        "all running s",
        "all running charges/s",
        "vs 1 worker, all running",
        "busiest 1 s",
        "CPU s",
        "worker ms/charge",
        "PG ms/charge",
        "CPU ms/charge",
        "peak RSS MB",
        "load",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
