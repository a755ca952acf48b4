"""`continuity payment-review list|retry|change-card|waive|settle|cancel`: the story from the command line —
an installment declined until its retries are used up is listed, retried, then paid on a new card; another
is waived, another settled by a cheque; bad input is one line and a non-zero exit, nothing written."""

from __future__ import annotations

import pytest
from test_cli_errors import APPROVE, KAREN, Cli

DECLINE = "4000000000000002"


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    c = Cli(database_url, tmp_path)
    c.ok("demo", "load")
    return c


def _declined_order(cli: Cli) -> str:
    """The book club (each child order charged when it is made), its card then changed to one that declines."""
    sales_id = cli.ok("orders", "new", "--customer", KAREN, "--item", "88000")["sales_id"]
    cli.ok("orders", "pay", sales_id, "--card", APPROVE, "--expiry", "12/30")
    cli.ok("orders", "submit", sales_id)
    cli.ok("orders", "change-card", sales_id, "--card", DECLINE, "--expiry", "12/30")
    return sales_id


def test_the_payment_review_story(cli):
    parents = [_declined_order(cli) for _ in range(3)]
    cli.ok("jobs", "create-child-orders", "--as-of", "2026-11-23")
    for day in ("2026-11-23", "2026-11-24", "2026-11-26", "2026-11-28", "2026-11-30"):  # the dunning schedule
        cli.ok("jobs", "process-payments", "--as-of", day)
    cli.env["CONTINUITY_TODAY"] = "2026-12-01"

    listed = [i for i in cli.ok("payment-review", "list") if i["kind"] == "retries_exhausted"]
    orders = [i["sales_id"] for i in listed]
    assert [(i["seq"], i["attempts"]) for i in listed] == [(1, 5)] * 3  # the first try and 4 retries
    assert sorted(o.rsplit("-", 2)[0] for o in orders) == sorted(parents)  # the child orders' own charges
    assert "Payment review" in cli.invoke("payment-review", "list").stdout

    first, second, third = orders
    assert cli.ok("payment-review", "retry", first, "1", "--actor", "ann")["outcome"] == "declined"
    paid = cli.ok("payment-review", "change-card", first, "1", "--card", APPROVE, "--expiry", "12/31", "--actor", "ann")
    assert (paid["outcome"], paid["status"]) == ("approved", "paid")
    assert cli.ok("payment-review", "waive", second, "1", "--reason", "goodwill")["status"] == "cancelled"
    settled = cli.ok("payment-review", "settle", third, "1", "--method", "cheque", "--reference", "CHQ 42")
    assert settled["status"] == "paid"
    assert not [i for i in cli.ok("payment-review", "list") if i["kind"] == "retries_exhausted"]
    actions = [e["action"] for e in cli.ok("orders", "history", first) if e["actor"] == "ann"]
    assert "retried" in actions

    before = cli.counts()
    cli.fails("installment_not_open", "payment-review", "settle", third, "1", "--method", "cash", "--reference", "x")
    cli.fails("payment_method_invalid", "payment-review", "settle", first, "1", "--method", "gold", "--reference", "x")
    cli.fails("reason_required", "payment-review", "waive", first, "1", "--reason", " ")
    cli.fails("installment_not_found", "payment-review", "retry", first, "9")
    assert cli.counts() == before
    assert cli.ok("payment-review", "cancel", second, "--reason", "moving")["applied"] is True
