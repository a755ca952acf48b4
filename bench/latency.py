"""The bench step ``process-payments-latency`` (issue 13): due charges against a gateway that answers in
BENCH_LATENCY_MS (default 50) ms, charged by real ``continuity worker --once`` processes.

BENCH_LATENCY_N (default 10000) due charges (REPLENISH parents, one installment due each; their child
orders made beforehand, untimed, so the nightly's create-child-orders does not compete). Runs:
one worker on SQLite and on PostgreSQL with no rate limit (CONTINUITY_GATEWAY_RATE=1000000), one worker
with CONTINUITY_GATEWAY_RATE=100 (on min(N, BENCH_RATE_N=2000) charges), and 2 and 4 workers sharing one
PostgreSQL database. charges/s is read from the test connector's own ledger: N / (last arrival − first
arrival + one latency); CPU s is the workers' (the test connector, standing for the gateway, runs in
them: on a real gateway its share is not ours); "vs limit" is that over workers × min(concurrency /
latency, rate); "busiest 1 s" the most captures that reached the connector in any one-second window.
Peak RSS is the largest worker's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import UTC, date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bench.generate import generate_due_parents
from continuity.adapters.clock import FixedClock
from continuity.adapters.db import make_engine
from continuity.adapters.migrate import upgrade
from continuity.adapters.test_gateway import gateway_ledger
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

AS_OF = date(2026, 11, 23)
CLI = str(Path(sys.executable).with_name("continuity"))
UNLIMITED = 1_000_000.0
CONCURRENCY = 32
console = Console(width=130)


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
    with tempfile.TemporaryFile("w+") as err:
        procs = [
            subprocess.Popen(
                [CLI, "worker", "--once", "--chunk-size", "500"], env=env, stdout=subprocess.DEVNULL, stderr=err
            )
            for _ in range(workers)
        ]
        rss, cpu = 0.0, 0.0
        for proc in procs:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            rss, cpu = max(rss, usage.ru_maxrss / 1024), cpu + usage.ru_utime + usage.ru_stime
        if any(proc.returncode != 0 for proc in procs):
            err.seek(0)
            raise SystemExit(f"{label}: a worker failed: {err.read()[-2000:]}")
    arrivals = _arrivals(url)
    if len(arrivals) != n:
        raise SystemExit(f"{label}: {len(arrivals)} captures at the gateway for {n} due charges")
    seconds = arrivals[-1] - arrivals[0] + latency_ms / 1000
    limit = workers * min(CONCURRENCY / (latency_ms / 1000), rate) if latency_ms else workers * rate
    return [
        label,
        f"{n:,}",
        str(workers),
        "none" if rate >= UNLIMITED else f"{rate:g}/s",
        f"{seconds:.2f}",
        f"{n / seconds:,.0f}",
        f"{limit:,.0f}",
        f"{n / seconds / limit:.0%}",
        str(_busiest_second(arrivals)),
        f"{cpu:.1f}",
        f"{rss:.0f}",
        f"{os.getloadavg()[0]:.1f}",
    ]


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
        with engine.connect() as conn:
            stamps = (
                conn.execute(
                    select(gateway_ledger.c.received_at)
                    .where(gateway_ledger.c.operation == "capture")
                    .order_by(gateway_ledger.c.received_at)
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    return [(s if s.tzinfo else s.replace(tzinfo=UTC)).timestamp() for s in stamps]


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
    n = int(os.environ.get("BENCH_LATENCY_N", "10000"))
    latency_ms = int(os.environ.get("BENCH_LATENCY_MS", "50"))
    rate_n = min(n, int(os.environ.get("BENCH_RATE_N", "2000")))
    rows = []
    if os.environ.get("BENCH_SQLITE", "1") != "0":
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
            rows.append(run("SQLite", f"sqlite:///{tmp}/a.db", n, 1, UNLIMITED, latency_ms))
            rows.append(run("SQLite", f"sqlite:///{tmp}/b.db", rate_n, 1, 100.0, latency_ms))
    for workers in (1, 2, 4):
        url = postgres_url()
        if url is None:
            break
        try:
            rows.append(run("PostgreSQL", url, n, workers, UNLIMITED, latency_ms))
        finally:
            drop(url)
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
        "limit/s",
        "vs limit",
        "busiest 1 s",
        "CPU s",
        "peak RSS MB",
        "load",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
