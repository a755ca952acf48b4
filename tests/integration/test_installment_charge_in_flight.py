"""Changing an installment while its charge is in flight (found by R8, test_stateful_lifecycle.py).

process-payments commits the attempt (its idempotency key and amount) before it calls the gateway and
records the answer afterwards; a worker that dies in between leaves the attempt 'pending' until
reconcile-payments looks it up (and re-sends it under the same key when the gateway never got it).
Meanwhile the installment itself read 'not_submitted' (since issue 12 it reads 'in_flight', set in
the attempt's transaction, and every reader sees it). A skip (or substitute) that re-shared it,
or a cancel that cancelled it or lowered it to what is still owed, changed an installment whose charge
of the old amount then went through: the ledger captured 9.83 for an installment recorded as paid 7.08
(or for one cancelled), and the cancel's refund never counted it. continuity-update re-shared it the
same way after a program change. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest
from jobs_support import (
    START,
    WORK_TABLES,
    demo_programs,
    enter_order,
    installments,
    nightly,
    rows,
    set_up,
    snapshot,
)

from continuity.domain.dunning import DunningPolicy
from continuity.domain.errors import RuleViolation
from continuity.services import servicing
from continuity.services.jobs.charging import charge_claimed
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.records import ClaimQuery
from continuity.services.jobs.registry import run_job
from continuity.services.projection import load
from continuity.services.servicing import Change

SECOND_DUE = date(2026, 12, 23)  # installment 2 of 3X (19.66, 19.66, 19.67)


def _charge_in_flight(app):  # type: ignore[no-untyped-def]
    """A book-club order in three installments; on the day the second is due a payment worker has claimed
    it (attempt committed, 'pending') and has not recorded the gateway's answer yet."""
    parent = enter_order(app, "88000", payment_schedule_id="3X")
    nightly(app, START)
    app.clock.day = SECOND_DUE
    deps = app.job_deps()
    claimed = deps.payments.claim_next_chunk(
        ClaimQuery(SECOND_DUE, None, DunningPolicy(), 10), None, app.clock.now()
    ).attempts
    assert [(a.seq, a.amount_minor) for a in claimed] == [(2, 1966)]
    return parent, deps, claimed


def _captured(app, parent: str) -> dict[int, int]:  # type: ignore[no-untyped-def]
    return dict(
        rows(
            app,
            "SELECT a.seq, g.amount_minor FROM payment_attempts a JOIN test_gateway_ledger g "
            "ON g.idempotency_key = a.idempotency_key WHERE a.subject = 'installment' "
            "AND a.sales_id = :p AND g.operation = 'capture' AND g.outcome = 'approved'",
            p=parent,
        )
    )


def test_a_skip_leaves_an_installment_whose_charge_is_in_flight_as_it_is(demo_app):
    app = demo_app
    parent, deps, claimed = _charge_in_flight(app)

    servicing.apply(app.uow, app.gateway, app.clock, parent, Change("skip", seq=3))
    charge_claimed(deps, claimed, SECOND_DUE)  # the worker gets its answer and records it

    paid = {seq: amount for seq, amount, status in installments(app, parent) if status == "paid"}
    assert paid == _captured(app, parent) == {1: 1966, 2: 1966}
    value = rows(
        app,
        "SELECT SUM(price_minor * quantity) FROM schedule_occurrences WHERE sales_id = :p AND status <> 'skipped'",
        p=parent,
    )[0][0]
    assert sum(amount for _, amount, _ in installments(app, parent)) == value  # the rest share what is left


def test_a_cancel_waits_until_the_outcome_of_a_charge_in_flight_is_known(demo_app):
    app = demo_app
    parent, deps, claimed = _charge_in_flight(app)
    everything = snapshot(app, WORK_TABLES + ("schedule_adjustments", "audit_entries"))

    with pytest.raises(RuleViolation) as refused:
        servicing.apply(app.uow, app.gateway, app.clock, parent, Change("cancel"))

    assert refused.value.code == "payment_outcome_unknown"
    assert snapshot(app, WORK_TABLES + ("schedule_adjustments", "audit_entries")) == everything
    charge_claimed(deps, claimed, SECOND_DUE)
    result = servicing.apply(app.uow, app.gateway, app.clock, parent, Change("cancel"))
    # 39.32 paid, 12.99 shipped (occurrence 1; occurrence 2 ships 12-26, from the cancel date on)
    assert result["refund"] == "26.33"
    assert _captured(app, parent) == {1: 1966, 2: 1966}
    assert [s for _, _, s in installments(app, parent)] == ["paid", "paid", "cancelled"]


def test_continuity_update_leaves_an_installment_whose_charge_is_in_flight_as_it_is(demo_app):
    app = demo_app
    parent, deps, claimed = _charge_in_flight(app)
    book_club = demo_programs()["BOOKCLUB"]
    book_club["events"][4]["price"] = "1.11"  # event 5 (occurrence 3): 13.75 -> 1.11
    set_up(app, {"programs": [book_club]}, SECOND_DUE)

    run_job(app.job_deps(), "continuity-update", JobRequest(SECOND_DUE))
    charge_claimed(deps, claimed, SECOND_DUE)

    paid = {seq: amount for seq, amount, status in installments(app, parent) if status == "paid"}
    assert paid == _captured(app, parent) == {1: 1966, 2: 1966}
    value = rows(app, "SELECT SUM(price_minor * quantity) FROM schedule_occurrences WHERE sales_id = :p", p=parent)[0][
        0
    ]
    assert value == 5899 - 1375 + 111
    assert sum(amount for _, amount, _ in installments(app, parent)) == value


def test_the_claim_records_the_charge_in_flight_before_the_gateway_is_called(demo_app):
    """Issue 12 item 3: 'in flight' is the installment's own status, committed with its attempt (before
    any gateway call) and moved on by the recorded answer; readers need not look at the attempts."""
    app = demo_app
    parent, deps, claimed = _charge_in_flight(app)
    assert [status for _, _, status in installments(app, parent)] == ["paid", "in_flight", "not_submitted"]
    assert _captured(app, parent) == {1: 1966}  # the gateway has not seen the second charge yet
    with app.uow() as uow:
        assert {i.seq: i.status for i in load(uow, parent).installments}[2] == "in_flight"

    charge_claimed(deps, claimed, SECOND_DUE)

    assert [status for _, _, status in installments(app, parent)] == ["paid", "paid", "not_submitted"]
