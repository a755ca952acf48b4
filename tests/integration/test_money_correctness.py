"""Issue 11, money bugs 1-3: every authorization ends captured or released, on the card that made it; a
mixed order ships and charges its ordinary lines and closes only when every line is done. The gateway's
own ledger is the judge (jobs_support.open_authorizations, CAPTURES_ON_ANOTHER_CARD)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from api_support import API, bearer, client, users_of_each_role
from jobs_support import (
    CAPTURES_ON_ANOTHER_CARD,
    DECLINE,
    START,
    children,
    demo_programs,
    enter_order,
    execute,
    installments,
    job,
    nightly,
    open_authorizations,
    rows,
    scalar,
    set_up,
    use_card,
    with_threshold_two_and_tea,
)
from sqlalchemy import text

from continuity.bootstrap import App
from continuity.domain.errors import DomainError
from continuity.services import order_entry, payment_entry, servicing, views
from continuity.services.servicing import Change

KAREN = "004007"
LATER = date(2027, 6, 1)


def _payments(app: App, sales_id: str) -> list[tuple[str, str]]:
    return [
        (s, r)
        for s, r in rows(app, "SELECT status, reason FROM payments WHERE sales_id = :s ORDER BY payment_id", s=sales_id)
    ]


def _mixed_order(app: App) -> str:
    """Through the API: a normal item (0013 × 2, 29.90) beside three continuity lines, paid and submitted."""
    agent = bearer(users_of_each_role(app)["agent"])
    with client(app) as c:
        card = c.post(
            f"{API}/cards",
            headers=agent,
            json={"customer": KAREN, "card_number": "4111111111111111", "expiry": "12/30"},
        ).json()
        order = c.post(
            f"{API}/sales-orders",
            headers=agent,
            json={
                "customer": KAREN,
                "lines": [{"item_id": "0013", "quantity": 2}, {"item_id": "0016"}, {"item_id": "0021"}],
            },
        )
        assert order.status_code == 201, order.text
        sales_id = order.json()["sales_id"]
        assert (
            c.post(
                f"{API}/sales-orders/{sales_id}/payments", headers=agent, json={"card_token": card["token"]}
            ).status_code
            == 201
        )
        submitted = c.post(f"{API}/sales-orders/{sales_id}/submit", headers=agent)
        assert submitted.status_code == 200 and submitted.json()["status"] == "open", submitted.text
    return sales_id


def test_a_mixed_order_ships_and_charges_its_normal_line_and_closes_only_when_every_line_is_done(demo_app, make_app):
    parent = _mixed_order(demo_app)
    later = make_app(LATER)
    for _ in range(2):
        nightly(later, LATER)

    child = f"{parent}-1-1"  # the ordinary line ships as a child order of its own
    assert rows(later, "SELECT status FROM sales_orders WHERE sales_id = :c", c=child) == [("invoiced",)]
    assert rows(
        later, "SELECT line_no, item_id, quantity, parent_line_no FROM sales_lines WHERE sales_id = :c", c=child
    ) == [(1, "0013", 2, 1)]
    assert rows(later, "SELECT amount_minor, status FROM installments WHERE sales_id = :c", c=child) == [(2990, "paid")]
    captured = rows(
        later,
        "SELECT g.amount_minor FROM test_gateway_ledger g JOIN payment_attempts a "
        "ON a.idempotency_key = g.idempotency_key WHERE a.sales_id = :c AND g.operation = 'capture' "
        "AND g.outcome = 'approved' AND g.authorization_reference IS NOT NULL",
        c=child,
    )
    assert captured == [(2990,)]  # captured against the submit authorization
    lines = rows(later, "SELECT line_no, status FROM sales_lines WHERE sales_id = :p ORDER BY line_no", p=parent)
    order_status = rows(later, "SELECT status FROM sales_orders WHERE sales_id = :p", p=parent)[0][0]
    assert lines[0] == (1, "closed")
    assert lines == [(1, "closed"), (2, "closed"), (3, "closed")] and order_status == "closed"
    assert parent not in open_authorizations(later)  # 49.70 authorized, all of it captured or released
    assert scalar(later, CAPTURES_ON_ANOTHER_CARD) == 0
    assert [s for s, _ in _payments(later, parent)] == ["paid"]


def test_a_parent_with_an_open_normal_line_does_not_close(demo_app, make_app):
    parent = _mixed_order(demo_app)
    later = make_app(LATER)
    # the warehouse holds the ordinary line's parcel; every continuity shipment goes out and is paid
    later_hold = "UPDATE sales_orders SET status = 'on_hold', hold_reason = 'warehouse' WHERE sales_id = :c"
    with later.engine.begin() as conn:
        assert conn.execute(text(later_hold), {"c": f"{parent}-1-1"}).rowcount == 1
    for _ in range(2):
        nightly(later, LATER)
    assert rows(later, "SELECT line_no, status FROM sales_lines WHERE sales_id = :p ORDER BY line_no", p=parent) == [
        (1, "open"),
        (2, "closed"),
        (3, "closed"),
    ]
    assert rows(later, "SELECT status FROM sales_orders WHERE sales_id = :p", p=parent) == [("open",)]


def test_after_a_change_of_card_the_authorized_installment_is_captured_on_the_card_that_authorized_it(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")  # installment 1 (19.80) authorized on 4111… at submit
    auth_token, auth_ref = rows(
        app,
        "SELECT card_token, gateway_reference FROM payment_attempts WHERE sales_id = :p AND operation = 'authorize'",
        p=parent,
    )[0]
    servicing.apply(app.uow, app.gateway, app.clock, parent, Change("change_card", card_number=DECLINE, expiry="12/30"))
    nightly(app, START)

    assert installments(app, parent)[0] == (1, 1980, "paid")
    assert rows(
        app, "SELECT card_token, authorization_reference, outcome FROM test_gateway_ledger WHERE operation = 'capture'"
    ) == [(auth_token, auth_ref, "approved")]
    assert scalar(app, CAPTURES_ON_ANOTHER_CARD) == 0
    assert parent not in open_authorizations(app)
    assert [s for s, _ in _payments(app, parent)] == ["paid"]
    new_card = rows(app, "SELECT card_token FROM continuity_lines WHERE sales_id = :p", p=parent)[0][0]
    assert new_card != auth_token  # later charges go to the new card


@pytest.mark.parametrize("item", ["0016", "0021", "88000"], ids=["pay-per-shipment", "installments", "club"])
def test_submit_payments_end_paid_once_their_charges_are_captured(demo_app, make_app, item):
    app = demo_app
    parent = enter_order(app, item)
    later = make_app(LATER)
    nightly(later, LATER)
    nightly(later, LATER)
    statuses = [s for s, _ in _payments(later, parent)]
    assert statuses in (["paid"], ["cancelled"]), _payments(later, parent)
    assert parent not in open_authorizations(later)


def test_a_cancel_releases_what_is_left_of_the_submit_authorization(demo_app):
    app = demo_app
    parent = enter_order(app, "88000", payment_schedule_id="3X")  # installment 1 authorized, nothing captured
    assert parent in open_authorizations(app)
    servicing.apply(app.uow, app.gateway, app.clock, parent, Change("cancel", reason="changed her mind"))
    assert parent not in open_authorizations(app)
    assert _payments(app, parent)[0][0] == "cancelled"
    assert rows(app, "SELECT operation, outcome FROM test_gateway_ledger WHERE operation = 'void'") == [
        ("void", "approved")
    ]


def test_due_now_is_what_is_due_and_unpaid(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")  # installment 1 of 19.80 authorized at submit
    assert views.order_view(app.uow, parent)["amount_due_now"] == "0.00"  # held by the authorization
    nightly(app, START)
    assert views.order_view(app.uow, parent)["amount_due_now"] == "0.00"  # paid
    held = order_entry.create_order_with_line(app.uow, app.clock, KAREN, "0021")
    assert views.order_view(app.uow, held)["amount_due_now"] == "19.80"  # a draft: what the payment must cover


def test_submitting_again_after_a_decline_says_it_was_declined_and_what_to_do(demo_app):
    app = demo_app
    sales_id = order_entry.create_order_with_line(app.uow, app.clock, KAREN, "0013")
    payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, DECLINE, "12/30")
    assert payment_entry.submit(app.uow, app.gateway, app.clock, sales_id).status == "on_hold"
    with pytest.raises(DomainError) as refused:
        payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    assert refused.value.code == "payment_required"
    assert "declined" in refused.value.message and "another card" in refused.value.message


def test_a_decline_episode_sends_one_declined_notice_and_one_final_notice_when_retries_are_used_up(demo_app):
    app = demo_app  # the dunning schedule: a soft decline is tried on days 0, 1, 3, 5 and 7
    parent = enter_order(app, "0021")
    use_card(app, parent, DECLINE)
    for k in range(10):
        job(app, "process-payments", START + timedelta(days=k))
    assert [s for _, _, s in installments(app, parent)][0] == "declined"
    assert (
        scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE sales_id = :p AND status = 'declined'", p=parent) == 5
    )
    kinds = rows(
        app,
        "SELECT kind, COUNT(*) FROM notifications WHERE sales_id = :p AND kind <> 'upcoming_charge' "
        "GROUP BY kind ORDER BY kind",
        p=parent,
    )
    assert kinds == [("payment_declined", 1), ("retries_exhausted", 1)]


def _line_amount(app: App, sales_id: str) -> str:
    return views.order_view(app.uow, sales_id)["lines"][0]["amount"]


@pytest.mark.parametrize(
    "change", [Change("skip", seq=2), Change("substitute", seq=2, item_id="0013")], ids=["skip", "substitute"]
)
def test_the_parent_line_shows_what_will_be_charged_after_a_skip_or_substitute(demo_app, change):
    app = demo_app
    parent = enter_order(app, "0021")  # installments: the line's value is shared by its installments
    before = _line_amount(app, parent)
    servicing.apply(app.uow, app.gateway, app.clock, parent, change)
    shared = sum(cents for _, cents, s in installments(app, parent) if s != "cancelled")
    assert _line_amount(app, parent) != before
    assert _line_amount(app, parent) == f"{shared / 100:.2f}"


def test_the_parent_line_shows_what_will_be_charged_after_a_cancel(demo_app):
    app = demo_app
    parent = enter_order(app, "0016")  # pay per shipment: nothing shipped, so nothing will be charged
    servicing.apply(app.uow, app.gateway, app.clock, parent, Change("cancel", reason="moved away"))
    assert _line_amount(app, parent) == "0.00"


@pytest.fixture
def new_order(demo_app):  # type: ignore[no-untyped-def]
    """POST /sales-orders for Karen with one item and the continuity step's terms, as an agent."""
    agent = bearer(users_of_each_role(demo_app)["agent"])

    def _post(item_id: str, **continuity: str):  # type: ignore[no-untyped-def]
        with client(demo_app) as c:
            return c.post(
                f"{API}/sales-orders",
                headers=agent,
                json={"customer": KAREN, "lines": [{"item_id": item_id}], "continuity": continuity},
            )

    return _post


