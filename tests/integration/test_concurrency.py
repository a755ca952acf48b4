"""Several worker processes over the same due work, and workers killed with SIGKILL mid-run.

Issue 3 ("Two to four concurrent worker processes on PostgreSQL over the same due work: zero
duplicate and zero missing child orders and charges; one worker killed with SIGKILL mid-run, then
a rerun: same") and RELIABILITY-REFERENCE R1 (concurrent child-order run with a kill -9), R2
(payment crash matrix), R5 (double dispatch) and R12 (SQLite: several processes, BEGIN IMMEDIATE,
no "database is locked" reaching a caller).

The due work is generated set-based (``bench.generate``): TRILOGY parents are
billed per shipment, so every child order gets one installment that process-payments charges;
REPLENISH parents are billed up front in installments (two of them due). Some cards decline, some
time out (the test gateway charges but does not answer), some are expired (their children are
skipped). The workers are real OS processes: the ``continuity`` CLI, or
``workers/job_worker.py`` (the same ``run_job``, plus a SIGKILL at a chosen point). Every test
ends with the same invariants, checked with SQL against the database and the gateway's ledger.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from jobs_support import LEDGER_DIFFERS_FROM_ATTEMPT, LEDGER_KEYS_WITHOUT_ATTEMPT
from sqlalchemy import create_engine, text

from bench.generate import generate_due_parents
from continuity.adapters.clock import FixedClock
from continuity.adapters.migrate import upgrade
from continuity.adapters.orm import metadata
from continuity.adapters.test_gateway_ledger import create_ledger, ledger_metadata
from continuity.bootstrap import App, bootstrap
from continuity.config import Settings
from continuity.domain.calendar import add_days, add_months
from continuity.domain.dunning import DunningPolicy
from continuity.services.jobs.charging import charge_claimed
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.records import ClaimQuery
from continuity.services.jobs.registry import run_job

AS_OF = date(2026, 11, 23)
LEAD_DAYS = 5  # the demo's delivery_lead_days: occurrences shipping up to AS_OF + 5 are due
WORKER = Path(__file__).parent / "workers" / "job_worker.py"
CONTINUITY = Path(sys.executable).with_name("continuity")
LOCKED = "database is locked"


# -- databases --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_module_url(postgres_database_url):
    """This module's own PostgreSQL database (same server as the run's; fails in CI when it is down).

    synchronous_commit is off for it: commits do not wait for the WAL flush (a server crash could lose
    the last commits; a killed *client*, which is what these tests do, changes nothing)."""
    name = f"continuity_concurrency_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = postgres_database_url.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_module_url) -> str:
    engine = create_engine(pg_module_url)
    create_ledger(engine)  # the test connector's own table: polled before its first call
    names = ", ".join(f'"{t.name}"' for t in [*metadata.sorted_tables, *ledger_metadata.sorted_tables])
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return pg_module_url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'continuity.db'}"
    app = bootstrap(Settings(url, None, None))
    upgrade(app.engine)
    create_ledger(app.engine)
    app.engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def _app(url: str) -> App:
    return bootstrap(Settings(url, None, None), clock=FixedClock(AS_OF))


def _analyze(app: App) -> None:
    """What autovacuum does a minute later: fresh planner statistics after a bulk change (PostgreSQL)."""
    if app.engine.dialect.name == "postgresql":
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


# -- worker processes -------------------------------------------------------------------------------------


@dataclass
class Worker:
    proc: subprocess.Popen
    label: str
    out: str = ""
    err: str = ""

    def wait(self, timeout: float = 120) -> int:
        self.out, self.err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test():
    """A failed test must not leave its worker processes running (they are ended by their own pid)."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def start_worker(
    url: str,
    job: str,
    *,
    chunk: int = 50,
    kill_at: str = "",
    kill_after: int = 1,
    ready: Path | None = None,
    concurrency: int | None = None,
) -> Worker:
    """job_worker.py: run_job in its own process; SIGKILLs itself at ``kill_at`` (see its docstring);
    ``concurrency``: its gateway calls in flight at once (default: the setting's default)."""
    args = [sys.executable, str(WORKER), url, job, "--as-of", AS_OF.isoformat(), "--chunk-size", str(chunk)]
    if concurrency is not None:
        args += ["--gateway-concurrency", str(concurrency)]
    if kill_at:
        args += ["--kill-at", kill_at, "--kill-after", str(kill_after)]
    if ready is not None:
        args += ["--ready-file", str(ready)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _STARTED.append(proc)
    return Worker(proc, f"{job} {kill_at}#{kill_after}".strip())


def start_cli(url: str, job: str, *, chunk: int = 50, as_of: date = AS_OF, extra: tuple[str, ...] = ()) -> Worker:
    """The real command line: `continuity jobs JOB --as-of … --chunk-size … --json`, on the as-of day
    (CONTINUITY_TODAY: as a nightly run; an as-of beyond CONTINUITY_MAX_AS_OF_DAYS is refused)."""
    env = {**os.environ, "CONTINUITY_DATABASE_URL": url, "CONTINUITY_TODAY": as_of.isoformat()}
    env.pop("CONTINUITY_LOG_FILE", None)
    proc = subprocess.Popen(
        [str(CONTINUITY), "jobs", job, "--as-of", as_of.isoformat(), "--chunk-size", str(chunk), "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _STARTED.append(proc)
    return Worker(proc, f"cli {job}")


def spawn_waiting(url: str, tmp_path: Path, specs: list[dict]) -> tuple[list[Worker], Path]:
    """job_worker processes that wait at a start line (a file) once their imports are done."""
    ready = tmp_path / f"go-{uuid.uuid4().hex[:8]}"
    workers = [start_worker(url, ready=ready, **spec) for spec in specs]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob(ready.name + ".up.*"))) < len(workers):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.proc.poll() is None for w in workers), [w.proc.communicate() for w in workers]
        time.sleep(0.01)
    return workers, ready


