"""`continuity orders return|credit-notes`, `return-reasons list|save`, `programs return-action`: a return
story from the command line (the refunds checked against the gateway's own ledger), and refusals as one
line with a stable code, nothing written."""

from __future__ import annotations

import pytest
from test_cli_errors import APPROVE, KAREN, Cli

from continuity.adapters.db import make_engine


def _rows(cli: Cli, statement: str) -> list[tuple]:
    from sqlalchemy import text

    engine = make_engine(cli.url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(statement))]
    finally:
        engine.dispose()


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    c = Cli(database_url, tmp_path)
    c.ok("demo", "load")
    return c


def _shipped_child(cli: Cli, item: str, quantity: str = "1") -> tuple[str, str]:
    parent = cli.ok("orders", "new", "--customer", KAREN, "--item", item, "--quantity", quantity)["sales_id"]
    cli.ok("orders", "pay", parent, "--card", APPROVE, "--expiry", "12/30")
    cli.ok("orders", "submit", parent)
    cli.ok("jobs", "run-all", "--as-of", "2026-11-23")
    cli.ok("jobs", "run-all", "--as-of", "2026-11-26", "--fulfil")
    child = next(
        e["params"]["order"] for e in cli.ok("orders", "history", parent) if e["action"] == "child_order_created"
    )
    assert cli.ok("orders", "show", child)["status"] == "invoiced"
    return parent, child


def test_a_return_story_from_the_command_line(cli):
    assert [r["code"] for r in cli.ok("return-reasons", "list")] == ["DAMAGED", "NOT_WANTED", "WRONG_ITEM"]
    assert cli.ok("return-reasons", "save", "late", "Arrived too late")["code"] == "LATE"
    assert cli.ok("programs", "return-action", "TRILOGY", "cancel_remaining")["return_action"] == "cancel_remaining"
    cli.fails("return_action_invalid", "programs", "return-action", "TRILOGY", "refund_all")
    parent, child = _shipped_child(cli, "0016", "2")

    first = cli.ok("orders", "return", child, "--line", "1", "--quantity", "1", "--reason", "damaged", "--actor", "ann")
    assert (first["credit_note"], first["amount"], first["refund_status"]) == ("CN-000001", "14.95", "approved")
    assert first["cancelled"] is True  # cancel_remaining: the rest of the parent line is cancelled
    plain = cli.invoke("orders", "return", child, "--line", "1", "--quantity", "1", "--reason", "LATE")
    assert plain.exit_code == 0 and "credit note CN-000002" in plain.stdout and "refund: approved" in plain.stdout

    before = cli.counts()
    cli.fails(
        "return_quantity_exceeds_shipped",
        "orders",
        "return",
        child,
        "--line",
        "1",
        "--quantity",
        "1",
        "--reason",
        "LATE",
    )
    cli.fails(
        "return_reason_not_found", "orders", "return", child, "--line", "1", "--quantity", "1", "--reason", "NOPE"
    )
    cli.fails("not_a_child_order", "orders", "return", parent, "--line", "1", "--quantity", "1", "--reason", "LATE")
    assert cli.counts() == before

    notes = cli.ok("orders", "credit-notes", parent)
    assert [(n["credit_note"], n["reason_code"], n["amount"]) for n in notes] == [
        ("CN-000001", "DAMAGED", "14.95"),
        ("CN-000002", "LATE", "14.95"),
    ]
    assert "CN-000002" in cli.invoke("orders", "credit-notes", child).stdout
    assert any(e["action"] == "returned" and e["actor"] == "ann" for e in cli.ok("orders", "history", child))
    # the gateway's own ledger: two refunds of 14.95 under the keys written before the calls, 29.90 captured
    ledger = _rows(
        cli,
        "SELECT g.operation, g.amount_minor FROM test_gateway_ledger g JOIN payment_attempts a "
        f"ON a.idempotency_key = g.idempotency_key WHERE a.sales_id = '{child}' AND g.outcome = 'approved' "
        "ORDER BY g.operation, g.idempotency_key",
    )
    assert ledger == [("capture", 2990), ("refund", 1495), ("refund", 1495)]
    assert {n["refund_key"] for n in notes} == {
        k for (k,) in _rows(cli, "SELECT idempotency_key FROM test_gateway_ledger WHERE operation = 'refund'")
    }
