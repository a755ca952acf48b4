"""An expired card at child creation: the child is not created and is counted as skipped; once the card
is replaced (SQL stand-in for the change-card service: jobs_support.use_card), a later run creates it."""

from __future__ import annotations

from datetime import date

from jobs_support import APPROVE, START, children, enter_order, installments, job, nightly, occurrences, use_card

JANUARY = date(2027, 1, 23)


def test_a_child_due_after_the_card_expired_is_skipped_and_created_by_a_later_run_once_the_card_is_replaced(demo_app):
    app = demo_app
    parent = enter_order(app, "88000", expiry="12/26")  # valid at order entry, expired from January 2027
    nightly(app, START)
    nightly(app, date(2026, 12, 23))
    assert len(children(app, parent)) == 2

    skipped = job(app, "create-child-orders", JANUARY)
    again = job(app, "create-child-orders", JANUARY)

    # the customer is told once (test_card_expiry.py: ahead of time, when the nights run in between)
    assert skipped["counts"] == {"created": 0, "on_hold": 0, "skipped_expired_card": 1, "card_expiry_notices": 1}
    assert again["counts"] == {"created": 0, "on_hold": 0, "skipped_expired_card": 1, "card_expiry_notices": 0}
    assert len(children(app, parent)) == 2
    assert occurrences(app, parent)[2][3:] == ("pending", None)  # seq 3 (ships 2027-01-26) waits

    use_card(app, parent, APPROVE, "12/30")
    created = job(app, "create-child-orders", date(2027, 1, 24))

    assert created["counts"] == {"created": 1, "on_hold": 0, "skipped_expired_card": 0, "card_expiry_notices": 0}
    third = f"{parent}-1-3"
    assert children(app, parent)[2] == (third, "open", "0018", 3)
    assert occurrences(app, parent)[2][3:] == ("child_created", third)
    job(app, "process-payments", date(2027, 1, 24))
    assert installments(app, third) == [(1, 1375, "paid")]  # charged on the new card
