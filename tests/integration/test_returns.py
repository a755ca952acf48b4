"""Returns and credit notes (issue 16 part 1): a shipped and invoiced child order is returned in whole or
in part; the credit note refunds what was captured (the child's own charge, or its parent's installments)
under an idempotency key written before the call, never more than was captured and never more than was
shipped; the program's return_action continues, replaces or cancels the rest. Every refund is checked
against the test connector's own ledger. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest
from jobs_support import START, job, nightly, rows, scalar, set_up, snapshot, status_of
from jobs_support import children as children_of
from jobs_support import enter_order as enter
from test_servicing import _SilentRefunds

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import App
from continuity.domain.audit import Actor, ActorKind
from continuity.domain.errors import DomainError, NotFound
from continuity.services import fulfilment, history, returns
from continuity.services.demo import load_demo
from continuity.services.returns import ReturnRequest

ANN = Actor("agent-ann", ActorKind.AGENT)
SHIPPED = date(2026, 11, 26)
BACK = FixedClock(SHIPPED)  # the day the goods come back
TABLES = (
    "credit_notes",
    "credit_note_lines",
    "payment_attempts",
    "test_gateway_ledger",
    "sales_orders",
    "audit_entries",
)

#: Per order, from the gateway's own ledger (joined to our attempts by key): approved captures and refunds.
LEDGER_MONEY = (
    "SELECT a.sales_id, g.operation, SUM(g.amount_minor) FROM test_gateway_ledger g "
    "JOIN payment_attempts a ON a.idempotency_key = g.idempotency_key "
    "WHERE g.outcome = 'approved' AND g.operation IN ('capture', 'refund') GROUP BY a.sales_id, g.operation"
)


def ledger_money(app: App) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for sales_id, operation, minor in rows(app, LEDGER_MONEY):
        found.setdefault(sales_id, {"capture": 0, "refund": 0})[operation] = int(minor)
    return found


def assert_refunds_within_captures(app: App) -> None:
    for sales_id, money in ledger_money(app).items():
        assert money["refund"] <= money["capture"], f"{sales_id} refunded more than it captured: {money}"


def refund_ledger(app: App) -> list[tuple]:
    """(key, amount_minor, outcome) of the refunds the gateway made for returns."""
    return rows(
        app,
        "SELECT g.idempotency_key, g.amount_minor, g.outcome FROM test_gateway_ledger g "
        "WHERE g.operation = 'refund' AND g.idempotency_key LIKE 'return:%' ORDER BY g.idempotency_key",
    )


def ret(app: App, child: str, quantity: int = 1, reason: str = "DAMAGED", line: int = 1, **kw) -> dict:  # type: ignore[no-untyped-def]
    return dict(
        returns.return_goods(app.uow, app.gateway, BACK, ReturnRequest(child, line, quantity, reason, **kw), ANN)
    )


def shipped_child(app: App, item: str = "0016", **kwargs) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A parent of ``item`` (TRILOGY: paid per shipment) whose first child order is shipped and invoiced."""
    parent = enter(app, item, **kwargs)
    nightly(app, START)
    nightly(app, SHIPPED)
    child = children_of(app, parent)[0][0]
    assert status_of(app, child)[0] == "invoiced"
    return parent, child


def with_action(app: App, program_id: str, action: str) -> None:
    from jobs_support import demo_programs

    set_up(app, {"programs": [demo_programs()[program_id] | {"return_action": action}]})


@pytest.fixture
def demo(make_app) -> App:  # type: ignore[no-untyped-def]
    """The demo data; orders entered on START, their first shipments shipped and invoiced by the 26th."""
    app = make_app(START)
    load_demo(app.uow, START)
    return app


