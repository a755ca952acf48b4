"""A rate change (issue 16 part 2): the dry run lists every open order and installment it would change,
before → after, and writes nothing; the run applies it, re-sharing unpaid installments; paid ones never
change; a second run changes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from jobs_support import START, enter_order, installments, job, snapshot
from typer.testing import CliRunner

from continuity.domain.tax import TaxRate
from continuity.entrypoints.cli import app as cli
from continuity.services import taxes, views

ERIK, KAREN = "004053", "004007"
TOUCHED = ("sales_lines", "installments", "audit_entries")


@pytest.fixture
def open_orders(demo_app):
    """Erik's REPLENISH (three installments, the first taken at submit) and BOOKCLUB with its first child
    made (not shipped); Karen's REPLENISH in Norway, which no rate touches."""
    app = demo_app
    replenish = enter_order(app, "0021", account=ERIK)
    book = enter_order(app, "88000", account=ERIK)
    karen = enter_order(app, "0021", account=KAREN)
    job(app, "create-child-orders", START, sales_id=book)
    return app, replenish, book, karen


def _cut_food_and_raise_books(app) -> None:  # type: ignore[no-untyped-def]
    # food 12 % → 6 % from the third REPLENISH shipment (START + 62); books 6 % → 25 % from tomorrow
    taxes.set_tax_rate(app.uow, TaxRate("food", "SE", 60_000, START + timedelta(days=40)))
    taxes.set_tax_rate(app.uow, TaxRate("books", "SE", 250_000, START + timedelta(days=1)))


def test_the_dry_run_lists_every_change_before_and_after_and_writes_nothing(open_orders):
    app, replenish, book, karen = open_orders
    assert installments(app, replenish) == [
        (1, 2218, "authorized"),
        (2, 2218, "not_submitted"),
        (3, 2218, "not_submitted"),
    ]
    _cut_food_and_raise_books(app)
    before = snapshot(app, TOUCHED)

    result = job(app, "tax-rate-change", START, dry_run=True)

    assert snapshot(app, TOUCHED) == before
    details = {d["sales_id"]: d for d in result["details"]}
    assert karen not in details
    # REPLENISH: 2 shipments at 1.19 tax and 4 at 0.59: 59.40 + 4.74 = 64.14; paid 22.18, the rest 20.98 × 2
    assert details[replenish]["lines"] == [
        {"line_no": 1, "tax": {"before": "7.14", "after": "4.74"}, "total": {"before": "66.54", "after": "64.14"}}
    ]
    assert details[replenish]["installments"] == [
        {"line_no": 1, "seq": 2, "before": "22.18", "after": "20.98"},
        {"line_no": 1, "seq": 3, "before": "22.18", "after": "20.98"},
    ]
    # the book club's child (12.99, ships on START + 3): 0.78 → 3.25 (3.2475), its charge 13.77 → 16.24
    child = f"{book}-1-1"
    assert details[child]["lines"] == [
        {"line_no": 1, "tax": {"before": "0.78", "after": "3.25"}, "total": {"before": "13.77", "after": "16.24"}}
    ]
    assert details[child]["installments"] == [{"line_no": 0, "seq": 1, "before": "13.77", "after": "16.24"}]
    assert book in details and details[book]["installments"] == []  # paid per child: no installments
    assert result["counts"]["orders"] == 3


def test_the_run_applies_it_paid_installments_never_change_and_a_rerun_changes_nothing(open_orders):
    app, replenish, book, karen = open_orders
    _cut_food_and_raise_books(app)
    karen_before = installments(app, karen)

    job(app, "tax-rate-change", START)

    assert installments(app, replenish) == [
        (1, 2218, "authorized"),
        (2, 2098, "not_submitted"),
        (3, 2098, "not_submitted"),
    ]
    order = views.order_view(app.uow, replenish)
    assert order["total"] == "64.14" and order["tax"] == "4.74"
    assert sum(Decimal(i["amount"]) for i in order["installments"]) == Decimal(order["total"])
    child = f"{book}-1-1"
    assert installments(app, child) == [(1, 1624, "not_submitted")]
    assert views.order_view(app.uow, child)["tax"] == "3.25"
    assert installments(app, karen) == karen_before
    again = snapshot(app, TOUCHED)
    second = job(app, "tax-rate-change", START)
    assert second["counts"] == {"orders": 0, "lines": 0, "installments": 0}
    assert snapshot(app, TOUCHED) == again
    # the captured charge of the child is the new total
    job(app, "process-payments", START)
    assert installments(app, child) == [(1, 1624, "paid")]


def test_a_paid_child_keeps_its_tax(open_orders):
    app, _, book, _ = open_orders
    child = f"{book}-1-1"
    job(app, "process-payments", START)
    assert installments(app, child) == [(1, 1377, "paid")]
    _cut_food_and_raise_books(app)
    result = job(app, "tax-rate-change", START, dry_run=True)
    assert child not in {d["sales_id"] for d in result["details"]}  # what it captured stays its total
    job(app, "tax-rate-change", START)
    assert installments(app, child) == [(1, 1377, "paid")]


def test_the_cli_dry_run_and_apply(open_orders, database_url):
    app, replenish, _, _ = open_orders
    runner = CliRunner()
    env = {"CONTINUITY_DATABASE_URL": database_url, "CONTINUITY_TODAY": ""}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        done = runner.invoke(cli, list(args), env=env)
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)

    invoke("setup", "tax-rate", "set", "food", "SE", "6", "--from", (START + timedelta(days=40)).isoformat(), "--json")
    dry = invoke("jobs", "tax-rate-change", "--as-of", START.isoformat(), "--dry-run", "--json")
    assert dry["counts"] == {"orders": 1, "lines": 1, "installments": 2}
    assert installments(app, replenish)[1] == (2, 2218, "not_submitted")
    invoke("jobs", "tax-rate-change", "--as-of", START.isoformat(), "--json")
    assert installments(app, replenish)[1] == (2, 2098, "not_submitted")