def start_together(url: str, tmp_path: Path, specs: list[dict]) -> list[Worker]:
    """Start job_worker processes that all begin the job at the same moment."""
    workers, ready = spawn_waiting(url, tmp_path, specs)
    ready.touch()
    return workers


def finish(workers: list[Worker], *, killed: set[int] = frozenset()) -> list[Worker]:
    """Wait for all; the ones in ``killed`` (indexes) must have died of SIGKILL, the others succeeded.
    No worker may have met 'database is locked' (or any other error)."""
    for w in workers:
        try:
            w.wait()
        except subprocess.TimeoutExpired:
            for other in workers:
                other.proc.kill()
            raise AssertionError(f"{w.label} did not finish (a deadlock?)") from None
    for i, w in enumerate(workers):
        assert LOCKED not in w.err and LOCKED not in w.out, f"{w.label}: {w.err[-2000:]}"
        if i in killed:
            assert w.proc.returncode == -signal.SIGKILL, (
                f"{w.label} was to be killed: rc {w.proc.returncode} {w.err[-2000:]}"
            )
        else:
            assert w.proc.returncode == 0, f"{w.label}: rc {w.proc.returncode}\n{w.err[-3000:]}"
            assert "Traceback" not in w.err, w.err[-3000:]
    return workers


def counts_of(worker: Worker) -> dict:
    record = json.loads(worker.out.strip().splitlines()[-1])
    assert record["status"] == "succeeded", record
    return record["counts"]


def poll_until(url: str, statement: str, at_least: int, *, while_running: Worker | None, timeout: float = 60) -> int:
    """Read ``statement`` (a count) until it reaches ``at_least`` while the worker still runs.

    SQLite is read with a plain sqlite3 connection: a reader in WAL mode takes no write lock."""
    deadline = time.monotonic() + timeout
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        read = lambda: conn.execute(statement).fetchone()[0]  # noqa: E731
    else:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        read = lambda: conn.execute(text(statement)).scalar_one()  # noqa: E731
    try:
        while True:
            value = read()
            if value >= at_least:
                return value
            if while_running is not None:
                assert while_running.proc.poll() is None, (
                    f"{while_running.label} ended before the kill: {while_running.proc.communicate()}"
                )
            assert time.monotonic() < deadline, f"{statement} stayed at {value}"
            time.sleep(0.005)
    finally:
        conn.close()