def test_a_child_paid_per_shipment_is_returned_in_part_then_in_whole_never_beyond_what_shipped(demo):
    app = demo
    parent, child = shipped_child(app, quantity=2)  # 2 × 14.95 = 29.90 charged on the child itself

    first = ret(app, child, 1, note="cover torn")
    assert (first["credit_note"], first["amount"], first["refund_status"]) == ("CN-000001", "14.95", "approved")
    assert first["refund_sales_id"] == child and first["schedule_action"] == "continue"
    second = ret(app, child, 1, "NOT_WANTED")
    assert (second["credit_note"], second["amount"]) == ("CN-000002", "14.95")

    assert refund_ledger(app) == [(first["refund_key"], 1495, "approved"), (second["refund_key"], 1495, "approved")]
    assert ledger_money(app)[child] == {"capture": 2990, "refund": 2990}
    before = snapshot(app, TABLES)
    with pytest.raises(DomainError) as refused:
        ret(app, child, 1)
    assert refused.value.code == "return_quantity_exceeds_shipped"
    assert refused.value.params["returnable"] == 0
    assert snapshot(app, TABLES) == before  # nothing written
    notes = returns.credit_notes(app.uow, child)
    assert [(n.credit_note_id, n.reason_code, n.lines[0].quantity, str(n.amount.amount)) for n in notes] == [
        ("CN-000001", "DAMAGED", 1, "14.95"),
        ("CN-000002", "NOT_WANTED", 1, "14.95"),
    ]
    assert returns.credit_notes(app.uow, parent) == notes  # the parent lists its children's
    assert status_of(app, parent)[0] == "open"  # continue: the schedule goes on


def test_a_child_of_a_parent_paid_in_installments_refunds_from_the_parents_captures(demo):
    app = demo
    parent = enter(app, "0021")  # REPLENISH: 59.40 in 3 installments on the parent, 9.90 a shipment
    nightly(app, START)
    nightly(app, SHIPPED)
    child = children_of(app, parent)[0][0]
    assert status_of(app, child)[0] == "invoiced"

    result = ret(app, child)

    assert (result["amount"], result["refund_sales_id"], result["refund_status"]) == ("9.90", parent, "approved")
    assert result["refund_key"].startswith(f"return:{parent}:1:1:refund:")
    assert refund_ledger(app) == [(result["refund_key"], 990, "approved")]
    assert ledger_money(app)[parent] == {"capture": 1980, "refund": 990}
    assert_refunds_within_captures(app)


def test_refused_returns_write_nothing_and_say_why(demo):
    app = demo
    parent, child = shipped_child(app)
    before = snapshot(app, TABLES)
    cases = [
        (ReturnRequest(child, 1, 0, "DAMAGED"), "return_quantity_invalid"),
        (ReturnRequest(child, 1, 2, "DAMAGED"), "return_quantity_exceeds_shipped"),
        (ReturnRequest(child, 9, 1, "DAMAGED"), "line_not_found"),
        (ReturnRequest(child, 1, 1, "NO_SUCH"), "return_reason_not_found"),
        (ReturnRequest(parent, 1, 1, "DAMAGED"), "not_a_child_order"),
        (ReturnRequest("SO-999999", 1, 1, "DAMAGED"), "sales_order_not_found"),
    ]
    for request, code in cases:
        with pytest.raises(DomainError) as refused:
            returns.return_goods(app.uow, app.gateway, BACK, request, ANN)
        assert refused.value.code == code, request
    assert snapshot(app, TABLES) == before


def test_a_child_not_yet_invoiced_cannot_be_returned(demo, make_app):
    app = demo
    parent = enter(app, "0016")
    nightly(app, START)
    child = children_of(app, parent)[0][0]
    with pytest.raises(DomainError) as refused:
        ret(app, child)
    assert (refused.value.code, refused.value.params) == ("return_not_invoiced", {"status": "open"})


def test_a_refund_never_exceeds_what_the_order_captured_less_its_refunds(demo):
    """The child's charge was partly refunded before (written here as an approved refund attempt: no other
    feature refunds a child's own charge): a return worth more than the rest is refused."""
    app = demo
    _, child = shipped_child(app)
    with app.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(
            text(
                "INSERT INTO payment_attempts (idempotency_key, subject, sales_id, line_no, seq, operation, "
                "attempt_no, card_token, amount_minor, currency, status, reason, as_of, created_at) "
                "SELECT 'manual-refund', 'refund', sales_id, line_no, 1, 'refund', 1, card_token, 500, currency, "
                "'approved', '', as_of, created_at FROM payment_attempts WHERE sales_id = :c AND operation = 'capture'"
            ),
            {"c": child},
        )
    with pytest.raises(DomainError) as refused:
        ret(app, child)
    assert refused.value.code == "refund_exceeds_captured"
    assert (refused.value.params["refundable"], refused.value.params["captured"]) == ("9.95", "14.95")
    assert refund_ledger(app) == []


