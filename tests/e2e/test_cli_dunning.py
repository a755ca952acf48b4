"""Dunning from the command line: a book-club child order's charge declined for insufficient funds shows
its decline class and next retry day, and is retried on it; one declined as a lost card is hard, never
retried, and paid once the customer's new card is on the order."""

from __future__ import annotations

import pytest
from test_cli_errors import APPROVE, KAREN, Cli

NO_FUNDS, LOST = "4000000000009995", "4000000000009987"


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    c = Cli(database_url, tmp_path)
    c.ok("demo", "load")
    return c


def _parent_paying_with(cli: Cli, card: str) -> str:
    """The book club (each child order charged when it is made), its card changed to ``card``."""
    parent = cli.ok("orders", "new", "--customer", KAREN, "--item", "88000")["sales_id"]
    cli.ok("orders", "pay", parent, "--card", APPROVE, "--expiry", "12/30")
    cli.ok("orders", "submit", parent)
    cli.ok("orders", "change-card", parent, "--card", card, "--expiry", "12/30")
    return parent


def _installment(cli: Cli, sales_id: str) -> dict:
    return cli.ok("orders", "show", sales_id, "--json")["installments"][0]


def test_a_soft_and_a_hard_decline_through_the_cli(cli):
    soft, hard = _parent_paying_with(cli, NO_FUNDS), _parent_paying_with(cli, LOST)
    cli.ok("jobs", "create-child-orders", "--as-of", "2026-11-23")
    cli.ok("jobs", "process-payments", "--as-of", "2026-11-23")
    soft_child, hard_child = _first_child(cli, soft), _first_child(cli, hard)

    first = _installment(cli, soft_child)
    assert (first["status"], first["decline_code"], first["decline_class"], first["next_retry"]) == (
        "declined",
        "insufficient_funds",
        "soft",
        "2026-11-24",
    )
    lost = _installment(cli, hard_child)
    assert (lost["decline_code"], lost["decline_class"], lost["next_retry"]) == ("lost_card", "hard", None)
    shown = cli.invoke("orders", "show", hard_child).stdout
    assert "lost_card (hard)" in shown and "next_retry" in shown

    day1 = cli.ok("jobs", "process-payments", "--as-of", "2026-11-24")  # the soft one is retried, not the hard
    assert (day1["counts"]["declined"], day1["counts"]["approved"]) == (1, 0)
    assert _installment(cli, soft_child)["next_retry"] == "2026-11-26"

    cli.ok("orders", "change-card", hard, "--card", APPROVE, "--expiry", "12/31")  # the card-update path
    cli.ok("jobs", "process-payments", "--as-of", "2026-11-25")
    paid = _installment(cli, hard_child)
    assert (paid["status"], paid["decline_code"], paid["next_retry"]) == ("paid", None, None)


def _first_child(cli: Cli, parent: str) -> str:
    return str(cli.ok("orders", "show", parent, "--json")["lines"][0]["continuity"]["schedule"][0]["child_sales_id"])
