"""Catch-up: one run after skipped months does the same work as running every month.

The same orders are played twice in one database — monthly, then (after emptying the database and
entering them again, so that they get the same sales ids) with three months skipped — and the
resulting orders, schedules and installments are compared. Order dates, created_at and the due date
of a child's charge are the dates of the run that made them, so they are left out.
"""

from __future__ import annotations

from datetime import date

from jobs_support import START, captures, enter_order, nightly, rows, scalar, with_threshold_two_and_tea
from sqlalchemy import text

from continuity.adapters.orm import metadata
from continuity.services.demo import load_demo

LAST = date(2027, 3, 23)


def _enter_orders(app) -> None:  # type: ignore[no-untyped-def]
    load_demo(app.uow, START)
    with_threshold_two_and_tea(app)  # TEA: five repeats every 14 days, only two materialised at a time
    for item in ("88000", "0021", "0016", "0030"):
        enter_order(app, item)


def _outcome(app) -> dict:  # type: ignore[no-untyped-def]
    return {
        "orders": rows(
            app,
            "SELECT sales_id, status, hold_reason, parent_sales_id, tracking_number FROM sales_orders "
            "ORDER BY sales_id",
        ),
        "child_lines": rows(
            app,
            "SELECT sales_id, line_no, item_id, quantity, unit_price_minor, status, "
            "parent_sales_id, parent_line_no, parent_seq FROM sales_lines "
            "WHERE parent_sales_id IS NOT NULL ORDER BY sales_id, line_no",
        ),
        "occurrences": rows(
            app,
            "SELECT sales_id, line_no, seq, event_id, item_id, quantity, price_minor, "
            "ship_date, status, child_sales_id FROM schedule_occurrences "
            "ORDER BY sales_id, line_no, seq",
        ),
        "installments": rows(
            app, "SELECT sales_id, line_no, seq, amount_minor, status FROM installments ORDER BY sales_id, line_no, seq"
        ),
        "continuity_lines": rows(app, "SELECT sales_id, line_no, status FROM continuity_lines ORDER BY sales_id"),
        "captured": (
            captures(app),
            scalar(app, "SELECT COALESCE(SUM(amount_minor), 0) FROM test_gateway_ledger WHERE operation = 'capture'"),
        ),
    }


def _empty(app) -> None:  # type: ignore[no-untyped-def]
    with app.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name != "audit_entries":  # append-only: the database refuses DELETE on it
                conn.execute(text(f'DELETE FROM "{table.name}"'))


def test_one_run_all_after_three_skipped_months_ends_where_monthly_runs_end(demo_app):
    app = demo_app
    _empty(app)

    _enter_orders(app)
    for as_of in (START, date(2026, 12, 23), date(2027, 1, 23), date(2027, 2, 23), LAST):
        nightly(app, as_of)
    monthly = _outcome(app)

    _empty(app)
    _enter_orders(app)
    nightly(app, START)
    nightly(app, LAST)  # December, January and February were not run
    caught_up = _outcome(app)

    assert caught_up == monthly
    # and the comparison is about real work: by LAST most shipments are invoiced and some orders closed
    statuses = [status for *_, status, _ in monthly["occurrences"]]
    assert statuses.count("invoiced") >= 12 and "pending" in statuses
    assert ("closed",) in {(s,) for _, _, s in monthly["continuity_lines"]}
