"""Issue 13: the gateway calls of a chunk are in flight together (CONTINUITY_GATEWAY_CONCURRENCY), paced
under CONTINUITY_GATEWAY_RATE, "too many requests" retried under the same key; a worker killed with a
pool of calls in flight leaves pending attempts that reconcile settles, each installment charged once.

Every figure is read from the test connector's own ledger (``received_at``: when each call arrived; it
answers CONTINUITY_TEST_GATEWAY_LATENCY_MS after that), never from a wall-clock timing of the test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from jobs_support import LEDGER_KEYS_WITHOUT_ATTEMPT, arrivals, execute, job, most_in_flight, rows, scalar, use_card

from bench.generate import generate_due_parents, sales_id
from continuity.bootstrap import App

AS_OF = date(2026, 11, 23)
WORKER = Path(__file__).parent / "workers" / "job_worker.py"
BUSY = "4000000000000424"  # the test connector answers "too many requests" once per key


def _due(app: App, parents: int) -> None:
    """``parents`` REPLENISH orders with one installment due on AS_OF each (approving cards)."""
    generated = generate_due_parents(
        app.engine, parents, AS_OF, program_id="REPLENISH", prefix="R", due_occurrences=1, future_occurrences=2
    )
    assert generated.due_installments == parents


def busiest_second(arrivals: list[float]) -> int:
    """The most calls arriving within any one-second window [t, t + 1 s)."""
    return max(sum(1 for a in arrivals if t <= a < t + 1.0) for t in arrivals)


@pytest.mark.parametrize("concurrency", [8, 32])
def test_the_calls_of_a_chunk_are_in_flight_together_never_more_than_the_pool(make_app, concurrency):
    _due(make_app(), 20)
    slow = make_app(test_gateway_latency_ms=200, gateway_concurrency=concurrency, gateway_rate=1000.0)
    counts = job(slow, "process-payments", AS_OF)["counts"]
    assert (counts["approved"], counts["declined"], counts["unknown"]) == (20, 0, 0)
    arrived = arrivals(slow)
    assert len(arrived) == 20
    in_flight = most_in_flight(arrived, 0.2)
    assert min(concurrency, 20) // 2 <= in_flight <= concurrency, in_flight  # one at a time would be 1


def test_create_child_orders_authorizes_the_new_children_concurrently(make_app):
    setup = make_app()
    generate_due_parents(setup.engine, 12, AS_OF)  # billed per shipment: each child is authorized when made
    execute(setup, "UPDATE continuity_parameters SET authorize_child_orders = TRUE")
    slow = make_app(test_gateway_latency_ms=200, gateway_concurrency=32, gateway_rate=1000.0)
    counts = job(slow, "create-child-orders", AS_OF)["counts"]
    assert (counts["created"], counts["authorize_approved"]) == (12, 12)
    assert most_in_flight(arrivals(slow, "authorize"), 0.2) >= 6


def test_no_second_of_the_gateways_own_clock_sees_more_requests_than_the_rate(make_app):
    _due(make_app(), 45)
    paced = make_app(gateway_rate=15.0, gateway_concurrency=32)
    assert job(paced, "process-payments", AS_OF)["counts"]["approved"] == 45
    arrived = arrivals(paced)
    assert len(arrived) == 45
    assert 10 <= busiest_second(arrived) <= 15, busiest_second(arrived)  # unpaced: all 45 in one second


def test_too_many_requests_is_retried_under_the_same_key_and_never_counted_as_a_decline(make_app):
    app = make_app()
    _due(app, 10)
    for n in range(1, 11):
        use_card(app, sales_id("R", n), BUSY)
    counts = job(app, "process-payments", AS_OF)["counts"]
    assert (counts["approved"], counts["declined"], counts["unknown"]) == (10, 0, 0)
    keys = {k for (k,) in rows(app, "SELECT idempotency_key FROM payment_attempts")}
    assert len(keys) == 10 and app.gateway.gateway._turned_away == keys  # each key turned away once, sent again
    assert scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'capture'") == 10
    assert scalar(app, "SELECT COUNT(*) FROM installments WHERE status = 'paid'") == 10
    assert scalar(app, LEDGER_KEYS_WITHOUT_ATTEMPT) == 0


def test_a_worker_killed_with_32_calls_in_flight_is_settled_by_reconcile_one_charge_per_installment(
    make_app, database_url
):
    app = make_app()
    _due(app, 40)
    worker = subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            database_url,
            "process-payments",
            "--as-of",
            AS_OF.isoformat(),
            "--gateway-concurrency",
            "32",
            "--gateway-rate",
            "1000",
            "--latency-ms",
            "60000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: _ledger(app) >= 32 or worker.poll() is not None)
        time.sleep(0.3)  # the pool is full: no 33rd call starts while these wait for their answers
        assert worker.poll() is None and _ledger(app) == 32
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL
    # every attempt was committed before its call: 32 charged, answers lost; 8 never sent
    assert scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'pending'") == 40

    reconciled = job(app, "reconcile-payments", AS_OF, deps=app.job_deps(stale_after_seconds=0))["counts"]
    assert reconciled["approved"] == 40
    assert scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE status IN ('pending', 'unknown')") == 0
    assert scalar(app, "SELECT COUNT(*) FROM installments WHERE status = 'paid'") == 40
    assert _charges_per_installment(app) == {1}
    assert scalar(app, LEDGER_KEYS_WITHOUT_ATTEMPT) == 0
    job(app, "process-payments", AS_OF)
    assert _ledger(app) == 40  # nothing is charged a second time


def _ledger(app: App) -> int:
    return scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'capture'")


def _charges_per_installment(app: App) -> set[int]:
    """How many approved ledger captures each due installment has (a set: {1} is exactly one each)."""
    return {
        n
        for (n,) in rows(
            app,
            (
                "SELECT COUNT(g.idempotency_key) FROM installments i LEFT JOIN payment_attempts a "
                "ON a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq AND a.operation = 'capture' "
                "LEFT JOIN test_gateway_ledger g ON g.idempotency_key = a.idempotency_key AND g.outcome = 'approved' "
                "WHERE i.due_date <= :d GROUP BY i.sales_id, i.line_no, i.seq"
            ),
            d=AS_OF,
        )
    }


def _wait_for(condition, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker never had its calls in flight"
        time.sleep(0.05)
