"""Stories through the JSON API with CONTINUITY_GATEWAY=stripe against a real localstripe process.

Every amount is read back from localstripe's own records (its PaymentIntents, charges and refunds),
not from our tables; our attempts must name exactly those objects.
"""

from __future__ import annotations

from datetime import date, timedelta

from localstripe_support import (
    API,
    DECLINED,
    KAREN,
    NEEDS_AUTHENTICATION,
    VISA,
    api_client,
    attempts,
    enter,
    nightly,
)
from sqlalchemy import text

from continuity.domain.calendar import add_months

START = date(2026, 11, 23)


def _every_row(app) -> str:  # type: ignore[no-untyped-def]
    from continuity.adapters.orm import metadata

    with app.engine.connect() as conn:
        return "\n".join(str(tuple(r)) for t in metadata.sorted_tables for r in conn.execute(t.select()))


def test_seed_004_through_the_api_charges_each_book_at_stripe(stripe_app, localstripe):
    app = stripe_app
    c, h = api_client(app)
    [karen] = c.get(f"{API}/customers?q=Karen", headers=h).json()["items"]
    assert karen["account"] == KAREN
    sales_id, pm, order = enter(c, h, localstripe, "88000", VISA)
    assert order["status"] == "open" and [p["status"] for p in order["payments"]] == ["authorized"]
    assert c.get(f"{API}/customers/{KAREN}/cards", headers=h).json() == [
        {
            "token": pm,
            "brand": "visa",
            "last4": "4242",
            "expiry": "12/30",
            "expired": False,
            "declined": False,
            "replaced": [],
            "default": False,
        }
    ]
    customer = localstripe.customer_of(pm)
    assert localstripe.intents(customer) == []  # pay per shipment: the card was checked, nothing held

    for day in (START + timedelta(days=d) for d in range(0, 70, 3)):
        nightly(app, day)

    stripe_side = {i.id: i for i in localstripe.intents(customer)}
    approved = [a for a in attempts(app, sales_id) if a["operation"] == "capture" and a["status"] == "approved"]
    assert len(stripe_side) == 3 and sorted(stripe_side) == sorted(a["gateway_reference"] for a in approved)
    in_order = [stripe_side[a["gateway_reference"]] for a in approved]  # the children's order: 0015, 0017, 0018
    assert [(i.status, i.currency, i.payment_method, i.capture_method) for i in in_order] == [
        ("succeeded", "eur", pm, "automatic")
    ] * 3
    assert [localstripe.captured(i) for i in in_order] == [1299, 1525, 1375]
    prefix = app.settings.stripe_key_prefix  # CONTINUITY_STRIPE_KEY_PREFIX: each test database its own
    assert [i.metadata.to_dict()["idempotency_key"] for i in in_order] == [
        prefix + a["idempotency_key"] for a in approved
    ]
    rows = _every_row(app)
    assert pm in rows and VISA not in rows  # only the reference: no card number reached us


def test_a_declined_card_leaves_the_order_on_hold_with_stripes_reason(stripe_app, localstripe):
    app = stripe_app
    c, h = api_client(app)
    # billed up front in three installments: 19.80 authorized at submit
    sales_id, pm, order = enter(c, h, localstripe, "0021", DECLINED)
    assert order["status"] == "on_hold"
    assert "card declined (card_declined: Your card was declined.)" in order["hold_reason"]
    [intent] = localstripe.intents(localstripe.customer_of(pm))
    assert (intent.status, intent.amount, intent.capture_method) == ("requires_payment_method", 1980, "manual")
    [attempt] = attempts(app, sales_id)
    assert attempt["status"] == "declined" and attempt["reason"].startswith("card_declined")
    assert intent.metadata.to_dict()["idempotency_key"] == app.settings.stripe_key_prefix + attempt["idempotency_key"]
    assert localstripe.captured(intent) == 0


def test_a_card_that_needs_the_customer_is_a_decline_of_its_own(stripe_app, localstripe):
    app = stripe_app
    c, h = api_client(app)
    sales_id, pm, order = enter(c, h, localstripe, "0021", NEEDS_AUTHENTICATION)
    assert order["status"] == "on_hold" and "the customer must confirm this card" in order["hold_reason"]
    [attempt] = attempts(app, sales_id)
    assert attempt["reason"] == "authentication_required: the customer must confirm this card"
    [intent] = localstripe.intents(localstripe.customer_of(pm))
    assert intent.status == "requires_action" and localstripe.captured(intent) == 0


