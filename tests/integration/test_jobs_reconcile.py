"""A gateway timeout: the outcome is unknown until reconcile-payments asks the gateway; never a second charge.

The card 4000000000000119 times out (the test gateway makes the charge but does not answer). For the
installment case the approving card used at submit is swapped for it on the continuity line with SQL
(jobs_support.use_card), as there is no change-card service yet.
"""

from __future__ import annotations

from datetime import timedelta

from jobs_support import (
    START,
    TIMEOUT,
    attempts,
    captures,
    children,
    enter_order,
    installments,
    job,
    rows,
    scalar,
    status_of,
    use_card,
)

from continuity.adapters.batch.payments import PARENT_PAYMENT_HOLD
from continuity.services import order_entry, payment_entry, views

DAY = timedelta(days=1)


def test_a_timed_out_installment_charge_is_resolved_by_reconcile_and_never_charged_a_second_time(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, TIMEOUT)

    first = job(app, "process-payments", START)
    assert first["counts"]["unknown"] == 1
    assert installments(app, parent)[0] == (1, 1980, "unknown")
    assert [(n, s) for n, _, s, _ in attempts(app, parent)] == [(1, "unknown")]

    job(app, "create-child-orders", START)  # made while the payment is unresolved: on hold
    child = children(app, parent)[0][0]
    assert status_of(app, child) == ("on_hold", PARENT_PAYMENT_HOLD)
    assert job(app, "process-payments", START + DAY)["counts"]["unknown"] == 0  # an unknown one is not retried
    assert captures(app) == 1

    reconciled = job(app, "reconcile-payments", START + DAY)

    assert reconciled["counts"]["approved"] == 1 and reconciled["counts"]["children_released"] == 1
    assert installments(app, parent)[0] == (1, 1980, "paid")
    assert [(n, s) for n, _, s, _ in attempts(app, parent)] == [(1, "approved")]
    assert status_of(app, child) == ("open", "")
    assert rows(app, "SELECT operation, amount_minor FROM test_gateway_ledger WHERE operation = 'capture'") == [
        ("capture", 1980)
    ]  # one charge at the gateway, under the attempt's one key

    again = job(app, "process-payments", START + 2 * DAY)
    assert again["counts"]["approved"] == again["counts"]["unknown"] == 0
    assert job(app, "reconcile-payments", START + 2 * DAY)["counts"]["approved"] == 0
    assert captures(app) == 1 and len(attempts(app, parent)) == 1


def test_a_timed_out_authorization_at_submit_is_resolved_by_reconcile_and_the_order_opens(demo_app):
    app = demo_app
    parent = order_entry.create_order_with_line(app.uow, app.clock, "004007", "0021")
    payment_entry.add_card_payment(app.uow, app.gateway, app.clock, parent, TIMEOUT, "12/30")

    submitted = payment_entry.submit(app.uow, app.gateway, app.clock, parent)
    assert submitted.status == "on_hold" and "reconcile-payments" in submitted.hold_reason

    reconciled = job(app, "reconcile-payments", START)

    assert reconciled["counts"]["approved"] == 1
    order = views.order_view(app.uow, parent)
    assert order["status"] == "open" and [p["status"] for p in order["payments"]] == ["authorized"]
    assert scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'authorize'") == 1
