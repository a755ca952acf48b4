"""The simulation clock: `simulate` plays the nightly jobs forward on a scratch copy.

The demo data with five continuity orders (book club paid per shipment, replenishment billed up
front, a trilogy whose card is then declined, a replenishment whose card then times out, a plain
trilogy) is entered twice: into the test's database (SQLite or PostgreSQL), which is simulated,
and into a second SQLite database where the same nightly jobs really run day by day for the same
months. The per-month figures of the simulation must equal those counted with SQL in the second
database, and the simulated database must be left exactly as it was.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime

import pytest
from jobs_support import DECLINE, START, TIMEOUT, enter_order, job, rows, use_card
from sqlalchemy import inspect, select, text

from continuity.adapters.clock import FixedClock
from continuity.adapters.migrate import upgrade
from continuity.adapters.orm import metadata
from continuity.adapters.snapshot import scratch_copy
from continuity.adapters.test_gateway_ledger import gateway_ledger
from continuity.bootstrap import App, bootstrap
from continuity.config import Settings
from continuity.domain.calendar import add_days, add_months
from continuity.domain.errors import NotFound, RuleViolation
from continuity.domain.money import Money
from continuity.entrypoints.cli_simulate import simulate_on_copy
from continuity.services.demo import load_demo
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_all

MONTHS = 12


def enter_world(app: App) -> dict[str, str]:
    orders = {
        "book_club": enter_order(app, "88000"),
        "replenish": enter_order(app, "0021", account="004011"),
        "declined": enter_order(app, "0016", account="004020"),
        "timeout": enter_order(app, "0021", account="004031"),
        "trilogy": enter_order(app, "0016", account="004042"),
    }
    use_card(app, orders["declined"], DECLINE)  # stand-in for change-card (see jobs_support)
    use_card(app, orders["timeout"], TIMEOUT)
    return orders


@pytest.fixture
def world(demo_app) -> dict[str, str]:
    return enter_world(demo_app)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> App:
    """The same data in a second SQLite database, the nightly jobs really run there day by day (built once
    per module: its tests only read it)."""
    path = tmp_path_factory.mktemp("reference") / "reference.db"
    app = bootstrap(Settings(f"sqlite:///{path}", None, None), clock=FixedClock(START))
    upgrade(app.engine)
    load_demo(app.uow, START)
    app.orders = enter_world(app)  # type: ignore[attr-defined]
    deps, day = app.job_deps(), START
    while day < add_months(START, MONTHS):
        app.clock.day = day  # type: ignore[attr-defined]
        assert {r["status"] for r in run_all(deps, JobRequest(day), fulfil=True)} == {"succeeded"}
        day = add_days(day, 1)
    yield app
    app.engine.dispose()


def counted(app: App, first: date, last: date, parent: str | None = None) -> dict:
    """One month's figures counted straight from the reference database's rows."""
    family = " AND so.parent_sales_id = :p" if parent else ""
    own = (
        " AND (a.sales_id = :p OR a.sales_id IN (SELECT sales_id FROM sales_orders WHERE parent_sales_id = :p))"
        if parent
        else ""
    )
    args = {"a": first, "b": last, "p": parent}
    children = "FROM sales_orders so WHERE so.parent_sales_id IS NOT NULL" + family
    attempts = {
        (op, status, cur): (n, minor)
        for op, status, cur, n, minor in rows(
            app,
            "SELECT operation, status, currency, COUNT(*), SUM(amount_minor) FROM payment_attempts a "
            "WHERE operation IN ('capture', 'refund') AND as_of BETWEEN :a AND :b"
            + own
            + " GROUP BY operation, status, currency",
            **args,
        )
    }

    def money(op: str) -> dict[str, str]:
        return {
            cur: str(Money.from_minor(minor, cur).amount)
            for (o, status, cur), (_, minor) in sorted(attempts.items())
            if (o, status) == (op, "approved")
        }

    def number(op: str, *statuses: str) -> int:
        return sum(n for (o, status, _), (n, _) in attempts.items() if o == op and status in statuses)

    return {
        "children_created": rows(app, f"SELECT COUNT(*) {children} AND so.order_date BETWEEN :a AND :b", **args)[0][0],
        "shipments": rows(app, f"SELECT COUNT(*) {children} AND so.shipped_on BETWEEN :a AND :b", **args)[0][0],
        "items_shipped": rows(
            app,
            "SELECT COALESCE(SUM(sl.quantity), 0) FROM sales_lines sl JOIN sales_orders so "
            "ON so.sales_id = sl.sales_id WHERE so.parent_sales_id IS NOT NULL "
            "AND so.shipped_on BETWEEN :a AND :b" + family,
            **args,
        )[0][0],
        "charges": number("capture", "approved"),
        "charged": money("capture"),
        "declined": number("capture", "declined"),
        "unresolved": number("capture", "unknown", "pending"),
        "refunds": number("refund", "approved"),
        "refunded": money("refund"),
    }


def dump(app: App) -> dict[str, list[tuple]]:
    """Every row of every table (the gateway ledger and job runs included), as sorted text."""
    with app.engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {
            name: sorted(tuple(str(v) for v in row) for row in conn.execute(text(f'SELECT * FROM "{name}"')))
            for name in names
        }


def test_twelve_simulated_months_match_the_nightly_jobs_run_day_by_day_on_a_real_copy(demo_app, world, reference):
    assert reference.orders == world  # the same sales ids in both databases

    summary = simulate_on_copy(demo_app, START, MONTHS)

    assert summary["days"] == 365 and len(summary["periods"]) == MONTHS
    for period in summary["periods"]:
        first, last = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
        expected = counted(reference, first, last)
        assert {k: period[k] for k in expected} == expected, period["from"]
    totals = summary["totals"]
    assert totals == counted(reference, START, add_days(add_months(START, MONTHS), -1))
    # the story itself: 4 books + 3 + 3 trilogy books + 6 + 6 vitamins ship; the declined trilogy never does
    assert totals["shipments"] == 4 + 3 + 6 + 6 and totals["items_shipped"] == 19
    assert totals["children_created"] == 4 + 6 + 3 + 6 + 3  # the declined trilogy's three children are made, held
    # each held child's charge: the first try and the soft-decline retries of days 1, 3, 5 and 7
    assert totals["declined"] == 3 * 5
    assert totals["unresolved"] == 0  # the timed-out captures were looked up the next night
    assert totals["charges"] == 4 + 3 + 3 + 3  # books, trilogy books, the two replenishments' three installments
    assert (
        rows(reference, "SELECT status FROM sales_orders WHERE parent_sales_id = :p", p=world["declined"])
        == [("on_hold",)] * 3
    )


def test_the_source_database_is_left_exactly_as_it_was(demo_app, world, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the scratch copy's folder lands here
    before = dump(demo_app)
    assert before["test_gateway_ledger"] and before["payment_attempts"]

    summary = simulate_on_copy(demo_app, START, 3)
    one = simulate_on_copy(demo_app, START, 3, world["book_club"])

    assert summary["totals"]["charges"] > 0 and summary["totals"]["shipments"] > 0  # work was done: on the copy
    assert one["totals"]["shipments"] > 0
    assert dump(demo_app) == before
    assert not any(p.name.startswith("continuity-simulation-") for p in tmp_path.iterdir())  # removed afterwards


def test_a_sales_order_simulation_holds_only_that_order_and_equals_its_part_of_the_whole(demo_app, world, reference):
    book_club = world["book_club"]

    summary = simulate_on_copy(demo_app, START, MONTHS, book_club)

    assert summary["sales_order"] == book_club
    for period in summary["periods"]:
        first, last = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
        expected = counted(reference, first, last, parent=book_club)
        assert {k: period[k] for k in expected} == expected, period["from"]
    shipped = rows(
        reference,
        "SELECT so.sales_id, so.order_date, so.shipped_on, so.status, sl.item_id, sl.quantity "
        "FROM sales_orders so JOIN sales_lines sl ON sl.sales_id = so.sales_id "
        "WHERE so.parent_sales_id = :p ORDER BY so.order_date, so.sales_id",
        p=book_club,
    )
    assert [
        (
            c["sales_id"],
            c["created_on"],
            c["shipped_on"],
            c["status"],
            [(i["item_id"], i["quantity"]) for i in c["items"]],
        )
        for c in summary["shipments"]
    ] == [
        (s, str(created), str(shipped_on), status, [(item, qty)])
        for s, created, shipped_on, status, item, qty in shipped
    ]
    assert [c["item_id"] for s in summary["shipments"] for c in s["items"]] == ["0015", "0017", "0018", "0019"]
    assert {c["sales_id"].split("-1-")[0] for c in summary["charges"]} == {book_club}
    assert [(c["operation"], c["status"], c["amount"]) for c in summary["charges"]] == [
        ("capture", "approved", a) for a in ("12.99", "15.25", "13.75", "17.00")
    ]


def test_the_copy_of_one_order_holds_its_family_and_the_setup_only(demo_app, world):
    book_club = world["book_club"]
    with scratch_copy(demo_app.engine, book_club) as url:
        copy = bootstrap(Settings(url, None, None))
        try:
            assert rows(copy, "SELECT DISTINCT account FROM sales_orders") == [("004007",)]
            assert rows(copy, "SELECT account FROM customers") == [("004007",)]
            assert {r[0] for r in rows(copy, "SELECT sales_id FROM continuity_lines")} == {book_club}
            keys = {r[0] for r in rows(copy, "SELECT idempotency_key FROM test_gateway_ledger")}
            assert keys and keys == {r[0] for r in rows(copy, "SELECT idempotency_key FROM payment_attempts")}
            assert rows(copy, "SELECT COUNT(*) FROM programs") == rows(demo_app, "SELECT COUNT(*) FROM programs")
        finally:
            copy.engine.dispose()


def test_the_whole_copy_holds_every_row_of_every_table(demo_app, world):
    tables = [
        t for t in [*metadata.sorted_tables, gateway_ledger] if t.name in inspect(demo_app.engine).get_table_names()
    ]
    before = typed_rows(demo_app, tables)
    with scratch_copy(demo_app.engine) as url:
        copy = bootstrap(Settings(url, None, None))
        try:
            copied = typed_rows(copy, tables)
        finally:
            copy.engine.dispose()
    assert copied == before
    assert all(before[t] for t in ("sales_orders", "installments", "payment_attempts", "test_gateway_ledger"))


def typed_rows(app: App, tables: list) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Rows as Python values (instants as naive UTC: SQLite keeps no zone), sorted."""

    def value(v):  # type: ignore[no-untyped-def]
        return v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v

    with app.engine.connect() as conn:
        return {
            t.name: sorted((tuple(value(v) for v in row) for row in conn.execute(select(t))), key=repr) for t in tables
        }


def test_an_unknown_or_child_sales_order_is_refused_before_anything_runs(demo_app, world):
    with pytest.raises(NotFound) as unknown:
        simulate_on_copy(demo_app, START, 1, "SO-999999")
    assert unknown.value.code == "sales_order_not_found"

    job(demo_app, "create-child-orders", START, sales_id=world["book_club"])  # a real child order
    with pytest.raises(RuleViolation) as child:
        simulate_on_copy(demo_app, START, 1, f"{world['book_club']}-1-1")
    assert child.value.code == "sales_order_is_child"
    assert world["book_club"] in child.value.message
