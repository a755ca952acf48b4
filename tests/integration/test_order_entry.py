"""Order entry services on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from continuity.adapters import orm
from continuity.domain.errors import DomainError
from continuity.services import order_entry, payment_entry, views
from continuity.services.setup import import_setup
from continuity.services.setup_documents import parse_setup


def test_a_book_club_order_is_submitted_with_an_approved_card(demo_app):
    app = demo_app
    sales_id = order_entry.create_order_with_line(app.uow, app.clock, "004007", "88000")
    payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, "4111111111111111", "12/30")
    result = payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    order = views.order_view(app.uow, sales_id)
    assert result.status == "open"
    assert [s["event_id"] for s in order["lines"][0]["continuity"]["schedule"]] == [3, 4, 5, 6]


# -- refusals and failures: a clear code, and nothing half-written ---------------------------------------

KAREN = "004007"
APPROVE, DECLINE, TIMEOUT = "4111111111111111", "4000000000000002", "4000000000000119"


def _count(app, table, *where) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _counts(app) -> dict[str, int]:
    tables = (
        "sales_orders",
        "sales_lines",
        "continuity_lines",
        "schedule_occurrences",
        "installments",
        "payments",
        "payment_attempts",
        "cards",
    )
    return {name: _count(app, orm.metadata.tables[name]) for name in tables}


def _raises(code: str, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)
    assert err.value.code == code, f"{err.value.code}: {err.value.message}"
    assert err.value.message.strip()
    return err.value


def _new(app, item: str = "88000", **kwargs) -> str:
    return order_entry.create_order_with_line(app.uow, app.clock, KAREN, item, **kwargs)


def _pay(app, sales_id: str, card: str = APPROVE, expiry: str = "12/30", amount: str | None = None) -> int:
    return payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, card, expiry, amount)


def _submit(app, sales_id: str):
    return payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)


def test_an_inactive_program_is_refused_and_leaves_no_order(demo_app):
    app = demo_app
    import_setup(
        app.uow,
        parse_setup(
            {
                "products": [
                    {"item_id": "77000", "name": "Retired club", "price": "0.00", "continuity_program_id": "RETIRED"}
                ],
                "programs": [
                    {"program_id": "RETIRED", "active": False, "events": [{"event_id": 1, "item_id": "0013"}]}
                ],
            }
        ),
        app.clock.today(),
    )
    before = _counts(app)
    _raises("program_inactive", _new, app, "77000")
    assert _counts(app) == before
    assert before["sales_orders"] == 0


def test_submit_without_a_payment_is_refused_and_the_order_stays_draft(demo_app):
    app = demo_app
    sales_id = _new(app)
    err = _raises("payment_required", _submit, app, sales_id)
    assert sales_id in err.message
    order = views.order_view(app.uow, sales_id)
    assert order["status"] == "draft"
    assert order["lines"][0]["continuity"]["schedule"]
    assert _count(app, orm.payment_attempts) == 0


def test_a_payment_below_what_is_due_now_is_refused_for_installments(demo_app):
    app = demo_app
    sales_id = _new(app, "0021")  # REPLENISH: billed up front in three installments
    order = views.order_view(app.uow, sales_id)
    assert order["lines"][0]["continuity"]["billing_mode"] == "installments"
    due_now = order["amount_due_now"]
    assert due_now == order["installments"][0]["amount"] and float(due_now) > 0
    _pay(app, sales_id, amount="0.01")
    _raises("payment_insufficient", _submit, app, sales_id)
    order = views.order_view(app.uow, sales_id)
    assert order["status"] == "draft"
    assert [p["status"] for p in order["payments"]] == ["not_submitted"]
    assert _count(app, orm.payment_attempts) == 0


def test_the_default_payment_covers_the_first_installment(demo_app):
    app = demo_app
    sales_id = _new(app, "0021")
    _pay(app, sales_id)
    assert _submit(app, sales_id).status == "open"
    order = views.order_view(app.uow, sales_id)
    assert order["payments"][0]["amount"] == order["installments"][0]["amount"]
    assert order["amount_due_now"] == "0.00"  # after submit: nothing due is left unpaid or unauthorized
    assert [i["status"] for i in order["installments"]] == ["authorized", "not_submitted", "not_submitted"]


def test_a_declined_card_puts_the_order_on_hold_and_another_card_releases_it(demo_app):
    app = demo_app
    sales_id = _new(app)
    schedule = views.order_view(app.uow, sales_id)["lines"][0]["continuity"]["schedule"]
    _pay(app, sales_id, DECLINE)
    result = _submit(app, sales_id)
    assert result.status == "on_hold"
    order = views.order_view(app.uow, sales_id)
    assert order["status"] == "on_hold"
    assert "declined" in order["hold_reason"] and order["hold_reason"] == result.hold_reason
    assert [(p["status"], p["reason"]) for p in order["payments"]] == [("declined", "do not honour")]
    # nothing lost: the line and its schedule are as they were
    assert [ln["item_id"] for ln in order["lines"]] == ["88000"]
    assert order["lines"][0]["continuity"]["schedule"] == schedule

    _pay(app, sales_id, APPROVE)
    assert _submit(app, sales_id).status == "open"
    order = views.order_view(app.uow, sales_id)
    assert order["status"] == "open" and order["hold_reason"] == ""
    assert [p["status"] for p in order["payments"]] == ["declined", "authorized"]
    assert order["lines"][0]["continuity"]["schedule"] == schedule


def test_a_gateway_timeout_leaves_the_order_on_hold_with_an_unknown_payment(demo_app):
    app = demo_app
    sales_id = _new(app)
    _pay(app, sales_id, TIMEOUT)
    assert _submit(app, sales_id).status == "on_hold"
    order = views.order_view(app.uow, sales_id)
    assert order["status"] == "on_hold" and order["hold_reason"]
    assert [p["status"] for p in order["payments"]] == ["unknown"]
    with app.uow() as uow:
        attempts = uow.orders.attempts(sales_id)
    assert [(a.operation, a.status) for a in attempts] == [("authorize", "unknown")]
    assert attempts[0].idempotency_key


def test_an_expired_card_is_refused_and_nothing_is_written(demo_app):
    app = demo_app
    sales_id = _new(app)
    before = _counts(app)
    err = _raises("card_expired", _pay, app, sales_id, APPROVE, "10/26")  # today is 2026-11-23
    assert APPROVE not in err.message
    assert _counts(app) == before
    assert before["cards"] == 0 and before["payments"] == 0


def test_a_card_is_usable_to_the_end_of_its_expiry_month(demo_app):
    app = demo_app
    sales_id = _new(app)
    _pay(app, sales_id, APPROVE, "11/26")
    assert _count(app, orm.cards) == 1


def test_a_malformed_card_number_is_refused_without_echoing_it(demo_app):
    app = demo_app
    sales_id = _new(app)
    for number in ["4111111111111112", "41111111", "4111-1111-1111-111x"]:  # Luhn, length, a letter
        err = _raises("card_number_invalid", _pay, app, sales_id, number)
        assert number not in err.message and "41111111" not in err.message
    assert _count(app, orm.cards) == 0 and _count(app, orm.payments) == 0


def test_quantity_zero_is_refused_and_no_order_is_written(demo_app):
    app = demo_app
    before = _counts(app)
    _raises("quantity_invalid", _new, app, "88000", quantity=0)
    _raises("quantity_invalid", _new, app, "0013", quantity=-1)
    _raises("quantity_invalid", _new, app, "88000", quantity=10**20)  # once an integer overflow: internal_error
    assert _counts(app) == before
    assert before["sales_orders"] == 0
    # and the sales order number was not used up
    assert _new(app) == "SO-000001"


def test_an_unknown_item_is_refused_and_no_order_is_written(demo_app):
    app = demo_app
    before = _counts(app)
    err = _raises("item_unknown", _new, app, "99999")
    assert "99999" in err.message
    assert _counts(app) == before


def test_an_unknown_customer_is_refused(demo_app):
    app = demo_app
    _raises("customer_not_found", order_entry.create_order_with_line, app.uow, app.clock, "999999", "88000")
    assert _count(app, orm.sales_orders) == 0


def test_a_start_date_in_the_past_is_allowed(demo_app):
    app = demo_app
    sales_id = _new(app, start_date=date(2026, 10, 1))
    order = views.order_view(app.uow, sales_id)
    terms = order["lines"][0]["continuity"]
    assert terms["start_date"] == "2026-10-01"
    schedule = terms["schedule"]
    with app.uow() as uow:
        days_after_order = uow.setup.program("BOOKCLUB").days_after_order
    assert schedule[0]["ship_date"] == (date(2026, 10, 1) + timedelta(days=days_after_order)).isoformat()
    assert schedule[0]["ship_date"] < order["order_date"]
    assert [s["ship_date"] for s in schedule] == sorted(s["ship_date"] for s in schedule)
    _pay(app, sales_id)
    assert _submit(app, sales_id).status == "open"
