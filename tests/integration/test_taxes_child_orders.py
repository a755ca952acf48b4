"""Child orders carry their shipping charge and tax (create-child-orders, set-based SQL), the projection
foretells them, and what the gateway captured is the child's total: checked against its own ledger."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jobs_support import START, enter_order, installments, job, rows

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.sql import sql_text
from continuity.domain.tax import ChargeKind, ShippingCharge, tax_minor
from continuity.services import taxes, views
from continuity.services.projection import order_projection

ERIK, KAREN = "004053", "004007"


def _per_order_shipping(app, program: str = "BOOKCLUB", minor: int = 350) -> None:  # type: ignore[no-untyped-def]
    taxes.set_program_shipping(app.uow, program, ShippingCharge(ChargeKind.PER_ORDER, minor), START)


def _ledger(app, sales_id: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    """What the gateway's own ledger captured for the child's charge (its idempotency key names it)."""
    return rows(
        app,
        "SELECT g.operation, g.amount_minor FROM test_gateway_ledger g JOIN payment_attempts a "
        "ON a.idempotency_key = g.idempotency_key WHERE a.sales_id = :s AND g.operation = 'capture'",
        s=sales_id,
    )


def test_a_pay_later_child_costs_its_book_its_shipping_and_their_tax_and_that_is_what_is_captured(demo_app):
    app = demo_app
    _per_order_shipping(app)
    parent = enter_order(app, "88000", account=ERIK)
    projected = order_projection(app.uow, START, parent)["charges"][0]

    job(app, "create-child-orders", START, sales_id=parent)
    child = f"{parent}-1-1"
    order = views.order_view(app.uow, child)
    # book 0015 12.99: tax 6 % 0.7794 → 0.78; shipping 3.50, its tax 0.21
    assert (order["goods"], order["charges"], order["tax"], order["total"]) == ("12.99", "3.50", "0.99", "17.48")
    line = order["lines"][0]
    assert (line["charge"], line["tax"], line["total"]) == ("3.50", "0.99", "17.48")
    assert installments(app, child) == [(1, 1748, "not_submitted")]
    assert projected["amount"] == "17.48"  # the agent's projection said so before the child existed

    job(app, "process-payments", START)
    assert installments(app, child) == [(1, 1748, "paid")]
    assert _ledger(app, child) == [("capture", 1748)]


def test_no_rate_and_no_charge_leave_the_child_at_its_book_price(demo_app):
    app = demo_app
    parent = enter_order(app, "88000", account=KAREN)
    job(app, "create-child-orders", START, sales_id=parent)
    child = f"{parent}-1-1"
    assert installments(app, child) == [(1, 1299, "not_submitted")]
    assert rows(app, "SELECT charge_minor, tax_minor FROM sales_lines WHERE sales_id = :s", s=child) == [(0, 0)]


def test_a_charge_per_unit_and_gross_prices_in_sql_agree_with_the_domain(demo_app):
    app = demo_app
    taxes.set_program_shipping(app.uow, "BOOKCLUB", ShippingCharge(ChargeKind.PER_UNIT, 125), START)
    with app.uow() as uow:
        params = uow.setup.parameters()
        params.prices_include_tax = True
        uow.setup.save_parameters(params)
        uow.commit()
    parent = enter_order(app, "88000", account=ERIK, quantity=3)
    projected = order_projection(app.uow, START, parent)["charges"][0]
    job(app, "create-child-orders", START, sales_id=parent)
    child = f"{parent}-1-1"
    order = views.order_view(app.uow, child)
    # 3 × 12.99 = 38.97 gross: tax 38.97 × 6/106 = 2.2058 → 2.21; 3 × 1.25 = 3.75 gross: 0.2123 → 0.21
    assert (order["goods"], order["charges"], order["tax"], order["total"]) == ("38.97", "3.75", "2.42", "42.72")
    assert installments(app, child) == [(1, 4272, "not_submitted")]
    assert projected["amount"] == order["total"]


def test_installment_billed_children_carry_their_tax_and_the_installments_the_whole(demo_app):
    """REPLENISH (3 installments): the children are paid by the parent's installments, which sum to the
    children's totals (each shipment priced alike at entry and at creation)."""
    app = demo_app
    _per_order_shipping(app, "REPLENISH", 490)
    parent = enter_order(app, "0021", account=ERIK)
    parent_view = views.order_view(app.uow, parent)
    for as_of in [START.replace(day=25)]:
        job(app, "create-child-orders", as_of, sales_id=parent)
    child = views.order_view(app.uow, f"{parent}-1-1")
    assert (child["goods"], child["charges"], child["tax"], child["total"]) == ("9.90", "4.90", "1.78", "16.58")
    assert installments(app, f"{parent}-1-1") == []  # paid through the parent's installments
    assert Decimal(parent_view["total"]) == 6 * Decimal(child["total"])
    assert sum(Decimal(i["amount"]) for i in parent_view["installments"]) == Decimal(parent_view["total"])


lines = st.lists(
    st.tuples(st.integers(0, 10**9), st.integers(0, 1_000_000), st.integers(0, 1)), min_size=1, max_size=12
)


def test_the_sql_tax_rule_agrees_with_the_domains(app):
    """adapters/sql_rules.tax_minor computes what domain.tax.tax_minor does, half-up, net and gross."""
    with app.engine.connect() as conn:
        conn.execute(
            sql_text("CREATE TEMPORARY TABLE rule_lines (id INTEGER PRIMARY KEY, a BIGINT, r BIGINT, g INTEGER)")
        )

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(lines)
        def check(generated: list[tuple[int, int, int]]) -> None:
            conn.execute(sql_text("DELETE FROM rule_lines"))
            conn.execute(
                sql_text("INSERT INTO rule_lines (id, a, r, g) VALUES (:id, :a, :r, :g)"),
                [{"id": n, "a": a, "r": r, "g": g} for n, (a, r, g) in enumerate(generated)],
            )
            got = dict(conn.execute(sql_text(f"SELECT id, {R.tax_minor('a', 'r', 'g')} FROM rule_lines")).all())
            assert got == {n: tax_minor(a, r, bool(g)) for n, (a, r, g) in enumerate(generated)}

        check()
