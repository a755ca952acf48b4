"""The payment review worklist (issue 17 items 3-5): installments whose retries are used up, cards expiring
before their next shipment, charges unknown for more than a day; retry now, change the card and retry,
waive, cancel, and a manual payment of a named installment. A retry and the nightly run of the same
installment never both charge it (item 4: both at once, on threads, SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from jobs_support import (
    APPROVE,
    DECLINE,
    START,
    TIMEOUT,
    attempts,
    children,
    enter_order,
    installments,
    job,
    rows,
    scalar,
    status_of,
    use_card,
)

from continuity.domain.audit import Actor, ActorKind
from continuity.domain.errors import DomainError
from continuity.services import history, payment_review
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

DAY = timedelta(days=1)
ANN = Actor("ann", ActorKind.AGENT)


def _exhaust(app, parent: str) -> date:  # type: ignore[no-untyped-def]
    """Installment 1 declined on the first try and the 4 retries of the dunning schedule (days 1, 3, 5, 7)."""
    use_card(app, parent, DECLINE)
    for k in range(8):
        job(app, "process-payments", START + k * DAY)
    app.clock.day = START + 8 * DAY
    return START + 8 * DAY


def _worklist(app):  # type: ignore[no-untyped-def]
    return payment_review.worklist(app.job_deps(), app.payment_review_reads(), app.clock.today())


def _charges_of(app, parent: str, seq: int = 1) -> list[tuple]:  # type: ignore[no-untyped-def]
    """What the gateway's ledger holds for the installment (one row per charge really made)."""
    return rows(
        app,
        "SELECT g.idempotency_key, g.outcome FROM test_gateway_ledger g JOIN payment_attempts a "
        "ON a.idempotency_key = g.idempotency_key WHERE a.subject = 'installment' AND a.sales_id = :p "
        "AND a.seq = :s AND g.operation = 'capture' ORDER BY a.attempt_no",
        p=parent,
        s=seq,
    )


