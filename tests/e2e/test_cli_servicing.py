"""`continuity orders skip|reschedule|substitute|change-card|pause|resume|cancel|history|explain|projection`:
--preview writes nothing, --json gives one document, bad input is one line and a non-zero exit with
nothing written, and the change is recorded with --actor (kind cli)."""

from __future__ import annotations

import pytest
from test_cli_errors import APPROVE, KAREN, Cli

WATCHED_TOO = ("schedule_adjustments", "audit_entries")


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    c = Cli(database_url, tmp_path)
    c.ok("demo", "load")
    return c


@pytest.fixture
def parent(cli) -> str:  # type: ignore[no-untyped-def]
    sales_id = cli.ok("orders", "new", "--customer", KAREN, "--item", "88000", "--payment-schedule", "3X")["sales_id"]
    cli.ok("orders", "pay", sales_id, "--card", APPROVE, "--expiry", "12/30")
    cli.ok("orders", "submit", sales_id)
    return sales_id


def _counts(cli: Cli) -> dict:
    from sqlalchemy import text

    from continuity.adapters.db import make_engine

    engine = make_engine(cli.url)
    try:
        with engine.connect() as conn:
            extra = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in WATCHED_TOO}
    finally:
        engine.dispose()
    return {**cli.counts(), **extra}


def test_preview_writes_nothing_and_the_change_is_recorded_with_the_actor(cli, parent):
    before = _counts(cli)
    preview = cli.ok("orders", "skip", parent, "2", "--preview")
    assert _counts(cli) == before and preview["applied"] is False
    assert [s["status"] for s in preview["after"]["shipments"]][:2] == ["pending", "skipped"]

    applied = cli.ok("orders", "skip", parent, "2", "--actor", "ann", "--reason", "on holiday")
    assert applied["after"] == preview["after"]
    entries = [e for e in cli.ok("orders", "history", parent) if e["actor"] == "ann"]
    assert entries and {(e["actor_kind"], e["reason"]) for e in entries} == {("cli", "on holiday")}

    explained = cli.ok("orders", "explain", parent, "2")
    assert explained["code"] == "skipped" and explained["text"].startswith("Occurrence 2 was skipped")
    assert len(cli.ok("orders", "projection", parent, "--count", "2")["shipments"]) == 2
    plain = cli.invoke("orders", "projection", parent)
    assert plain.exit_code == 0 and "Next shipments" in plain.stdout


def test_every_change_runs_from_the_command_line(cli, parent):
    cli.ok("orders", "reschedule", parent, "3", "--days", "5")
    cli.ok("orders", "reschedule", parent, "2", "--date", "2026-12-28", "--following")
    cli.ok("orders", "substitute", parent, "4", "--item", "0013")
    cli.ok("orders", "change-card", parent, "--card", APPROVE, "--expiry", "11/31")
    cli.ok("orders", "pause", parent, "--from", "2026-11-26")
    cli.ok("orders", "resume", parent, "--on", "2026-12-03")
    done = cli.ok("orders", "cancel", parent, "--reason", "moving abroad")
    assert [s["status"] for s in done["after"]["shipments"]] == []
    assert cli.ok("programs", "history", "BOOKCLUB")


@pytest.mark.parametrize(
    "args, code",
    [
        (("skip", "{p}", "9"), "occurrence_not_found"),
        (("skip", "SO-999999", "1"), "sales_order_not_found"),
        (("reschedule", "{p}", "2"), "reschedule_invalid"),
        (("reschedule", "{p}", "2", "--date", "2026-02-30"), "date_invalid"),
        (("reschedule", "{p}", "2", "--date", "2027-03-01"), "reschedule_out_of_order"),
        (("substitute", "{p}", "2", "--item", "NOPE"), "item_unknown"),
        (("change-card", "{p}", "--card", "1234", "--expiry", "12/30"), "card_number_invalid"),
        (("resume", "{p}", "--on", "2026-12-01"), "order_not_paused"),
        (("explain", "{p}", "7"), "occurrence_not_found"),
    ],
)
def test_bad_input_is_one_line_a_non_zero_exit_and_nothing_written(cli, parent, args, code):
    before = _counts(cli)
    cli.fails(code, "orders", *[a.format(p=parent) for a in args])
    assert _counts(cli) == before


def test_pause_from_a_later_date_and_cancel_with_an_authorized_installment(cli, parent):
    paused = cli.ok("orders", "pause", parent, "--from", "2027-01-01")  # occurrences 1 and 2 ship before
    assert [(s["seq"], s["status"]) for s in paused["after"]["shipments"]] == [
        (1, "pending"),
        (2, "pending"),
        (3, "paused"),
        (4, "paused"),
    ]
    assert paused["after"]["lines"][0]["paused_from"] == "2027-01-01"
    plain = cli.invoke("orders", "projection", parent)
    assert plain.exit_code == 0 and "paused from 2027-01-01" in plain.stdout
    cli.fails("order_paused", "orders", "pause", parent, "--from", "2027-02-01")

    preview = cli.invoke("orders", "cancel", parent, "--preview")
    assert preview.exit_code == 0 and "authorization voided: installment 1" in preview.stdout
    done = cli.ok("orders", "cancel", parent)
    assert done["voided"] == [{"line_no": 1, "seq": 1, "amount": "19.66"}]
    assert any(e["action"] == "void_approved" for e in cli.ok("orders", "history", parent))