def sigkill(worker: Worker) -> None:
    worker.proc.send_signal(signal.SIGKILL)


# -- the invariants -----------------------------------------------------------------------------------------


def _rows(app: App, statement: str, **params) -> list:
    with app.engine.connect() as conn:
        return list(conn.execute(text(statement), params))


def _count(app: App, statement: str, **params) -> int:
    with app.engine.connect() as conn:
        return conn.execute(text(statement), params).scalar_one()


def _behaviour(token: str) -> str:
    return token.split("_")[2]


def child_order_problems(app: App, *, complete: bool, as_of: date = AS_OF) -> dict[str, int]:
    """Every way a child order can be duplicated, orphaned or (with ``complete``: a run for ``as_of`` has
    finished) missing; all must be 0."""
    due_until = add_days(as_of, LEAD_DAYS)
    problems = {
        # two child lines for one parent occurrence (the unique natural key should make this impossible)
        "occurrences with several child lines": _count(
            app,
            (
                "SELECT COUNT(*) FROM (SELECT parent_sales_id, parent_line_no, parent_seq FROM sales_lines "
                "WHERE parent_sales_id IS NOT NULL GROUP BY parent_sales_id, parent_line_no, parent_seq "
                "HAVING COUNT(*) > 1) d"
            ),
        ),
        # a child order header without any line (a duplicate under another id, or a half-written chunk)
        "child orders without lines": _count(
            app,
            (
                "SELECT COUNT(*) FROM sales_orders so WHERE so.parent_sales_id IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM sales_lines l WHERE l.sales_id = so.sales_id)"
            ),
        ),
        # an occurrence marked child_created (or invoiced since) whose child line is not there
        "created occurrences without their child line": _count(
            app,
            (
                "SELECT COUNT(*) FROM schedule_occurrences o WHERE o.status IN ('child_created', 'invoiced') "
                "AND NOT EXISTS "
                "(SELECT 1 FROM sales_lines l WHERE l.sales_id = o.child_sales_id AND l.parent_sales_id = o.sales_id "
                "AND l.parent_line_no = o.line_no AND l.parent_seq = o.seq)"
            ),
        ),
        # a child line whose occurrence was not marked (it would be created again)
        "child lines of unmarked occurrences": _count(
            app,
            (
                "SELECT COUNT(*) FROM sales_lines l JOIN schedule_occurrences o ON o.sales_id = l.parent_sales_id "
                "AND o.line_no = l.parent_line_no AND o.seq = l.parent_seq "
                "WHERE o.status NOT IN ('child_created', 'invoiced') OR o.child_sales_id <> l.sales_id"
            ),
        ),
        "children of occurrences not due": _count(
            app,
            ("SELECT COUNT(*) FROM schedule_occurrences o WHERE o.child_sales_id IS NOT NULL AND o.ship_date > :d"),
            d=due_until,
        ),
        # billed per shipment: exactly one charge (installment) per child order, for the child's amount
        "pay-later children without exactly one charge": _count(
            app,
            (
                "SELECT COUNT(*) FROM sales_orders so JOIN continuity_lines cl ON cl.sales_id = so.parent_sales_id "
                "WHERE so.parent_sales_id IS NOT NULL AND cl.payment_schedule_id IS NULL AND NOT cl.bill_up_front "
                "AND (SELECT COUNT(*) FROM installments i WHERE i.sales_id = so.sales_id) <> 1"
            ),
        ),
        "charges not equal to the child's lines": _count(
            app,
            (
                "SELECT COUNT(*) FROM installments i WHERE i.line_no = 0 AND i.amount_minor <> "
                "(SELECT SUM(l.unit_price_minor * l.quantity) FROM sales_lines l WHERE l.sales_id = i.sales_id)"
            ),
        ),
    }
    if complete:
        problems["due occurrences without a child (valid card)"] = _count(
            app,
            (
                "SELECT COUNT(*) FROM schedule_occurrences o JOIN continuity_lines cl ON cl.sales_id = o.sales_id "
                "AND cl.line_no = o.line_no JOIN cards c ON c.token = cl.card_token "
                "WHERE o.ship_date <= :d AND c.expiry_year >= :y AND (o.status NOT IN ('child_created', 'invoiced') "
                "OR o.child_sales_id IS NULL)"
            ),
            d=due_until,
            y=AS_OF.year,
        )
        problems["children of expired cards"] = _count(
            app,
            (
                "SELECT COUNT(*) FROM schedule_occurrences o JOIN continuity_lines cl ON cl.sales_id = o.sales_id "
                "AND cl.line_no = o.line_no JOIN cards c ON c.token = cl.card_token "
                "WHERE c.expiry_year < :y AND o.child_sales_id IS NOT NULL"
            ),
            y=AS_OF.year,
        )
    return {k: v for k, v in problems.items() if v}