def test_an_unanswered_refund_stays_unknown_and_reconcile_resolves_it_under_its_own_key(demo):
    app = demo
    _, child = shipped_child(app)
    silent = App(app.settings, app.engine, app.uow, _SilentRefunds(app.gateway), app.clock)

    result = returns.return_goods(silent.uow, silent.gateway, BACK, ReturnRequest(child, 1, 1, "DAMAGED"), ANN)

    assert result["refund_status"] == "unknown"
    key = result["refund_key"]
    assert rows(app, "SELECT status FROM payment_attempts WHERE idempotency_key = :k", k=key) == [("unknown",)]
    assert refund_ledger(app) == []
    with pytest.raises(DomainError) as refused:  # the unknown refund counts: no second refund of that money
        ret(app, child)
    assert refused.value.code == "return_quantity_exceeds_shipped"
    job(app, "reconcile-payments", SHIPPED, deps=app.job_deps(stale_after_seconds=0))
    assert rows(app, "SELECT status FROM payment_attempts WHERE idempotency_key = :k", k=key) == [("approved",)]
    assert refund_ledger(app) == [(key, 1495, "approved")]  # sent once, under the key written before the call
    assert scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE subject = 'return'") == 1


def test_replace_ships_the_same_goods_again_as_a_child_order_at_no_charge(demo):
    app = demo
    with_action(app, "TRILOGY", "replace")
    parent, child = shipped_child(app)

    result = ret(app, child, reason="WRONG_ITEM")

    replacement = result["replacement_sales_id"]
    assert replacement == f"{child}-R1"
    assert rows(
        app,
        "SELECT so.parent_sales_id, so.status, sl.item_id, sl.quantity, sl.unit_price_minor FROM sales_orders so "
        "JOIN sales_lines sl ON sl.sales_id = so.sales_id WHERE so.sales_id = :r",
        r=replacement,
    ) == [(parent, "open", "0013", 1, 0)]
    assert scalar(app, "SELECT COUNT(*) FROM installments WHERE sales_id = :r", r=replacement) == 0
    for step in (fulfilment.release, fulfilment.invoice):  # nothing to charge: it ships like any child
        if step is fulfilment.invoice:
            fulfilment.ship(app.uow, replacement, "TRACK-R1", SHIPPED, actor=ANN)
        step(app.uow, replacement, SHIPPED, actor=ANN)
    assert status_of(app, replacement)[0] == "invoiced"
    again = ret(app, replacement)  # a replacement can come back too: nothing to refund
    assert (again["amount"], again["refund_key"], again["refund_status"]) == ("0.00", None, None)
    assert refund_ledger(app) == [(result["refund_key"], 1495, "approved")]


def test_cancel_remaining_cancels_the_rest_of_the_parent_through_the_cancel_service(demo):
    app = demo
    with_action(app, "REPLENISH", "cancel_remaining")
    parent = enter(app, "0021")  # 19.80 captured at START; shipment 1 (9.90) ships on the 25th
    nightly(app, START)
    nightly(app, SHIPPED)
    child = children_of(app, parent)[0][0]

    result = ret(app, child)

    assert result["cancelled"] is True
    assert [
        r[0] for r in rows(app, "SELECT status FROM schedule_occurrences WHERE sales_id = :p ORDER BY seq", p=parent)
    ] == ["invoiced"] + ["cancelled"] * 5
    # the return refunds the shipment (9.90); the cancel refunds what was paid and not shipped (9.90)
    assert sorted(
        m
        for _, m, _ in rows(
            app, "SELECT idempotency_key, amount_minor, outcome FROM test_gateway_ledger WHERE operation = 'refund'"
        )
    ) == [990, 990]
    assert ledger_money(app)[parent] == {"capture": 1980, "refund": 1980}
    assert_refunds_within_captures(app)
    with pytest.raises(NotFound):
        returns.credit_notes(app.uow, "SO-404")


def test_the_return_is_in_the_history_of_the_child_and_of_its_parent(demo):
    app = demo
    parent, child = shipped_child(app)
    result = ret(app, child, note="torn")
    for sales_id in (child, parent):
        entry = next(e for e in history.order_history(app.uow, sales_id) if e["action"] == "returned")
        assert entry["params"]["credit_note"] == result["credit_note"]
        assert entry["actor"] == "agent-ann" and entry["reason"] == "torn"
        assert {(c["field"], c["after"]) for c in entry["changes"]} >= {("quantity", 1), ("amount", "14.95")}
    child_actions = [e["action"] for e in history.order_history(app.uow, child)]
    assert "refund_approved" in child_actions