def test_a_payment_schedule_is_refused_on_a_program_that_does_not_offer_one(demo_app, new_order):
    refused = new_order("0016", payment_schedule_id="6X")  # TRILOGY: no prompt
    assert refused.status_code == 422 and refused.json()["code"] == "payment_schedule_not_offered", refused.text
    assert scalar(demo_app, "SELECT COUNT(*) FROM sales_orders") == 0  # nothing half-written


def test_a_start_date_is_refused_on_a_program_that_does_not_ask_for_one(demo_app, new_order):
    trilogy = demo_programs()["TRILOGY"]
    set_up(demo_app, {"programs": [{**trilogy, "prompt_for_start_date": False}]})
    refused = new_order("0016", start_date="2026-12-15")
    assert refused.status_code == 422 and refused.json()["code"] == "start_date_not_offered", refused.text
    assert new_order("0016").status_code == 201


def test_installments_never_end_after_the_last_shipment(demo_app, new_order):
    set_up(
        demo_app,
        {
            "payment_schedules": [
                {
                    "payment_schedule_id": "12X",
                    "description": "Twelve monthly",
                    "number_of_payments": 12,
                    "interval": "1 month",
                }
            ]
        },
    )
    refused = new_order("0021", payment_schedule_id="12X")  # 6 shipments, 150 days
    assert refused.status_code == 422 and refused.json()["code"] == "installments_after_last_shipment", refused.text
    assert "2027-04-24" in refused.json()["detail"]  # the last shipment, named
    accepted = new_order("0021", payment_schedule_id="6X")
    assert accepted.status_code == 201, accepted.text


def test_shipments_missed_before_order_entry_of_a_consolidating_program_become_one_child(demo_app):
    app = demo_app
    with_threshold_two_and_tea(app)  # event 1 ships 0022 five times every 14 days; repeat_threshold 2
    execute(app, "UPDATE programs SET consolidate_past_orders = TRUE WHERE program_id = 'TEA'")
    parent = enter_order(app, "0030", start_date=START - timedelta(days=60))  # 5 shipments already missed
    job(app, "create-child-orders", START)  # on its own, before any extend-lines
    nightly(app, START + timedelta(days=1))
    made = children(app, parent)
    assert [(child, seq) for child, _, _, seq in made] == [(f"{parent}-1-1", seq) for seq in range(1, 6)]