def children(app: App) -> int:
    return _count(app, "SELECT COUNT(*) FROM sales_orders WHERE parent_sales_id IS NOT NULL")


def charge_problems(app: App, *, complete: bool = True, as_of: date = AS_OF) -> dict[str, int]:
    """Every due installment charged at most once at the gateway, under its own attempt's key (at any
    moment, even right after a crash); with ``complete`` (after the rerun and reconcile) exactly once:
    approving and timing-out cards paid, declining ones declined, nothing left pending or unknown."""
    installments = _rows(
        app,
        (
            "SELECT i.status, cl.card_token, "
            "(SELECT COUNT(*) FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = i.sales_id "
            " AND a.line_no = i.line_no AND a.seq = i.seq) AS attempts, "
            "(SELECT COUNT(*) - COUNT(DISTINCT a.as_of) FROM payment_attempts a WHERE a.subject = 'installment' "
            " AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq) AS same_day_repeats, "
            "(SELECT COUNT(*) FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = i.sales_id "
            " AND a.line_no = i.line_no AND a.seq = i.seq AND a.status = 'approved') AS approved, "
            "(SELECT COUNT(*) FROM payment_attempts a JOIN test_gateway_ledger g ON g.idempotency_key = a.idempotency_key "
            " WHERE a.subject = 'installment' AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq "
            " AND g.operation = 'capture' AND g.outcome = 'approved') AS charged, "
            "(SELECT COUNT(*) FROM notifications n JOIN payment_attempts a ON n.dedupe_key = 'paid:' || a.idempotency_key "
            " WHERE a.subject = 'installment' AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq) "
            " AS paid_notices "
            "FROM installments i JOIN continuity_lines cl ON cl.sales_id = i.parent_sales_id "
            "AND cl.line_no = i.parent_line_no WHERE i.due_date <= :as_of"
        ),
        as_of=as_of,
    )
    problems: Counter[str] = Counter()
    for status, token, attempts, same_day_repeats, approved, charged, notices in installments:
        kind = _behaviour(token)
        if charged > 1:
            problems["charged more than once"] += 1
        if same_day_repeats:
            problems["a second attempt (a new key) on the same day"] += 1
        if attempts > 1 and kind != "decline":
            problems["a second attempt (a new key) for a card that does not decline"] += 1
        if approved > charged:
            problems["approved attempt without a gateway charge"] += 1
        if status == "paid" and (charged != 1 or approved != 1 or notices != 1):
            problems["paid without exactly one charge, approved attempt and paid notice"] += 1
        if kind == "decline" and charged:
            problems["declining card charged"] += 1
        if complete:
            if kind == "decline" and (status != "declined" or attempts < 1):
                problems["declining card not declined (once a day)"] += 1
            if kind in ("approve", "timeout") and (status != "paid" or charged != 1):
                problems[f"{kind} card not paid with exactly one charge"] += 1
    problems["ledger charges under keys no attempt has"] = _count(app, LEDGER_KEYS_WITHOUT_ATTEMPT)
    problems["ledger amount or card differs from the attempt"] = _count(app, LEDGER_DIFFERS_FROM_ATTEMPT)
    problems["installments not due but touched"] = _count(
        app,
        (
            "SELECT COUNT(*) FROM installments i WHERE i.due_date > :as_of AND (i.status <> 'not_submitted' OR EXISTS "
            "(SELECT 1 FROM payment_attempts a WHERE a.sales_id = i.sales_id AND a.line_no = i.line_no "
            "AND a.seq = i.seq))"
        ),
        as_of=as_of,
    )
    if complete:
        problems["attempts left pending or unknown"] = _count(
            app, ("SELECT COUNT(*) FROM payment_attempts WHERE status IN ('pending', 'unknown')")
        )
        problems["charged total differs from the paid total"] = int(
            _count(
                app,
                (
                    "SELECT COALESCE(SUM(amount_minor), 0) FROM test_gateway_ledger WHERE outcome = 'approved' "
                    "AND operation = 'capture'"
                ),
            )
            != _count(app, ("SELECT COALESCE(SUM(amount_minor), 0) FROM installments WHERE status = 'paid'"))
        )
    return {k: v for k, v in problems.items() if v}


