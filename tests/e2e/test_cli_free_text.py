"""Free text on the command line (issue 15 item 9): a product name holding a card number or a text-direction
character, or such an --actor, is one line, a non-zero exit and nothing written; a --reason keeps the
card number masked. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from test_cli_errors import APPROVE, KAREN, Cli

from continuity.adapters.db import make_engine

SPACED, MASKED = "4111 1111 1111 1111", "•••• •••• •••• 1111"


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    c = Cli(database_url, tmp_path)
    c.ok("demo", "load")
    return c


def _audit_reasons(cli: Cli) -> set[str]:
    engine = make_engine(cli.url)
    try:
        with engine.connect() as conn:
            return {r for (r,) in conn.execute(text("SELECT reason FROM audit_entries WHERE action = 'skip'"))}
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "name, code", [(f"Club {SPACED}", "card_number_in_text"), ("Club\u202e1", "text_control_character")]
)
def test_a_product_name_is_refused_in_one_line_and_nothing_is_imported(cli, tmp_path, name, code):
    document = tmp_path / "setup.json"
    document.write_text(json.dumps({"products": [{"item_id": "FT-CLI", "name": name, "price": "1.00"}]}))
    before = cli.counts()
    message = cli.fails(code, "programs", "import", str(document))
    assert message.startswith("name:") and "4111" not in message
    assert cli.counts() == before


def test_a_reason_is_masked_and_a_bidi_actor_is_refused(cli):
    parent = cli.ok("orders", "new", "--customer", KAREN, "--item", "88000", "--payment-schedule", "3X")["sales_id"]
    cli.ok("orders", "pay", parent, "--card", APPROVE, "--expiry", "12/30")
    cli.ok("orders", "submit", parent)
    cli.fails("text_control_character", "orders", "skip", parent, "2", "--actor", "ann\u202e")
    cli.fails("text_control_character", "orders", "skip", parent, "2", "--reason", "away\u2066")
    assert _audit_reasons(cli) == set()
    done = cli.ok("orders", "skip", parent, "2", "--actor", "ann", "--reason", f"card {SPACED}")
    assert done["applied"] is True
    assert _audit_reasons(cli) == {f"card {MASKED}"}


def test_a_user_name_that_is_a_card_number_is_refused_in_one_line(cli):
    message = cli.fails("card_number_in_text", "users", "add", "4111-1111-1111-1111", "--role", "agent")
    assert "4111" not in message
