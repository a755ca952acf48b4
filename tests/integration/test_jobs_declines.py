"""A declined card: a soft decline retried on the dunning schedule (days 1, 3, 5, 7 after the first decline,
within 14 days); children held, then released.

The cards approve at submit; the card on the continuity line is then swapped for one that declines
(and later for one that approves) with SQL via jobs_support.use_card, as there is no change-card
service yet.
"""

from __future__ import annotations

from datetime import date, timedelta

from jobs_support import (
    APPROVE,
    DECLINE,
    START,
    attempts,
    captures,
    children,
    enter_order,
    installments,
    job,
    nightly,
    status_of,
    use_card,
)

from continuity.adapters.batch.payments import OWN_PAYMENT_HOLD, PARENT_PAYMENT_HOLD
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

DAY = timedelta(days=1)


def test_a_soft_decline_is_retried_on_days_1_3_5_and_7_after_the_first_decline_then_never(demo_app):
    app = demo_app  # the default dunning schedule: days 1, 3, 5, 7 within 14 days
    parent = enter_order(app, "0021")  # REPLENISH: 3 installments, the first due at order entry
    use_card(app, parent, DECLINE)  # a generic decline: soft

    job(app, "process-payments", START)
    job(app, "process-payments", START)  # the same as_of again: no retry
    assert [(n, s) for n, _, s, _ in attempts(app, parent)] == [(1, "declined")]

    for k in range(1, 16):
        job(app, "process-payments", START + k * DAY)
        job(app, "process-payments", START + k * DAY)  # every re-run changes nothing

    tried = [START + d * DAY for d in (0, 1, 3, 5, 7)]
    assert attempts(app, parent) == [(n, "capture", "declined", d) for n, d in enumerate(tried, 1)]
    assert installments(app, parent)[0] == (1, 1980, "declined")
    assert captures(app) == 5  # the first try and four retries, each under its own key


def test_missed_retry_days_are_caught_up_one_retry_a_run_within_the_window(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, DECLINE)
    job(app, "process-payments", START)

    for day in (6, 7, 8, 15, 16):  # no run on days 1 to 5: retries 1 to 3 are due on day 6
        job(app, "process-payments", START + day * DAY)

    tried = [d for _, _, _, d in attempts(app, parent)]
    assert tried == [START + d * DAY for d in (0, 6, 7, 8)]  # day 15 is after the 14-day window


def test_the_next_child_of_a_parent_with_a_declined_installment_is_created_on_hold_and_released_once_paid(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, DECLINE)
    job(app, "process-payments", START)

    created = job(app, "create-child-orders", START)
    child = children(app, parent)[0][0]
    job(app, "fulfil-children", START + 3 * DAY)  # the warehouse does not ship a held child

    assert created["counts"]["created"] == 1 and created["counts"]["on_hold"] == 1
    assert status_of(app, child) == ("on_hold", PARENT_PAYMENT_HOLD)

    use_card(app, parent, APPROVE)  # the customer gives a new card (stand-in for change-card)
    paid = job(app, "process-payments", START + DAY)

    assert paid["counts"]["approved"] == 1 and paid["counts"]["children_released"] == 1
    assert installments(app, parent)[0] == (1, 1980, "paid")
    assert [(n, s) for n, _, s, _ in attempts(app, parent)] == [(1, "declined"), (2, "approved")]
    assert status_of(app, child) == ("open", "")
    assert job(app, "fulfil-children", START + 3 * DAY)["counts"]["shipped"] == 1


def test_a_declined_child_charge_holds_that_child_and_the_next_one_until_a_later_run_charges_a_new_card(demo_app):
    app = demo_app
    parent = enter_order(app, "88000")  # the book club: each child order is charged when it is made
    use_card(app, parent, DECLINE)

    nightly(app, START)
    first = children(app, parent)[0][0]
    assert status_of(app, first) == ("on_hold", OWN_PAYMENT_HOLD)
    assert installments(app, first) == [(1, 1299, "declined")]

    nightly(app, START + DAY)  # the first retry (day 1) declines too
    december = START + 30 * DAY
    nightly(app, december)  # past the 14-day window: no retry; the next child is made, on hold
    second = children(app, parent)[1][0]
    assert [(n, s) for n, _, s, _ in attempts(app, first)] == [(1, "declined"), (2, "declined")]
    assert status_of(app, second) == ("on_hold", PARENT_PAYMENT_HOLD)
    assert [s for _, s, _, _ in children(app, parent)] == ["on_hold", "on_hold"]

    use_card(app, parent, APPROVE)
    nightly(app, december + DAY)

    assert installments(app, first) == [(1, 1299, "paid")] and installments(app, second)[0][2] == "paid"
    assert status_of(app, first) == ("invoiced", "")  # its ship date (2026-11-26) has come: shipped
    assert status_of(app, second) == ("open", "")  # released; it ships on its date (2026-12-26)
    nightly(app, december + 3 * DAY)
    assert [s for _, s, _, _ in children(app, parent)] == ["invoiced", "invoiced"]
    assert [(n, s) for n, _, s, _ in attempts(app, first)] == [(1, "declined"), (2, "declined"), (3, "approved")]


def test_installments_that_used_up_their_retries_do_not_keep_other_due_installments_from_being_charged(demo_app):
    app = demo_app
    exhausted = enter_order(app, "0021")
    use_card(app, exhausted, DECLINE)
    for k in (0, 1, 3, 5, 7):
        job(app, "process-payments", START + k * DAY)
    assert len(attempts(app, exhausted)) == 5
    other = enter_order(app, "0021")  # due on the same day, sorted after the exhausted one

    result = run_job(app.job_deps(), "process-payments", JobRequest(START + 9 * DAY, chunk_size=1))

    assert result["counts"]["approved"] == 1
    assert installments(app, other)[0] == (1, 1980, "paid")
    assert len(attempts(app, exhausted)) == 5


def test_a_child_made_before_its_parents_installment_was_declined_is_put_on_hold_and_not_shipped(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    nightly(app, START)
    nightly(app, date(2026, 12, 20))  # the 2nd shipment (2026-12-25) is made; installment 2 is due 2026-12-23
    second = children(app, parent)[1][0]
    assert status_of(app, second) == ("open", "")
    use_card(app, parent, DECLINE)

    nightly(app, date(2026, 12, 23))
    nightly(app, date(2026, 12, 25))  # its ship date: the warehouse must not get it

    assert installments(app, parent)[1] == (2, 1980, "declined")
    assert status_of(app, second) == ("on_hold", PARENT_PAYMENT_HOLD)

    use_card(app, parent, APPROVE)
    nightly(app, date(2026, 12, 26))

    assert installments(app, parent)[1] == (2, 1980, "paid")
    assert status_of(app, second) == ("invoiced", "")