def test_an_installment_plan_is_charged_over_three_nightly_runs(stripe_app, localstripe):
    app = stripe_app
    c, h = api_client(app)
    sales_id, pm, order = enter(c, h, localstripe, "0021", VISA)
    assert order["status"] == "open"
    customer = localstripe.customer_of(pm)
    [held] = localstripe.intents(customer)
    assert (held.status, held.amount, held.capture_method) == ("requires_capture", 1980, "manual")

    for day in (START, add_months(START, 1), add_months(START, 2)):
        nightly(app, day)

    intents = localstripe.intents(customer)
    assert [(i.status, localstripe.captured(i)) for i in intents] == [("succeeded", 1980)] * 3
    assert held.id in {i.id for i in intents}  # the first installment: the submit authorization, captured
    assert sum(localstripe.captured(i) for i in intents) == 5940  # six vitamins at 9.90, all billed up front
    charged = [a for a in attempts(app, sales_id) if a["operation"] == "capture" and a["status"] == "approved"]
    assert sorted(a["gateway_reference"] for a in charged) == sorted(i.id for i in intents)
    with app.engine.connect() as conn:
        assert conn.execute(
            text("SELECT status FROM installments WHERE sales_id = :s ORDER BY seq"), {"s": sales_id}
        ).scalars().all() == ["paid", "paid", "paid"]


def test_a_cancel_refunds_what_was_captured_at_stripe(stripe_app, localstripe):
    app = stripe_app
    c, h = api_client(app)
    sales_id, pm, order = enter(c, h, localstripe, "0021", VISA)
    assert order["status"] == "open"
    nightly(app, START)  # the first installment captured, nothing shipped yet
    [captured] = localstripe.intents(localstripe.customer_of(pm))
    assert localstripe.captured(captured) == 1980

    done = c.post(f"{API}/continuity-orders/{sales_id}/cancel", headers=h, json={"reason": "moving abroad"})
    assert done.status_code == 200, done.text
    refund = done.json()["refund"]
    assert refund is not None
    [made] = localstripe.refunds(captured.id)
    assert (made.status, made.amount) == ("succeeded", round(float(refund) * 100))
    [attempt] = [a for a in attempts(app, sales_id) if a["operation"] == "refund"]
    assert attempt["status"] == "approved" and attempt["gateway_reference"] == made.id
    assert made.metadata.to_dict()["idempotency_key"] == app.settings.stripe_key_prefix + attempt["idempotency_key"]
    assert made.amount <= localstripe.captured(captured) + made.amount  # never more than was taken


def test_a_nightly_charge_that_needs_the_customer_is_declined_with_its_own_reason_and_a_notice(stripe_app, localstripe):
    import json

    from continuity.services import payment_entry

    app = stripe_app
    c, h = api_client(app)
    sales_id, _, order = enter(c, h, localstripe, "0021", VISA)
    assert order["status"] == "open"
    nightly(app, START)
    # the customer's card is now one that needs 3-D Secure (the change-card service takes numbers only)
    needs = payment_entry.save_payment_method(
        app.uow, app.gateway, app.clock, KAREN, localstripe.payment_method(NEEDS_AUTHENTICATION)
    ).token
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE continuity_lines SET card_token = :t WHERE sales_id = :s"), {"t": needs, "s": sales_id}
        )
    nightly(app, add_months(START, 1))

    [second] = [a for a in attempts(app, sales_id) if a["seq"] == 2]
    assert (second["status"], second["reason"]) == (
        "declined",
        "authentication_required: the customer must confirm this card",
    )
    [intent] = [i for i in localstripe.intents(localstripe.customer_of(needs)) if i.payment_method == needs]
    assert (intent.status, intent.amount, localstripe.captured(intent)) == ("requires_action", 1980, 0)
    with app.engine.connect() as conn:
        notices = conn.execute(
            text("SELECT kind, payload FROM notifications WHERE sales_id = :s AND kind = 'payment_declined'"),
            {"s": sales_id},
        ).all()
    assert [json.loads(p)["reason"] for _, p in notices] == [second["reason"]]


def test_changing_the_card_takes_a_payment_method_and_later_charges_go_to_it(stripe_app, localstripe):
    app = stripe_app
    c, h = api_client(app)
    sales_id, first, order = enter(c, h, localstripe, "0021", VISA)
    assert order["status"] == "open"
    nightly(app, START)
    base = f"{API}/continuity-orders/{sales_id}/change-card"
    refused = c.post(base, headers=h, json={"card_number": "5555 5555 5555 4444", "expiry": "12/30"})
    assert refused.status_code == 422 and refused.json()["code"] == "card_number_not_accepted"
    assert "payment_method" in refused.json()["detail"] and "5555" not in refused.text
    second = localstripe.payment_method("5555555555554444")
    done = c.post(base, headers=h, json={"payment_method": second, "reason": "new card"})
    assert done.status_code == 200, done.text
    nightly(app, add_months(START, 1))

    customer = localstripe.customer_of(first)
    assert localstripe.customer_of(second) == customer  # the account's one Stripe Customer
    by_card = {}
    for intent in localstripe.intents(customer):
        by_card.setdefault(intent.payment_method, []).append(localstripe.captured(intent))
    assert by_card == {first: [1980], second: [1980]}
    assert [c_["token"] for c_ in c.get(f"{API}/customers/{KAREN}/cards", headers=h).json()] == [first, second]
