"""One benchmark step in its own process (so peak RSS is that step's): prints one JSON line."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from datetime import date

from sqlalchemy import text

from bench.generate import generate_due_parents
from continuity.adapters.clock import FixedClock
from continuity.adapters.migrate import upgrade
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job
from continuity.services.ports import GatewayOutcome, GatewayResult

AS_OF = date(2026, 11, 23)


class ApprovingGateway:
    """In-memory gateway: measures the job, not the test connector's ledger writes."""

    def capture(self, token, amount, key, authorization=""):  # type: ignore[no-untyped-def]
        return GatewayResult(GatewayOutcome.APPROVED, "bench", "")

    def authorize(self, token, amount, key):  # type: ignore[no-untyped-def]
        return GatewayResult(GatewayOutcome.APPROVED, "bench", "")


def main(url: str, step: str, n: int) -> None:
    if step in ("baseline-same-shape", "baseline-floor"):  # on a copy of the database file: the jobs still find
        url = _copy_of(url)  # their work
    app = bootstrap(Settings(url, None, None), clock=FixedClock(AS_OF), gateway=ApprovingGateway())
    cpu = _cpu_seconds()
    started = time.perf_counter()
    counts: dict = {}
    if step == "generate":
        upgrade(app.engine)
        generate_due_parents(app.engine, n, AS_OF, program_id="BOOKCLUB")
        _settle(app.engine)
    elif step == "baseline":
        _baseline(app.engine)
    elif step == "baseline-same-shape":
        _baseline_same_shape(app.engine)
    elif step == "baseline-floor":
        seconds = _baseline_floor(app.engine)
    else:
        counts = run_job(app.job_deps(), step, JobRequest(AS_OF, chunk_size=20000))["counts"]
    if step != "baseline-floor":  # the floor times its writes only, not its set-up
        seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if step in ("baseline-same-shape", "baseline-floor"):
        app.engine.dispose()
        _remove(url)
    print(json.dumps({"step": step, "seconds": seconds, "cpu_seconds": cpu, "rss_mb": rss_mb, "counts": counts}))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _settle(engine) -> None:  # type: ignore[no-untyped-def]
    """Set-up, not measured: fold the generator's WAL into the database file and refresh statistics,
    so the first measured job does not pay for the generator's checkpoint."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # autocommit: a checkpoint cannot run inside a transaction
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.driver_connection.execute("ANALYZE")
    finally:
        raw.close()


def _baseline(engine) -> None:  # type: ignore[no-untyped-def]
    """The raw rate: one INSERT … SELECT copying the due occurrences into a plain table."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_baseline"))
        conn.execute(
            text(
                "CREATE TABLE bench_baseline (sales_id VARCHAR(60) PRIMARY KEY, parent VARCHAR(40), "
                "item_id VARCHAR(40), quantity INTEGER, price_minor BIGINT, ship_date DATE)"
            )
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO bench_baseline SELECT sales_id || '-1-' || CAST(seq AS VARCHAR(10)), sales_id, item_id, "
                "quantity, price_minor, ship_date FROM schedule_occurrences WHERE status = 'pending'"
            )
        )


def _baseline_same_shape(engine) -> None:  # type: ignore[no-untyped-def]
    """The raw rate of the same writes as create-child-orders: one INSERT … SELECT per table into the
    real sales_orders, sales_lines and installments (their indexes, the parents already in them) and
    one UPDATE of the occurrences, in one transaction on the bare sqlite3 connection (foreign-key
    checks off, as the job has them); no claiming, staging, chunks, expiry or hold checks, counting.
    SQLite only, run on a copy of the database file."""
    child = "o.sales_id || '-' || o.line_no || '-' || o.seq"
    due = "FROM schedule_occurrences o JOIN sales_orders so ON so.sales_id = o.sales_id WHERE o.status = 'pending'"
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO sales_orders (sales_id, account, order_date, currency, status, hold_reason, "
            f"is_continuity_parent, parent_sales_id, created_at) SELECT {child}, so.account, o.ship_date, "
            f"o.currency, 'open', '', 0, o.sales_id, '2026-11-23 00:00:00' {due}"
        )
        db.execute(
            "INSERT INTO sales_lines (sales_id, line_no, item_id, quantity, unit_price_minor, currency, "
            f"status, parent_sales_id, parent_line_no, parent_seq) SELECT {child}, 1, o.item_id, o.quantity, "
            f"o.price_minor, o.currency, 'open', o.sales_id, o.line_no, o.seq {due}"
        )
        db.execute(
            "INSERT INTO installments (sales_id, line_no, seq, due_date, amount_minor, currency, status, "
            f"parent_sales_id, parent_line_no, item_id) SELECT {child}, 0, 1, o.ship_date, "
            f"o.price_minor * o.quantity, o.currency, 'not_submitted', o.sales_id, o.line_no, o.item_id {due}"
        )
        db.execute(
            "UPDATE schedule_occurrences SET status = 'child_created', "
            "child_sales_id = sales_id || '-' || line_no || '-' || seq WHERE status = 'pending'"
        )
        db.execute("COMMIT")
    finally:
        raw.close()


