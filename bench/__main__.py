"""`make bench`: time the batch jobs on N generated due parents, SQLite and PostgreSQL.

BENCH_N (default 100000; a comma list such as "100000,1000000" also prints each job's scaling ratio),
BENCH_PG=0 skips PostgreSQL, BENCH_SQLITE=0 skips SQLite, BENCH_DIR is where the SQLite file goes
(default: the system's temporary directory), BENCH_JOBS (a comma list; default all five) picks the
jobs timed (process-payments brings create-child-orders along: the generated parents are billed
per shipment, so the charges are the child orders'). Each step runs in its own process; rows/s is
due parents per second; wall seconds, CPU seconds of the step's process, and the load average when
the step ended are printed (the machine is shared). The step ``process-payments-latency`` (in the
default BENCH_JOBS) charges against a gateway answering in 50 ms with real worker processes: see
bench/latency.py (BENCH_LATENCY_N, default 10000; BENCH_LATENCY_MS; BENCH_RATE_N). The step
``dunning-recovery`` (default too) compares the dunning policy's recovery rate with a daily retry's:
bench/recovery.py (BENCH_RECOVERY_N, default 5000; BENCH_RECOVERY_SEED).

Baselines, measured in the same run: ``baseline`` is a raw INSERT … SELECT of the same number of rows
into one plain table (the issue's definition, unchanged); ``baseline-same-shape`` (SQLite) is the raw
rate of the writes create-child-orders has to do — one INSERT … SELECT into each of sales_orders,
sales_lines and installments with their indexes, one UPDATE of the occurrences — on a copy of the
database. "vs baseline" is against the first; "vs same shape" against the second. ``baseline-floor``
(SQLite) is the least any design can write for a child that is an ordinary sales order (an order
row, a line row, the occurrence marked), each write in its leanest form (tables WITHOUT ROWID, no
secondary index, no charge row): it shows how far the "vs baseline" column can go at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

JOBS = ["create-child-orders", "process-payments", "invoice-shipped", "close-orders", "extend-lines"]
JOBS = [
    j
    for j in os.environ.get("BENCH_JOBS", ",".join(JOBS + ["process-payments-latency", "dunning-recovery"])).split(",")
    if j
]
LATENCY = "process-payments-latency" in JOBS  # its own runs (bench/latency.py), after the others
RECOVERY = "dunning-recovery" in JOBS  # no database: the dunning policy over 12 months (bench/recovery.py)
JOBS = [j for j in JOBS if j not in ("process-payments-latency", "dunning-recovery")]
if "process-payments" in JOBS and "create-child-orders" not in JOBS:
    JOBS.insert(JOBS.index("process-payments"), "create-child-orders")  # it makes the charges (per shipment)
PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
console = Console(width=130)


def step(url: str, name: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.run_one", url, name, str(n)], check=True, capture_output=True, text=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load"] = os.getloadavg()[0]
    return result


def bench_backend(label: str, url: str, n: int) -> dict:
    results = {"generate": step(url, "generate", n), "baseline": step(url, "baseline", n)}
    if url.startswith("sqlite"):
        results["baseline-same-shape"] = step(url, "baseline-same-shape", n)
        results["baseline-floor"] = step(url, "baseline-floor", n)
    for job in JOBS:
        results[job] = step(url, job, n)
    table = Table(title=f"{label}, N = {n:,} due parents (baseline: raw INSERT … SELECT of N rows)")
    for column in (
        "step",
        "seconds",
        "CPU s",
        "rows/s",
        "vs baseline",
        "vs same shape",
        "peak RSS MB",
        "load",
        "counts",
    ):
        table.add_column(column)
    base_rate = n / results["baseline"]["seconds"]
    shape = results.get("baseline-same-shape")
    for name, r in results.items():
        rate = n / r["seconds"]
        table.add_row(
            name,
            f"{r['seconds']:.2f}",
            f"{r['cpu_seconds']:.2f}",
            f"{rate:,.0f}",
            f"{rate / base_rate:.0%}",
            f"{rate / (n / shape['seconds']):.0%}" if shape else "-",
            f"{r['rss_mb']:.0f}",
            f"{r['load']:.1f}",
            ", ".join(f"{k}={v}" for k, v in r["counts"].items() if v),
        )
    console.print(table)
    return results


def postgres_url() -> str | None:
    if os.environ.get("BENCH_PG", "1") == "0":
        return None
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"continuity_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    except Exception as exc:  # noqa: BLE001
        console.print(f"PostgreSQL skipped: {exc}")
        return None


def drop_postgres(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_N", "100000").split(",")] if JOBS else []
    timings: dict[tuple[str, int], dict] = {}
    for n in sizes:
        if os.environ.get("BENCH_SQLITE", "1") != "0":
            with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
                timings[("SQLite", n)] = bench_backend("SQLite", f"sqlite:///{tmp}/bench.db", n)
        pg = postgres_url()
        if pg:
            try:
                timings[("PostgreSQL", n)] = bench_backend("PostgreSQL", pg, n)
            finally:
                drop_postgres(pg)
    if len(sizes) > 1:
        print_ratios(timings, min(sizes), max(sizes))
    if RECOVERY:
        from bench import recovery

        recovery.main()
    if LATENCY:
        from bench import latency

        latency.main(postgres_url, drop_postgres)


def print_ratios(timings: dict[tuple[str, int], dict], small: int, large: int) -> None:
    """time(large) / time(small) of each job: linear is large / small (CPU s: the bench process's own)."""
    for backend in ("SQLite", "PostgreSQL"):
        if (backend, small) not in timings or (backend, large) not in timings:
            continue
        for job in JOBS:
            a, b = timings[(backend, small)][job], timings[(backend, large)][job]
            cpu = f", CPU s {b['cpu_seconds'] / a['cpu_seconds']:.2f}" if a["cpu_seconds"] >= 0.5 else ""
            console.print(
                f"{backend} {job} time({large:,}) / time({small:,}) = {b['seconds'] / a['seconds']:.2f}"
                f"{cpu} (linear would be {large / small:.0f})"
            )


if __name__ == "__main__":
    main()
