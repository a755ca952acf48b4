"""Nightly statements read only the orders concerned, never the whole history of child orders.

Holding and releasing child orders for a payment problem, and invoicing shipped ones (below), run
every night over tables that grow with every month of child orders.

process-payments (every night) holds open children whose own charge or whose parent's installment
is declined or unresolved, and releases held children whose problem is solved. The orders concerned
are a handful; the open children are every child of the last weeks. The statements are driven by
the problem installments (ix_installments_due) and the held orders (partial index
ix_sales_orders_held, migration 0008), and look each order up by key: SQLite's query plan of every
statement they run reads sales_orders by key equality only, never a scan or a range over all
children. Behaviour (who is held, who is released) is asserted too.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, text

from bench.generate import generate_due_parents
from continuity.adapters.clock import FixedClock
from continuity.adapters.migrate import upgrade
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

AS_OF = date(2026, 11, 23)


@pytest.fixture
def sqlite_app(tmp_path):
    """SQLite only: its query plans do not depend on table statistics (PostgreSQL's do)."""
    app = bootstrap(Settings(f"sqlite:///{tmp_path / 'continuity.db'}", None, None), clock=FixedClock(AS_OF))
    upgrade(app.engine)
    yield app
    app.engine.dispose()


def _statements_of(engine, action, tables=("UPDATE SALES_ORDERS", "INSERT INTO AUDIT_ENTRIES")):  # type: ignore[no-untyped-def]
    seen: list[tuple[str, object]] = []
    # the statements are explained later on a pooled connection: the one that ran them (and holds their temp
    # tables), as the pool then has no other (the gateway calls of an earlier job may have opened a second)
    engine.dispose()

    def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(tables):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def _order_reads(engine, statement: str, parameters) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [
        row[3]
        for row in plan
        if any(t in row[3] for t in ("sales_orders", "schedule_occurrences", "sales_lines"))
        or row[3].split()[1:2] == ["c"]
    ]


def test_hold_and_release_read_sales_orders_by_key_only(sqlite_app):
    app = sqlite_app
    generated = generate_due_parents(app.engine, 300, AS_OF, program_id="TRILOGY", due_occurrences=1, decline_every=50)
    deps = app.job_deps()
    run_job(deps, "create-child-orders", JobRequest(AS_OF))
    statements = _statements_of(app.engine, lambda: run_job(deps, "process-payments", JobRequest(AS_OF)))
    assert len(statements) >= 6, statements  # hold (own, parents) and release, each audited
    for statement, parameters in statements:
        for read in _order_reads(app.engine, statement, parameters):
            assert "=?)" in read or "ix_sales_orders_held" in read, (read, statement)

    with app.engine.connect() as conn:
        held = conn.execute(text("SELECT COUNT(*) FROM sales_orders WHERE status = 'on_hold'")).scalar_one()
    assert held == generated.declining == 6

    # the declined cards are replaced by good ones: the next night charges and releases all six
    with app.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cards (token, account, brand, last4, expiry_month, expiry_year, holder) "
                "SELECT REPLACE(token, '_decline_', '_approve_'), account, brand, last4, expiry_month, "
                "expiry_year, holder FROM cards WHERE token LIKE 'tok_test_decline_%'"
            )
        )
        conn.execute(
            text(
                "UPDATE continuity_lines SET card_token = REPLACE(card_token, '_decline_', '_approve_') "
                "WHERE card_token LIKE 'tok_test_decline_%'"
            )
        )
    counts = run_job(deps, "process-payments", JobRequest(date(2026, 11, 24)))["counts"]
    assert counts["children_released"] == 6


def test_invoice_shipped_reads_the_shipped_orders_and_their_rows_by_key_only(sqlite_app):
    app = sqlite_app
    generate_due_parents(app.engine, 200, AS_OF, program_id="TRILOGY", due_occurrences=1)
    deps = app.job_deps()
    for name in ("create-child-orders", "process-payments", "fulfil-children"):
        run_job(deps, name, JobRequest(AS_OF))
    tables = (
        "INSERT INTO TMP_INVOICING",
        "UPDATE SALES_ORDERS",
        "UPDATE SCHEDULE_OCCURRENCES",
        "UPDATE SALES_LINES",
        "INSERT INTO AUDIT_ENTRIES",
    )
    invoiced = {}
    statements = _statements_of(
        app.engine, lambda: invoiced.update(run_job(deps, "invoice-shipped", JobRequest(AS_OF))["counts"]), tables
    )
    assert len(statements) >= 5, statements  # audit + update the orders and the occurrences, close the lines
    for statement, parameters in statements:
        for read in _order_reads(app.engine, statement, parameters):
            assert "=?)" in read or "ix_sales_orders_shipped" in read, (read, statement)

    assert invoiced == {"invoiced": 200}
    with app.engine.connect() as conn:
        statuses = conn.execute(
            text(
                "SELECT (SELECT COUNT(*) FROM sales_orders WHERE status = 'invoiced'), "
                "(SELECT COUNT(*) FROM schedule_occurrences WHERE status = 'invoiced'), "
                "(SELECT COUNT(*) FROM sales_lines WHERE status = 'closed' AND parent_sales_id IS NOT NULL), "
                "(SELECT COUNT(*) FROM audit_entries WHERE actor = 'job:invoice-shipped')"
            )
        ).one()
    assert tuple(statuses) == (200, 200, 200, 400)
    assert run_job(deps, "invoice-shipped", JobRequest(AS_OF))["counts"] == {"invoiced": 0}


def test_close_orders_reads_only_the_open_parents_side(sqlite_app):
    app = sqlite_app
    generate_due_parents(app.engine, 100, AS_OF, program_id="TRILOGY", due_occurrences=1)
    deps = app.job_deps()
    for name in ("create-child-orders", "process-payments", "fulfil-children", "invoice-shipped"):
        run_job(deps, name, JobRequest(AS_OF))
    with app.engine.begin() as conn:  # 40 parents have shipped all they planned; 60 have more to come
        conn.execute(
            text(
                "UPDATE continuity_lines SET planned_count = 2 WHERE sales_id NOT IN "
                "(SELECT sales_id FROM continuity_lines ORDER BY sales_id LIMIT 40)"
            )
        )
    tables = (
        "INSERT INTO TMP_CLOSING",
        "UPDATE SALES_ORDERS",
        "UPDATE SALES_LINES",
        "UPDATE CONTINUITY_LINES",
        "INSERT INTO AUDIT_ENTRIES",
    )
    closed = {}
    statements = _statements_of(
        app.engine, lambda: closed.update(run_job(deps, "close-orders", JobRequest(AS_OF))["counts"]), tables
    )
    assert len(statements) >= 5, statements  # audit + close the lines, close the sales lines, audit + close orders
    for statement, parameters in statements:
        for read in _order_reads(app.engine, statement, parameters):
            assert "=?)" in read or "ix_sales_orders_open_parents" in read, (read, statement)

    assert closed == {"lines_closed": 40, "orders_closed": 40}
    with app.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM sales_lines WHERE status = 'closed' AND parent_sales_id IS NULL")
            ).scalar_one()
            == 40
        )
    assert run_job(deps, "close-orders", JobRequest(AS_OF))["counts"] == {"lines_closed": 0, "orders_closed": 0}
