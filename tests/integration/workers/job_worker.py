"""A batch-job worker process for the concurrency tests, with optional crash injection.

    python job_worker.py URL JOB --as-of 2026-11-23 [--chunk-size 50] [--stale-after 60]
                         [--kill-at POINT --kill-after K] [--ready-file PATH]
                         [--gateway-concurrency N] [--latency-ms MS] [--gateway-rate R]

Runs one job exactly as the CLI does (``run_job`` with ``App.job_deps``) and prints its job-run
record as JSON. With ``--kill-at`` the process SIGKILLs itself at a precise point, the K-th time
it gets there, so that a crash lands where a test needs it:

* ``sql:<prefix>`` — right after the K-th statement starting with ``<prefix>`` ran, inside its
  still open transaction (e.g. ``sql:INSERT INTO sales_orders``: a child-order chunk half
  written; ``sql:INSERT INTO payment_attempts``: attempts claimed but not committed;
  ``sql:UPDATE payment_attempts``: gateway answered, result half written, no notice yet);
* ``gateway-before`` — the attempt is committed, the K-th gateway call is about to be made;
* ``gateway-after`` — the K-th gateway call was made (the gateway charged), its answer is lost.

The K-th call is a precise point when the calls go one at a time (``--gateway-concurrency 1``); with
the default pool (CONTINUITY_GATEWAY_CONCURRENCY's default) the calls around it are in flight too.
``--latency-ms`` is the test connector's latency (CONTINUITY_TEST_GATEWAY_LATENCY_MS).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import event

from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class _Counter:
    def __init__(self, after: int) -> None:
        self.left = after

    def hit(self) -> None:
        self.left -= 1
        if self.left <= 0:
            _die()


class CrashingGateway:
    """Wraps the real (test) gateway; dies before or after the K-th charging call."""

    def __init__(self, inner, when: str, counter: _Counter) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.when, self.counter = inner, when, counter

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def _charge(self, name: str, *args):  # type: ignore[no-untyped-def]
        if self.when == "gateway-before":
            self.counter.hit()
        result = getattr(self.inner, name)(*args)
        if self.when == "gateway-after":
            self.counter.hit()
        return result

    def capture(self, *args):  # type: ignore[no-untyped-def]
        return self._charge("capture", *args)

    def authorize(self, *args):  # type: ignore[no-untyped-def]
        return self._charge("authorize", *args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("job")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--stale-after", type=int, default=60)
    parser.add_argument("--kill-at", default="")
    parser.add_argument("--kill-after", type=int, default=1)
    parser.add_argument("--ready-file", default="")
    parser.add_argument("--gateway-concurrency", type=int, default=Settings.gateway_concurrency)
    parser.add_argument("--gateway-rate", type=float, default=Settings.gateway_rate)
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()

    app = bootstrap(
        Settings(
            args.url,
            None,
            None,
            gateway_concurrency=args.gateway_concurrency,
            gateway_rate=args.gateway_rate,
            test_gateway_latency_ms=args.latency_ms,
        )
    )
    counter = _Counter(args.kill_after)
    if args.kill_at.startswith("sql:"):
        prefix = args.kill_at[4:].strip().upper()

        @event.listens_for(app.engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith(prefix):
                counter.hit()
    elif args.kill_at in ("gateway-before", "gateway-after"):
        app.gateway = CrashingGateway(app.gateway, args.kill_at, counter)
    elif args.kill_at:
        parser.error(f"unknown kill point {args.kill_at}")

    if args.ready_file:  # a start line: imports are done, the job starts when the file appears
        Path(args.ready_file + ".up." + str(os.getpid())).touch()
        while not Path(args.ready_file).exists():
            time.sleep(0.005)
    deps = app.job_deps(stale_after_seconds=args.stale_after)
    record = run_job(deps, args.job, JobRequest(date.fromisoformat(args.as_of), chunk_size=args.chunk_size))
    print(json.dumps(record))


if __name__ == "__main__":
    main()