def due_installments(app: App, as_of: date = AS_OF) -> int:
    return _count(app, "SELECT COUNT(*) FROM installments WHERE due_date <= :as_of", as_of=as_of)


def ledger_size(app: App) -> int:
    return _count(app, "SELECT COUNT(*) FROM test_gateway_ledger")


def reconcile(app: App, as_of: date = AS_OF) -> dict:
    """reconcile-payments treating every pending attempt as stale (as a run a minute later would)."""
    return run_job(app.job_deps(stale_after_seconds=0), "reconcile-payments", JobRequest(as_of))["counts"]


def reconcile_until_settled(app: App, as_of: date = AS_OF) -> None:
    """A time-out whose first call never happened is re-driven (same key) and times out again: the
    first reconcile leaves it unknown, the next one finds the charge. Nothing is ever left pending."""
    for _ in range(3):
        reconcile(app, as_of)
        assert _count(app, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'pending'") == 0
        if _count(app, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'unknown'") == 0:
            return
    raise AssertionError("reconcile did not settle the unknown attempts")


# -- PostgreSQL: R1 and R5 ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_three_workers_create_every_due_child_order_once_and_charge_it_once(pg_url, tmp_path):
    """R1/R5 without crashes: each job started three times at once over 800 due occurrences; then
    both again for the same day."""
    app = _app(pg_url)
    g = generate_due_parents(
        app.engine,
        400,
        AS_OF,
        program_id="TRILOGY",
        due_occurrences=2,
        future_occurrences=1,
        decline_every=13,
        timeout_every=17,
        expired_every=29,
    )
    expected_children = (g.parents - g.expired) * 2

    workers = finish(start_together(pg_url, tmp_path, [{"job": "create-child-orders", "chunk": 25}] * 3))
    created = [counts_of(w)["created"] for w in workers]
    assert child_order_problems(app, complete=True) == {}
    assert children(app) == sum(created) == expected_children
    assert sum(1 for c in created if c) >= 2, f"the workers did not share the run: {created}"

    _analyze(app)
    workers = finish(start_together(pg_url, tmp_path, [{"job": "process-payments"}] * 3))
    charged = Counter()
    for w in workers:
        charged.update({k: v for k, v in counts_of(w).items() if k in ("approved", "declined", "unknown")})
    assert sum(charged.values()) == due_installments(app) == expected_children
    assert sum(1 for w in workers if counts_of(w)["approved"]) >= 2, "the payment workers did not share the run"
    assert charge_problems(app, complete=False) == {}

    # both jobs again for the same day, at once: nothing new anywhere
    before = (children(app), ledger_size(app), _count(app, "SELECT COUNT(*) FROM payment_attempts"))
    finish(start_together(pg_url, tmp_path, [{"job": "create-child-orders"}, {"job": "process-payments"}]))
    assert (children(app), ledger_size(app), _count(app, "SELECT COUNT(*) FROM payment_attempts")) == before

    reconcile_until_settled(app)
    assert charge_problems(app) == {}
    assert child_order_problems(app, complete=True) == {}


@pytest.mark.postgres
def test_child_order_workers_killed_mid_run_then_a_rerun_finishes_with_nothing_twice(pg_url, tmp_path):
    """R1: three workers over 3,000 due parents; two die inside a chunk's transaction (SIGKILL at a
    chosen statement), the third (the CLI) is SIGKILLed from outside once half the work is done."""
    app = _app(pg_url)
    g = generate_due_parents(
        app.engine, 3000, AS_OF, program_id="TRILOGY", due_occurrences=1, future_occurrences=2, expired_every=41
    )
    expected = g.parents - g.expired

    cli = start_cli(pg_url, "create-child-orders")
    hooked = start_together(
        pg_url,
        tmp_path,
        [
            {"job": "create-child-orders", "kill_at": "sql:INSERT INTO sales_orders", "kill_after": 3},
            {"job": "create-child-orders", "kill_at": "sql:UPDATE schedule_occurrences", "kill_after": 8},
        ],
    )
    finish(hooked, killed={0, 1})
    poll_until(
        pg_url, "SELECT COUNT(*) FROM sales_orders WHERE parent_sales_id IS NOT NULL", expected // 2, while_running=cli
    )
    sigkill(cli)
    finish([cli], killed={0})

    assert child_order_problems(app, complete=False) == {}  # whatever was committed is whole
    partial = children(app)
    assert 0 < partial < expected

    finish(start_together(pg_url, tmp_path, [{"job": "create-child-orders"}] * 2))
    assert child_order_problems(app, complete=True) == {}
    assert children(app) == expected


@pytest.mark.postgres
def test_three_workers_run_the_whole_nightly_sequence_at_once_for_two_months(pg_url):
    """`continuity jobs run-all` on three machines at once (all jobs, the warehouse stand-in included),
    one month and the next: no worker fails (no deadlock between the set-based status updates),
    every due child order exists once, every due charge is made once (declines retried once a day)."""
    app = _app(pg_url)
    generate_due_parents(
        app.engine,
        200,
        AS_OF,
        program_id="TRILOGY",
        due_occurrences=2,
        future_occurrences=1,
        decline_every=13,
        timeout_every=17,
        expired_every=37,
    )
    generate_due_parents(
        app.engine,
        60,
        AS_OF,
        program_id="REPLENISH",
        prefix="R",
        due_occurrences=1,
        future_occurrences=5,
        decline_every=9,
    )
    generate_due_parents(
        app.engine,
        60,
        AS_OF,
        program_id="BOOKCLUB",
        prefix="B",
        due_occurrences=1,
        future_occurrences=2,
        timeout_every=7,
    )
    for day in (AS_OF, add_months(AS_OF, 1)):
        finish([start_cli(pg_url, "run-all", as_of=day, extra=("--fulfil",)) for _ in range(3)])
        assert child_order_problems(app, complete=True, as_of=day) == {}
        assert charge_problems(app, complete=False, as_of=day) == {}
        _analyze(app)
    app = bootstrap(Settings(pg_url, None, None), clock=FixedClock(day))  # reconcile on the last day's clock
    reconcile_until_settled(app, day)
    assert charge_problems(app, as_of=day) == {}


# -- payments: R2 crash matrix and a kill from outside ----------------------------------------------------

CRASH_POINTS = {
    # SIGKILL … (the K-th time the worker gets there)
    "claim": "sql:INSERT INTO payment_attempts",  # … while its chunk of attempts is not committed yet
    "gateway-before": "gateway-before",  # … with the attempt committed, before the gateway call
    "gateway-after": "gateway-after",  # … after the gateway charged, before the answer is written
    "recording": "sql:UPDATE payment_attempts",  # … while the answers are written, before the notices
}


def _payment_data(app: App, parents: int) -> None:
    """REPLENISH parents with two installments due each (and later ones not due); 1 in 7 cards declines,
    1 in 11 times out."""
    generate_due_parents(
        app.engine,
        parents,
        AS_OF,
        program_id="REPLENISH",
        prefix="R",
        due_occurrences=2,
        future_occurrences=4,
        decline_every=7,
        timeout_every=11,
    )


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_payment_worker_killed_at_each_step_is_finished_by_a_rerun_and_reconcile_without_a_second_charge(
    any_url, tmp_path, point
):
    """R2: a worker dies at a given step of its second chunk; a rerun by two workers at once and
    reconcile finish the work: each due installment charged once, under its first attempt's key."""
    app = _app(any_url)
    _payment_data(app, 60)
    chunk = 20
    kill_after = {"claim": 2, "recording": 2}.get(point, chunk + 5)  # inside the worker's second chunk
    # the K-th gateway call is a precise crash point when the calls go one at a time (a crash with a
    # whole pool of calls in flight: test_gateway_concurrency.py)
    finish(
        [
            start_worker(
                any_url,
                "process-payments",
                chunk=chunk,
                kill_at=CRASH_POINTS[point],
                kill_after=kill_after,
                concurrency=1,
            )
        ],
        killed={0},
    )
    assert charge_problems(app, complete=False) == {}
    pending = sorted(_rows(app, "SELECT idempotency_key FROM payment_attempts WHERE status = 'pending'"))
    charged_pending = _count(
        app,
        (
            "SELECT COUNT(*) FROM payment_attempts a JOIN test_gateway_ledger g ON g.idempotency_key = a.idempotency_key "
            "WHERE a.status = 'pending'"
        ),
    )
    if point == "claim":  # the chunk's attempts were never committed: nothing is in doubt
        assert pending == [] and ledger_size(app) == chunk
    elif point == "gateway-before":  # committed, never sent
        assert len(pending) == chunk and charged_pending == 4
    elif point == "gateway-after":  # sent and charged, the answer lost
        assert len(pending) == chunk and charged_pending == 5
    else:  # the whole chunk charged, its answers (and notices) rolled back with the worker
        assert len(pending) == chunk and charged_pending == chunk

    # a rerun for the same day (two workers at once) leaves the attempts in doubt alone …
    finish(start_together(any_url, tmp_path, [{"job": "process-payments", "chunk": chunk}] * 2))
    assert sorted(_rows(app, "SELECT idempotency_key FROM payment_attempts WHERE status = 'pending'")) == pending
    assert charge_problems(app, complete=False) == {}
    # … reconcile asks the gateway, re-drives the never-sent ones under their own key, settles all
    reconcile_until_settled(app)
    assert charge_problems(app) == {}
    assert ledger_size(app) == due_installments(app)


class _Later(FixedClock):
    """AS_OF, with now() this far ahead of the system clock."""

    def __init__(self, ahead: timedelta) -> None:
        super().__init__(AS_OF)
        self.ahead = ahead

    def now(self) -> datetime:
        return super().now() + self.ahead


def test_the_run_of_a_killed_worker_is_marked_abandoned_once_its_heartbeat_is_older_than_the_limit(any_url):
    """A SIGKILLed worker cannot finish its job-run row: it stays 'running'. The rerun (its heartbeat
    is recent) leaves it alone and finishes the work; the first run with the clock past
    CONTINUITY_JOB_STALE_MINUTES (15) since that worker's last heartbeat marks it 'abandoned'."""
    app = _app(any_url)
    _payment_data(app, 20)
    finish([start_worker(any_url, "process-payments", chunk=5, kill_at="gateway-after", kill_after=7)], killed={0})
    statuses = "SELECT status, COUNT(*) FROM job_runs GROUP BY status ORDER BY status"
    assert _rows(app, statuses) == [("running", 1)]

    finish([start_worker(any_url, "process-payments", chunk=5)])
    assert _rows(app, statuses) == [("running", 1), ("succeeded", 1)]

    later = bootstrap(Settings(any_url, None, None), clock=_Later(timedelta(minutes=16)))
    try:
        assert later.job_deps().job_stale_minutes == 15
        run_job(later.job_deps(), "reconcile-payments", JobRequest(AS_OF))
    finally:
        later.engine.dispose()
    assert _rows(app, statuses) == [("abandoned", 1), ("succeeded", 2)]
    assert (
        _count(
            app,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'abandoned' AND finished_at IS NOT NULL "
            "AND error LIKE 'no heartbeat since %'",
        )
        == 1
    )
    assert charge_problems(app, complete=False) == {}


@pytest.mark.postgres
def test_payment_workers_one_killed_from_outside_at_a_random_moment(pg_url, tmp_path):
    """Issue 3 for charges: two CLI workers; one is SIGKILLed once some charges are made; rerun and
    reconcile; every due installment charged exactly once."""
    app = _app(pg_url)
    _payment_data(app, 300)
    _analyze(app)
    due = due_installments(app)
    victim, other = start_cli(pg_url, "process-payments", chunk=25), start_cli(pg_url, "process-payments", chunk=25)
    poll_until(pg_url, "SELECT COUNT(*) FROM test_gateway_ledger", due // 4, while_running=victim)
    sigkill(victim)
    finish([victim, other], killed={0})
    assert charge_problems(app, complete=False) == {}

    finish([start_cli(pg_url, "process-payments", chunk=25)])
    reconcile_until_settled(app)
    assert charge_problems(app) == {}
    assert ledger_size(app) == due


def test_the_same_attempts_charged_twice_at_once_reach_the_gateway_once(any_url):
    """R5: the charge step dispatched twice at once for the same committed attempts (threads)."""
    app = _app(any_url)
    _payment_data(app, 40)
    deps = app.job_deps()
    claimed = deps.payments.claim_next_chunk(
        ClaimQuery(AS_OF, None, DunningPolicy(), 500), None, deps.clock.now()
    ).attempts
    assert len(claimed) == due_installments(app)
    errors: list[BaseException] = []

    def dispatch() -> None:
        try:
            charge_claimed(deps, claimed, AS_OF)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ledger_size(app) == len(claimed)
    reconcile_until_settled(app)
    assert charge_problems(app) == {}


# -- SQLite: R12 ----------------------------------------------------------------------------------------


def test_sqlite_four_child_order_workers_two_killed_then_rerun(sqlite_url, tmp_path):
    """R12 (R1 with 4 processes over 6,000 parents; BEGIN IMMEDIATE and a busy timeout): one worker dies
    inside its second chunk holding the write lock while three others wait for it; one of those is
    SIGKILLed from outside later. Nobody sees 'database is locked'; a rerun with two processes
    leaves exactly one child per due occurrence."""
    app = _app(sqlite_url)
    g = generate_due_parents(
        app.engine, 6000, AS_OF, program_id="TRILOGY", due_occurrences=1, future_occurrences=2, expired_every=53
    )
    expected = g.parents - g.expired
    count = "SELECT COUNT(*) FROM sales_orders WHERE parent_sales_id IS NOT NULL"
    # SQLite gives the write lock to no one in particular: a worker can wait out a whole run. The one
    # to die inside a chunk therefore starts first, and the others are let go once its first chunk is in.
    (first,), go_first = spawn_waiting(
        sqlite_url,
        tmp_path,
        [{"job": "create-child-orders", "kill_at": "sql:INSERT INTO sales_lines", "kill_after": 2}],
    )
    others, go_others = spawn_waiting(sqlite_url, tmp_path, [{"job": "create-child-orders"}] * 3)
    go_first.touch()
    poll_until(sqlite_url, count, 50, while_running=None)
    go_others.touch()
    poll_until(sqlite_url, count, expected // 3, while_running=others[0])
    sigkill(others[0])
    finish([first, *others], killed={0, 1})
    assert child_order_problems(app, complete=False) == {}  # the survivors may or may not have finished

    finish(start_together(sqlite_url, tmp_path, [{"job": "create-child-orders"}] * 2))
    assert child_order_problems(app, complete=True) == {}
    assert children(app) == expected


def test_sqlite_two_payment_workers_one_killed_then_rerun_and_reconcile(sqlite_url, tmp_path):
    """R12 for charges: two processes, one SIGKILLed from outside once a third of the charges are
    made; the rerun (two processes) and reconcile charge nothing twice and miss nothing."""
    app = _app(sqlite_url)
    _payment_data(app, 150)
    due = due_installments(app)
    victim, other = start_together(sqlite_url, tmp_path, [{"job": "process-payments", "chunk": 25}] * 2)
    poll_until(sqlite_url, "SELECT COUNT(*) FROM test_gateway_ledger", due // 3, while_running=victim)
    sigkill(victim)
    finish([victim, other], killed={0})
    assert charge_problems(app, complete=False) == {}

    finish(start_together(sqlite_url, tmp_path, [{"job": "process-payments", "chunk": 25}] * 2))
    reconcile_until_settled(app)
    assert charge_problems(app) == {}
    assert ledger_size(app) == due
