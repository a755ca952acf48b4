"""`continuity hold-codes list|add`, `continuity orders hold|clear-hold`: the story of a hold from the
command line — the codes, a hold with its note by --actor, the held parent's child made on hold, the
clearing (the child's too), the history; bad input is one line and a non-zero exit, nothing written."""

from __future__ import annotations

import pytest
from test_cli_errors import APPROVE, KAREN, Cli


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    c = Cli(database_url, tmp_path)
    c.ok("demo", "load")
    return c


@pytest.fixture
def parent(cli) -> str:  # type: ignore[no-untyped-def]
    sales_id = cli.ok("orders", "new", "--customer", KAREN, "--item", "0021")["sales_id"]
    cli.ok("orders", "pay", sales_id, "--card", APPROVE, "--expiry", "12/30")
    cli.ok("orders", "submit", sales_id)
    return sales_id


def test_hold_codes_are_listed_and_added(cli):
    listed = {c["code"]: c["kind"] for c in cli.ok("hold-codes", "list")}
    assert listed["fraud_review"] == "manual" and listed["payment_declined"] == "payment"
    assert cli.ok("hold-codes", "add", "gift_wrap", "--description", "Gift wrap")["kind"] == "manual"
    assert "gift_wrap" in [c["code"] for c in cli.ok("hold-codes", "list")]
    plain = cli.invoke("hold-codes", "list")
    assert plain.exit_code == 0 and "fraud_review" in plain.stdout
    cli.fails("hold_code_exists", "hold-codes", "add", "gift_wrap", "--description", "again")
    cli.fails("hold_code_invalid", "hold-codes", "add", "Gift Wrap", "--description", "x")


def test_an_order_is_held_its_child_made_on_hold_and_both_cleared_with_the_history(cli, parent):
    held = cli.ok("orders", "hold", parent, "--code", "address_check", "--note", "parcel came back", "--actor", "ann")
    assert (held["status"], held["hold_code"], held["note"]) == ("on_hold", "address_check", "parcel came back")
    shown = cli.ok("orders", "show", parent)
    assert (shown["status"], shown["hold_code"], shown["hold_reason"]) == (
        "on_hold",
        "address_check",
        "parcel came back",
    )
    assert "On hold (address_check)" in cli.invoke("orders", "show", parent).stdout

    made = cli.ok("jobs", "create-child-orders", "--as-of", "2026-11-23")
    assert made["counts"]["on_hold"] == 1

    cleared = cli.ok("orders", "clear-hold", parent, "--note", "new address", "--actor", "bob")
    assert cleared["status"] == "open" and len(cleared["cleared_children"]) == 1
    child = cleared["cleared_children"][0]
    assert cli.ok("orders", "show", child)["status"] == "open"

    entries = [e for e in cli.ok("orders", "history", parent) if e["action"] in ("held", "hold_cleared")]
    assert [(e["action"], e["actor"], e["reason"]) for e in entries] == [
        ("hold_cleared", "bob", "new address"),
        ("held", "ann", "parcel came back"),
    ]
    fields = [{(c["field"], c["before"], c["after"]) for c in e["changes"]} for e in entries]
    assert fields == [
        {("status", "on_hold", "open"), ("hold_code", "address_check", None)},
        {("status", "open", "on_hold"), ("hold_code", None, "address_check")},
    ]


@pytest.mark.parametrize(
    "args, code",
    [
        (("hold", "{p}", "--code", "nope", "--note", "x"), "hold_code_not_found"),
        (("hold", "{p}", "--code", "payment_declined", "--note", "x"), "hold_code_not_manual"),
        (("hold", "{p}", "--code", "fraud_review", "--note", " "), "hold_note_required"),
        (("hold", "SO-999999", "--code", "fraud_review", "--note", "x"), "sales_order_not_found"),
        (("clear-hold", "{p}", "--note", "x"), "order_not_on_hold"),
    ],
)
def test_bad_holds_fail_with_one_line_and_write_nothing(cli, parent, args, code):
    before = cli.counts()
    cli.fails(code, "orders", *(a.format(p=parent) for a in args))
    assert cli.counts() == before
