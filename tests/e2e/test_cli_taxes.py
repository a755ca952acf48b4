"""Shipping charges and taxes end to end through the real `continuity` command line (a process per
command), on SQLite and PostgreSQL; every charge and tax amount is checked against the gateway's own
ledger: what it captured for each child order is that child's total, shipping and tax included."""

from __future__ import annotations

from sqlalchemy import text
from test_cli_seed_story import PAN, Cli

from continuity.adapters.db import make_engine

ERIK = "004053"  # Sweden: books 6 % in the demo


def _captured(url: str, sales_id: str) -> list[int]:
    """The gateway ledger's approved captures for a child order's charge (its attempts' keys)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT g.amount_minor FROM test_gateway_ledger g JOIN payment_attempts a "
                        "ON a.idempotency_key = g.idempotency_key WHERE a.sales_id = :s "
                        "AND g.operation = 'capture' AND g.outcome = 'approved'"
                    ),
                    {"s": sales_id},
                ).scalars()
            )
    finally:
        engine.dispose()


def _minor(amount: str) -> int:
    whole, cents = amount.split(".")
    return int(whole) * 100 + int(cents)


def test_shipping_and_tax_through_the_cli_and_a_rate_change(database_url, tmp_path):
    cli = Cli(database_url, tmp_path / "continuity.log")
    cli.json("demo", "load")
    assert cli.json("setup", "program-shipping", "BOOKCLUB", "--kind", "per_order", "--amount", "3.50") == {
        "kind": "per_order",
        "amount": "3.50",
    }
    parent = cli.json("orders", "new", "--customer", ERIK, "--item", "88000")["sales_id"]
    cli.json("orders", "pay", parent, "--card", PAN, "--expiry", "12/30")
    assert cli.json("orders", "submit", parent)["status"] == "open"

    cli.json("jobs", "create-child-orders", "--as-of", "2026-11-23")
    cli.json("jobs", "process-payments", "--as-of", "2026-11-23")
    first = cli.json("orders", "show", f"{parent}-1-1")
    # book 0015 12.99 + 0.78 tax (6 %, 0.7794), shipping 3.50 + 0.21 tax
    assert (first["goods"], first["charges"], first["tax"], first["total"]) == ("12.99", "3.50", "0.99", "17.48")
    assert _captured(database_url, f"{parent}-1-1") == [_minor(first["total"])]

    # Sweden raises books to 25 % from December: the dry run lists the parent's line, the run applies it
    cli.json("setup", "tax-rate", "set", "books", "SE", "25", "--from", "2026-12-01")
    dry = cli.json("jobs", "tax-rate-change", "--as-of", "2026-11-23", "--dry-run")
    assert [d["sales_id"] for d in dry["details"]] == [parent]
    assert dry["details"][0]["lines"][0]["tax"]["before"] != dry["details"][0]["lines"][0]["tax"]["after"]
    applied = cli.json("jobs", "tax-rate-change", "--as-of", "2026-11-23")
    assert applied["counts"] == dry["counts"]
    assert cli.json("jobs", "tax-rate-change", "--as-of", "2026-11-23")["counts"]["orders"] == 0

    cli.env["CONTINUITY_TODAY"] = "2026-12-21"
    cli.json("jobs", "create-child-orders", "--as-of", "2026-12-21")
    cli.json("jobs", "process-payments", "--as-of", "2026-12-21")
    second = cli.json("orders", "show", f"{parent}-1-2")
    # book 0017 15.25 + 3.81 tax (25 %, 3.8125), shipping 3.50 + 0.88 (0.875)
    assert (second["goods"], second["charges"], second["tax"], second["total"]) == ("15.25", "3.50", "4.69", "23.44")
    assert _captured(database_url, f"{parent}-1-2") == [_minor(second["total"])]
    assert _captured(database_url, f"{parent}-1-1") == [1748]  # the first one's capture never changes