def _baseline_floor(engine) -> float:  # type: ignore[no-untyped-def]
    """The least any design can write for a child that is an ordinary sales order: its order row, its
    line row, and the occurrence marked with it — three statements, each in its leanest form: the
    order and line tables WITHOUT ROWID (one B-tree each, no secondary index), no index on the
    occurrence's child column, no charge row, no claim, no chunks, no checks. SQLite only, on a copy
    of the database; the copies of the tables are made first and not timed. Returns the seconds of
    the three writes (one transaction)."""
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute(
            "CREATE TABLE floor_orders (sales_id VARCHAR(40) PRIMARY KEY, account VARCHAR(40) NOT NULL, "
            "order_date DATE NOT NULL, currency VARCHAR(3) NOT NULL, status VARCHAR(20) NOT NULL, "
            "parent_sales_id VARCHAR(40), created_at DATETIME NOT NULL) WITHOUT ROWID"
        )
        db.execute(
            "INSERT INTO floor_orders SELECT sales_id, account, order_date, currency, status, parent_sales_id, "
            "created_at FROM sales_orders"
        )
        db.execute(
            "CREATE TABLE floor_lines (sales_id VARCHAR(40), line_no INTEGER, item_id VARCHAR(40) NOT NULL, "
            "quantity INTEGER NOT NULL, unit_price_minor BIGINT NOT NULL, currency VARCHAR(3) NOT NULL, "
            "status VARCHAR(20) NOT NULL, parent_sales_id VARCHAR(40), parent_line_no INTEGER, "
            "parent_seq INTEGER, PRIMARY KEY (sales_id, line_no)) WITHOUT ROWID"
        )
        db.execute(
            "INSERT INTO floor_lines SELECT sales_id, line_no, item_id, quantity, unit_price_minor, currency, "
            "status, parent_sales_id, parent_line_no, parent_seq FROM sales_lines"
        )
        db.execute("DROP INDEX ix_schedule_occurrences_child_sales_id")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        child = "o.sales_id || '-' || o.line_no || '-' || o.seq"
        due = "FROM schedule_occurrences o JOIN sales_orders so ON so.sales_id = o.sales_id WHERE o.status = 'pending'"
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO floor_orders SELECT " + child + ", so.account, o.ship_date, o.currency, 'open', "
            "o.sales_id, '2026-11-23 00:00:00' " + due
        )
        db.execute(
            "INSERT INTO floor_lines SELECT " + child + ", 1, o.item_id, o.quantity, o.price_minor, "
            "o.currency, 'open', o.sales_id, o.line_no, o.seq " + due
        )
        db.execute(
            "UPDATE schedule_occurrences SET status = 'child_created', "
            "child_sales_id = sales_id || '-' || line_no || '-' || seq WHERE status = 'pending'"
        )
        db.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        raw.close()


def _copy_of(url: str) -> str:
    source = url.removeprefix("sqlite:///")
    target = source + ".same-shape"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(source + suffix):
            shutil.copyfile(source + suffix, target + suffix)
    return "sqlite:///" + target


def _remove(url: str) -> None:
    path = url.removeprefix("sqlite:///")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
