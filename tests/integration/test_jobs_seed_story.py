"""The seed story continued: after order entry the batch jobs play a whole year of the demo programs."""

from __future__ import annotations

from datetime import date

from jobs_support import START, captures, children, enter_order, installments, job, months, nightly, occurrences, rows


def test_process_payments_then_create_child_orders_for_the_order_makes_the_first_book_club_child(demo_app):
    app = demo_app
    parent = enter_order(app, "88000")

    paid = job(app, "process-payments", START, item_id="88000")
    created = job(app, "create-child-orders", START, item_id="88000", sales_id=parent)

    assert paid["status"] == "succeeded" and paid["filters"] == {"item_id": "88000"}
    assert paid["counts"]["approved"] == 0  # the book club is paid per shipment: nothing is due yet
    assert created["status"] == "succeeded"
    assert created["filters"] == {"item_id": "88000", "sales_id": parent}
    assert created["counts"]["created"] == 1
    child = f"{parent}-1-1"
    assert children(app, parent) == [(child, "open", "0015", 1)]  # event 3 (current on 2026-11-23)
    assert occurrences(app, parent) == [
        (1, 3, "0015", "child_created", child),
        (2, 4, "0017", "pending", None),
        (3, 5, "0018", "pending", None),
        (4, 6, "0019", "pending", None),
    ]
    assert installments(app, child) == [(1, 1299, "not_submitted")]  # its charge, taken by process-payments


def test_twelve_monthly_run_alls_ship_the_book_club_in_event_order_and_replenishment_six_times_then_close(demo_app):
    app = demo_app
    book = enter_order(app, "88000")
    replenish = enter_order(app, "0021")
    job(app, "process-payments", START, item_id="88000")
    job(app, "create-child-orders", START, item_id="88000", sales_id=book)

    for as_of in months(START, 12):
        assert all(r["status"] == "succeeded" for r in nightly(app, as_of))

    shipped = rows(
        app,
        "SELECT sl.parent_seq, so.status, sl.item_id, so.shipped_on, o.event_id, o.ship_date "
        "FROM sales_orders so JOIN sales_lines sl ON sl.sales_id = so.sales_id "
        "JOIN schedule_occurrences o ON o.child_sales_id = so.sales_id "
        "WHERE so.parent_sales_id = :p ORDER BY sl.parent_seq",
        p=book,
    )
    assert [(seq, status, item, event) for seq, status, item, _, event, _ in shipped] == [
        (1, "invoiced", "0015", 3),
        (2, "invoiced", "0017", 4),
        (3, "invoiced", "0018", 5),
        (4, "invoiced", "0019", 6),
    ]
    ship_days = [date.fromisoformat(str(s)) for _, _, _, s, _, _ in shipped]
    assert ship_days == sorted(ship_days)  # shipped one after the other, in event order
    assert all(
        date.fromisoformat(str(shipped_on)) >= date.fromisoformat(str(due)) for _, _, _, shipped_on, _, due in shipped
    )  # never before its ship date
    assert {o[3] for o in occurrences(app, book)} == {"invoiced"}
    for child, *_ in children(app, book):  # each book charged once, when its child order was made
        assert [(seq, status) for seq, _, status in installments(app, child)] == [(1, "paid")]

    assert [(item, status) for _, status, item, _ in children(app, replenish)] == [("0022", "invoiced")] * 6
    assert installments(app, replenish) == [(1, 1980, "paid"), (2, 1980, "paid"), (3, 1980, "paid")]

    assert rows(app, "SELECT sales_id, status FROM sales_orders WHERE is_continuity_parent ORDER BY sales_id") == [
        (book, "closed"),
        (replenish, "closed"),
    ]
    assert rows(app, "SELECT DISTINCT status FROM continuity_lines") == [("closed",)]
    assert captures(app) == 4 + 3  # four books and three installments, each charged exactly once