def _error(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_an_installment_whose_retries_are_used_up_is_listed_and_an_agent_retries_it_on_a_new_card(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    _exhaust(app, parent)
    job(app, "create-child-orders", START + 4 * DAY)
    child = children(app, parent)[0][0]
    assert status_of(app, child)[0] == "on_hold"

    listed = [i for i in _worklist(app) if i["kind"] == "retries_exhausted"]
    assert [(i["sales_id"], i["seq"], i["attempts"], i["amount"]) for i in listed] == [(parent, 1, 5, "19.80")]

    # the same card once more: declined again, still listed
    again = payment_review.retry_now(app.job_deps(), parent, 1, 1, ANN)
    assert (again["outcome"], again["status"]) == ("declined", "declined")

    done = payment_review.change_card_and_retry(app.job_deps(), parent, 1, 1, ANN, APPROVE, "12/31")

    assert (done["outcome"], done["status"]) == ("approved", "paid")
    assert [o for _, o in _charges_of(app, parent)] == ["declined"] * 6 + ["approved"]
    assert status_of(app, child)[0] == "open"  # released: nothing due is unpaid
    assert not [i for i in _worklist(app) if i["sales_id"] == parent]
    actions = [e["action"] for e in history.order_history(app.uow, parent) if e["actor"] == "ann"]
    assert "retried" in actions and "change_card" in actions


def test_waive_cancels_the_installment_with_a_reason_and_releases_its_children(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    _exhaust(app, parent)
    job(app, "create-child-orders", START + 4 * DAY)
    child = children(app, parent)[0][0]
    assert _error(lambda: payment_review.waive(app.job_deps(), parent, 1, 1, " ", ANN)) == "reason_required"

    waived = payment_review.waive(app.job_deps(), parent, 1, 1, "goodwill: parcel lost", ANN)

    assert waived["status"] == "cancelled" and installments(app, parent)[0][2] == "cancelled"
    assert status_of(app, child)[0] == "open"
    job(app, "process-payments", START + 9 * DAY)
    assert len(attempts(app, parent)) == 5  # nothing more is charged for it
    entry = next(e for e in history.order_history(app.uow, parent) if e["action"] == "waived")
    assert (entry["actor"], entry["reason"]) == ("ann", "goodwill: parcel lost")


def test_a_manual_payment_settles_the_named_installment_cancels_its_retries_and_moves_no_date(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, DECLINE)
    job(app, "process-payments", START)
    before = [(s, d) for s, d in rows(app, "SELECT seq, due_date FROM installments WHERE sales_id = :p", p=parent)]

    paid = payment_review.settle_manually(app.job_deps(), parent, 1, 1, "bank_transfer", "REF-778", ANN)

    assert paid["status"] == "paid"
    assert [s for _, _, s in installments(app, parent)] == ["paid", "not_submitted", "not_submitted"]
    assert [
        (s, d) for s, d in rows(app, "SELECT seq, due_date FROM installments WHERE sales_id = :p", p=parent)
    ] == before
    for k in range(1, 4):  # the retries it would have had: none
        job(app, "process-payments", START + k * DAY)
    assert len(attempts(app, parent)) == 1
    assert _error(lambda: payment_review.settle_manually(app.job_deps(), parent, 1, 1, "cash", "x", ANN)) == (
        "installment_not_open"
    )
    assert _error(lambda: payment_review.settle_manually(app.job_deps(), parent, 1, 2, "gold", "x", ANN)) == (
        "payment_method_invalid"
    )


def test_an_unknown_outcome_older_than_a_day_is_listed_and_retry_now_looks_it_up_under_its_own_key(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, TIMEOUT)
    job(app, "process-payments", START)
    assert installments(app, parent)[0][2] == "unknown"
    assert not [i for i in _worklist(app) if i["kind"] == "outcome_unknown"]  # not a day old yet

    app.clock.day = START + 2 * DAY
    listed = [i for i in _worklist(app) if i["kind"] == "outcome_unknown"]
    assert [(i["sales_id"], i["seq"]) for i in listed] == [(parent, 1)]

    done = payment_review.retry_now(app.job_deps(), parent, 1, 1, ANN)
    assert done["action"] == "looked_up"
    assert len(attempts(app, parent)) == 1  # never a new key


def test_an_expiring_card_is_listed_and_cancel_cancels_the_order(demo_app):
    app = demo_app
    parent = enter_order(app, "0021", expiry="11/26")  # expires before its 2nd shipment (2026-12-25)
    job(app, "create-child-orders", START)
    app.clock.day = date(2026, 12, 15)
    listed = [i for i in _worklist(app) if i["kind"] == "card_expiring"]
    assert [(i["sales_id"], i["expiry"]) for i in listed] == [(parent, "11/26")]

    result = payment_review.cancel_order(app.job_deps(), parent, "customer gave up", ANN)
    assert result["applied"] is True
    assert {s for _, _, s in installments(app, parent)} <= {"cancelled", "paid", "authorized"}


class _SlowGateway:
    """The gateway, each call held back a moment: both charges are claimed while the other one is under way."""

    def __init__(self, inner, delay: float) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.delay = inner, delay

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        found = getattr(self.inner, name)
        if not callable(found):
            return found

        def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(self.delay)
            return found(*args, **kwargs)

        return slow


def test_a_hard_decline_is_listed_at_once_and_retry_now_on_the_same_card_is_refused(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, "4000000000009987")  # a lost card
    job(app, "process-payments", START)
    app.clock.day = START + DAY

    listed = [i for i in _worklist(app) if i["kind"] == "retries_exhausted"]
    assert [(i["sales_id"], i["seq"], i["attempts"]) for i in listed] == [(parent, 1, 1)]
    assert _error(lambda: payment_review.retry_now(app.job_deps(), parent, 1, 1, ANN))  # never after a hard code
    assert len(attempts(app, parent)) == 1

    done = payment_review.change_card_and_retry(app.job_deps(), parent, 1, 1, ANN, APPROVE, "12/31")
    assert (done["outcome"], done["status"]) == ("approved", "paid")


def test_an_installment_left_past_the_retry_window_is_listed(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, DECLINE)
    job(app, "process-payments", START)  # no run again until after the 14-day window
    app.clock.day = START + 10 * DAY
    assert not [i for i in _worklist(app) if i["kind"] == "retries_exhausted"]

    app.clock.day = START + 15 * DAY
    listed = [i for i in _worklist(app) if i["kind"] == "retries_exhausted"]
    assert [(i["sales_id"], i["attempts"]) for i in listed] == [(parent, 1)]


def test_a_manual_retry_and_the_nightly_run_of_the_same_installment_charge_it_once(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, DECLINE)
    job(app, "process-payments", START)
    use_card(app, parent, APPROVE)  # the customer's new card: both the agent and the night will charge it
    day = START + DAY
    app.clock.day = day
    deps = replace(app.job_deps(), gateway=_SlowGateway(app.gateway, 0.3))
    barrier, errors, results = threading.Barrier(2), [], {}

    def nightly() -> None:
        barrier.wait()
        results["night"] = run_job(deps, "process-payments", JobRequest(day))["counts"]

    def agent() -> None:
        barrier.wait()
        try:
            results["agent"] = payment_review.retry_now(deps, parent, 1, 1, ANN)
        except DomainError as exc:
            errors.append(exc.code)

    threads = [threading.Thread(target=nightly), threading.Thread(target=agent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    approved = [k for k, o in _charges_of(app, parent) if o == "approved"]
    assert len(approved) == 1, _charges_of(app, parent)
    assert "night" in results and len(attempts(app, parent)) == 2  # the first decline and the one charge
    assert installments(app, parent)[0][2] == "paid"
    assert errors in ([], ["installment_not_retryable"])
    assert (
        scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE sales_id = :p AND status = 'pending'", p=parent) == 0
    )
