"""One benchmark step in its own process (so peak RSS is that step's): prints one JSON line."""
from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date

from sqlalchemy import text

from continuity.adapters.batch.generate import generate_due_parents
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

    def capture(self, token, amount, key):  # type: ignore[no-untyped-def]
        return GatewayResult(GatewayOutcome.APPROVED, "bench", "")

    authorize = capture


def main(url: str, step: str, n: int) -> None:
    app = bootstrap(Settings(url, None, None), clock=FixedClock(AS_OF), gateway=ApprovingGateway())
    started = time.perf_counter()
    counts: dict = {}
    if step == "generate":
        upgrade(app.engine)
        generate_due_parents(app.engine, n, AS_OF, program_id="BOOKCLUB")
        _settle(app.engine)
    elif step == "baseline":
        _baseline(app.engine)
    else:
        counts = run_job(app.job_deps(), step, JobRequest(AS_OF, chunk_size=20000))["counts"]
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step": step, "seconds": seconds, "rss_mb": rss_mb, "counts": counts}))


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
        conn.execute(text("CREATE TABLE bench_baseline (sales_id VARCHAR(60) PRIMARY KEY, parent VARCHAR(40), "
                          "item_id VARCHAR(40), quantity INTEGER, price_minor BIGINT, ship_date DATE)"))
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO bench_baseline SELECT sales_id || '-1-' || CAST(seq AS VARCHAR(10)), sales_id, item_id, "
            "quantity, price_minor, ship_date FROM schedule_occurrences WHERE status = 'pending'"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