def test_return_reasons_are_set_up_data(demo):
    from continuity.domain.returns import ReturnReason

    app = demo
    assert [r.code for r in returns.reasons(app.uow)] == ["DAMAGED", "NOT_WANTED", "WRONG_ITEM"]
    returns.save_reason(app.uow, ReturnReason("LATE", "Arrived too late"))
    returns.save_reason(app.uow, ReturnReason("DAMAGED", "Arrived damaged", active=False))
    assert [r.code for r in returns.reasons(app.uow, active_only=True)] == ["LATE", "NOT_WANTED", "WRONG_ITEM"]
    with pytest.raises(DomainError) as refused:
        returns.save_reason(app.uow, ReturnReason("bad code!", "x"))
    assert refused.value.code == "return_reason_invalid"
    _, child = shipped_child(app)
    with pytest.raises(DomainError) as inactive:
        ret(app, child, reason="DAMAGED")
    assert inactive.value.code == "return_reason_inactive"


def test_the_dashboard_counts_the_returns_and_what_the_gateway_refunded(demo):
    from continuity.services import dashboard

    app = demo
    _, child = shipped_child(app, quantity=2)
    ret(app, child, 1)
    silent = App(app.settings, app.engine, app.uow, _SilentRefunds(app.gateway), app.clock)
    returns.return_goods(silent.uow, silent.gateway, BACK, ReturnRequest(child, 1, 1, "WRONG_ITEM"), ANN)

    summary = dashboard.returns_summary(app.dashboard_reads(), SHIPPED)
    assert summary.count == 2
    assert [str(m) for m in summary.credited] == ["29.90 EUR"]
    assert [str(m) for m in summary.refunded] == ["14.95 EUR"]  # the unanswered refund is not counted yet
    assert [(r.reason_code, r.count, [str(m) for m in r.refunded]) for r in summary.reasons] == [
        ("DAMAGED", 1, ["14.95 EUR"]),
        ("WRONG_ITEM", 1, ["0.00 EUR"]),
    ]
    job(app, "reconcile-payments", SHIPPED, deps=app.job_deps(stale_after_seconds=0))
    assert [str(m) for m in dashboard.returns_summary(app.dashboard_reads(), SHIPPED).refunded] == ["29.90 EUR"]
    assert dashboard.returns_summary(app.dashboard_reads(), date(2027, 1, 30)).count == 0  # older than 30 days


def test_a_return_refunds_its_share_of_the_shipping_charge_and_tax_and_the_whole_line_refunds_the_whole_capture(
    demo,
):
    """Erik (Sweden, taxed) buys two of TRILOGY with a shipping charge per order: the child's charge is its
    books, shipping and tax; two returns of one refund it all, to the cent, and never more."""
    from continuity.domain.tax import ChargeKind, ShippingCharge
    from continuity.services import taxes

    app = demo
    taxes.set_program_shipping(app.uow, "TRILOGY", ShippingCharge(ChargeKind.PER_ORDER, 351), START)
    parent, child = shipped_child(app, account="004053", quantity=2)
    charged = ledger_money(app)[child]["capture"]
    goods, charge, tax = rows(
        app, "SELECT quantity * unit_price_minor, charge_minor, tax_minor FROM sales_lines WHERE sales_id = :c", c=child
    )[0]
    assert charge == 351 and tax > 0 and charged == goods + charge + tax  # net prices: tax on top

    first, second = ret(app, child, 1), ret(app, child, 1)

    assert int(first["amount"].replace(".", "")) == charged // 2  # half the line's total, rounded down
    assert int(first["amount"].replace(".", "")) + int(second["amount"].replace(".", "")) == charged
    assert ledger_money(app)[child] == {"capture": charged, "refund": charged}
    assert [m for _, m, _ in refund_ledger(app)] == [charged // 2, charged - charged // 2]


def test_two_agents_returning_the_same_goods_at_once_make_one_return_and_one_refund(demo, make_app):
    """The child order's row is locked for the return's transaction: the second return waits, then sees the
    first and is refused (never two credit notes, never two refunds of the same goods)."""
    import threading

    app = demo
    _, child = shipped_child(app)
    start, outcomes = threading.Barrier(2), []

    def agent() -> None:
        mine = make_app(SHIPPED)
        start.wait()
        try:
            outcomes.append(ret(mine, child)["credit_note"])
        except DomainError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=agent) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["CN-000001", "return_quantity_exceeds_shipped"]
    assert [m for _, m, _ in refund_ledger(app)] == [1495]
    assert scalar(app, "SELECT COUNT(*) FROM credit_notes") == 1
