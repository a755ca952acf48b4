"""Bad input on the command line: a non-zero exit, one clear line on stderr, `{"error": {...}}` under
--json, never a traceback, and nothing half-written. In process (CliRunner) for speed, on one demo
database per engine shared by the module: each test compares row counts before and after."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from continuity.adapters import orm
from continuity.adapters.db import make_engine
from continuity.entrypoints.cli import app as cli_app

KAREN = "004007"
APPROVE, DECLINE = "4111111111111111", "4000000000000002"
WATCHED = (
    "items",
    "programs",
    "program_events",
    "sales_orders",
    "sales_lines",
    "continuity_lines",
    "schedule_occurrences",
    "installments",
    "payments",
    "payment_attempts",
    "cards",
)


class Cli:
    def __init__(self, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
        self.url = database_url
        self.runner = CliRunner()
        self.env = {
            "CONTINUITY_DATABASE_URL": database_url,
            "CONTINUITY_TODAY": "2026-11-23",
            "CONTINUITY_LOG_FILE": str(tmp_path / "continuity.log"),
        }

    def invoke(self, *args: str):  # type: ignore[no-untyped-def]
        result = self.runner.invoke(cli_app, list(args), env=self.env)
        out = result.stdout + result.stderr
        assert "Traceback" not in out, out
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    def ok(self, *args: str) -> dict:
        result = self.invoke(*args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def fails(self, code: str, *args: str) -> str:
        """Run the command with and without --json; both fail with ``code``. Returns the message."""
        plain = self.invoke(*args)
        assert plain.exit_code != 0
        assert plain.stdout == ""
        lines = plain.stderr.strip().splitlines()
        assert len(lines) == 1, f"not one line on stderr: {plain.stderr!r}"
        assert code in lines[0]

        as_json = self.invoke(*args, "--json")
        assert as_json.exit_code != 0
        document = json.loads(as_json.stdout)
        assert set(document) == {"error"} and set(document["error"]) == {"code", "message"}
        assert document["error"]["code"] == code, document
        message = document["error"]["message"]
        assert message.strip() and "\n" not in message
        assert message in lines[0]
        assert len(as_json.stderr.strip().splitlines()) == 1
        return message

    def counts(self) -> dict[str, int]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return {
                    t: conn.execute(select(func.count()).select_from(orm.metadata.tables[t])).scalar_one()
                    for t in WATCHED
                }
        finally:
            engine.dispose()


@pytest.fixture
def cli(shared_demo_database_url, tmp_path) -> Cli:
    return Cli(shared_demo_database_url, tmp_path)


@pytest.fixture
def new_order(cli) -> str:  # type: ignore[no-untyped-def]
    return cli.ok("orders", "new", "--customer", KAREN, "--item", "88000")["sales_id"]


def _program_file(tmp_path, program_id: str, events: list[dict]):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{program_id}.json"
    path.write_text(
        json.dumps(
            {
                "products": [
                    {
                        "item_id": f"P-{program_id}",
                        "name": "A club",
                        "price": "0.00",
                        "continuity_program_id": program_id,
                    }
                ],
                "programs": [{"program_id": program_id, "events": events}],
            }
        )
    )
    return path


def test_a_program_with_a_gap_in_event_ids_is_refused_and_not_saved(cli, tmp_path):
    events = [{"event_id": 1, "item_id": "0013"}, {"event_id": 3, "item_id": "0014"}]
    document = _program_file(tmp_path, "GAPPY", events)
    before = cli.counts()
    message = cli.fails("event_ids_not_sequential", "programs", "import", str(document))
    assert "GAPPY" in message
    assert cli.counts() == before  # neither the program nor the product of the same file
    assert "GAPPY" not in [p["program_id"] for p in cli.ok("programs", "list")]
    cli.fails("program_not_found", "programs", "show", "GAPPY")

    # the same file without the gap is accepted: the refusal was about the gap
    events[1]["event_id"] = 2
    document = _program_file(tmp_path, "GAPPY", events)
    assert cli.ok("programs", "import", str(document))["programs"] == 1
    assert [e["event_id"] for e in cli.ok("programs", "show", "GAPPY")["events"]] == [1, 2]


@pytest.mark.parametrize(
    "defect, code, shown",
    [
        ({"item_id": "99999"}, "item_unknown", "99999"),
        ({"quantity": 0}, "quantity_invalid", "event 2"),
        ({"quantity": 10**20}, "document_invalid", "quantity"),  # once an integer overflow: internal_error
        ({"times_to_repeat": 0}, "times_to_repeat_invalid", "event 2"),
        ({"interval": "1 fortnight"}, "interval_invalid", "1 fortnight"),
    ],
)
def test_a_program_with_a_bad_event_is_refused_and_not_saved(cli, tmp_path, defect, code, shown):
    program_id = f"BAD-{code}".upper()
    document = _program_file(
        tmp_path, program_id, [{"event_id": 1, "item_id": "0013"}, {"event_id": 2, "item_id": "0014", **defect}]
    )
    before = cli.counts()
    assert shown in cli.fails(code, "programs", "import", str(document))
    assert cli.counts() == before
    cli.fails("program_not_found", "programs", "show", program_id)


def test_an_unreadable_program_file_is_refused(cli, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cli.fails("document_invalid", "programs", "import", str(broken))
    cli.fails("document_invalid", "programs", "import", str(tmp_path / "missing.json"))


def test_an_unknown_item_is_refused_and_no_order_is_written(cli):
    before = cli.counts()
    assert "99999" in cli.fails("item_unknown", "orders", "new", "--customer", KAREN, "--item", "99999")
    assert cli.counts() == before


def test_quantity_zero_is_refused_and_no_order_is_written(cli):
    before = cli.counts()
    cli.fails("quantity_invalid", "orders", "new", "--customer", KAREN, "--item", "88000", "--quantity", "0")
    cli.fails(
        "quantity_invalid", "orders", "new", "--customer", KAREN, "--item", "0013", "--quantity", "99999999999999999999"
    )
    assert cli.counts() == before


def test_an_impossible_date_is_refused_and_no_order_is_written(cli):
    before = cli.counts()
    message = cli.fails(
        "date_invalid", "orders", "new", "--customer", KAREN, "--item", "88000", "--start-date", "2026-02-30"
    )
    assert "2026-02-30" in message
    assert cli.counts() == before


def test_an_unknown_customer_is_refused(cli):
    before = cli.counts()
    assert "999999" in cli.fails("customer_not_found", "orders", "new", "--customer", "999999", "--item", "88000")
    assert cli.counts() == before


def test_user_input_in_a_message_is_printed_as_typed_not_as_markup(cli):
    # Rich markup in an error message once crashed the CLI with a traceback ("[/x]") or ate text ("[bold]")
    for account in ("[/x]", "[bold]K"):
        plain = cli.invoke("orders", "new", "--customer", account, "--item", "88000")
        assert plain.exit_code == 1 and account in plain.stderr
        assert cli.fails("customer_not_found", "orders", "new", "--customer", account, "--item", "88000").endswith(
            f"{account!r}"
        )


def test_an_unknown_sales_order_is_refused(cli):
    cli.fails("sales_order_not_found", "orders", "show", "SO-999999")


def test_submit_without_a_payment_is_refused_and_the_order_stays_draft(cli, new_order):
    before = cli.counts()
    cli.fails("payment_required", "orders", "submit", new_order)
    assert cli.counts() == before
    assert cli.ok("orders", "show", new_order)["status"] == "draft"


def test_a_declined_card_leaves_the_order_on_hold_with_the_reason(cli, new_order):
    cli.ok("orders", "pay", new_order, "--card", DECLINE, "--expiry", "12/30")
    result = cli.invoke("orders", "submit", new_order, "--json")
    assert result.exit_code in (0, 1)  # the order is saved on hold: either is acceptable
    order = cli.ok("orders", "show", new_order)
    assert order["status"] == "on_hold"
    assert "declined" in order["hold_reason"]
    assert [(p["status"], p["reason"]) for p in order["payments"]] == [("declined", "do not honour")]
    assert len(order["lines"][0]["continuity"]["schedule"]) == 4  # nothing lost
    # the human output shows the reason
    shown = cli.invoke("orders", "show", new_order)
    assert shown.exit_code == 0 and "declined" in shown.stdout


def test_an_expired_card_is_refused_and_not_stored(cli, new_order):
    before = cli.counts()
    message = cli.fails("card_expired", "orders", "pay", new_order, "--card", APPROVE, "--expiry", "10/26")
    assert APPROVE not in message
    assert cli.counts() == before


def test_a_malformed_expiry_is_refused(cli, new_order):
    before = cli.counts()
    cli.fails("card_expiry_invalid", "orders", "pay", new_order, "--card", APPROVE, "--expiry", "13/30")
    assert cli.counts() == before


def test_a_malformed_card_number_is_refused_without_echoing_it(cli, new_order):
    before = cli.counts()
    for number in ("4111111111111112", "4111 1111 1111 111x"):
        plain = cli.invoke("orders", "pay", new_order, "--card", number, "--expiry", "12/30")
        assert number not in plain.stdout + plain.stderr
        assert "411111111111111" not in (plain.stdout + plain.stderr).replace(" ", "")
        cli.fails("card_number_invalid", "orders", "pay", new_order, "--card", number, "--expiry", "12/30")
    assert cli.counts() == before


def test_a_command_before_db_upgrade_says_the_schema_is_missing(empty_database_url, tmp_path):
    cli = Cli(empty_database_url, tmp_path)
    message = cli.fails("schema_missing", "customers", "search", "Karen")
    assert "db upgrade" in message
    cli.fails("schema_missing", "orders", "show", "SO-000001")
    cli.fails("schema_missing", "programs", "list")
    # and after `db upgrade` the same command works
    assert cli.ok("db", "upgrade")["upgraded"] is True
    assert cli.ok("customers", "search", "Karen") == []


def test_demo_load_refuses_a_database_that_holds_data(cli):
    before = cli.counts()
    cli.fails("database_not_empty", "demo", "load")
    assert cli.counts() == before


# -- issue 11 bounds and edge input -------------------------------------------------------------------
@pytest.mark.parametrize("start", ["9999-12-31", "1900-01-01"])
def test_a_start_date_outside_the_window_is_one_line_and_no_order_is_written(cli, start):
    before = cli.counts()  # 9999-12-31 once gave a traceback (OverflowError); 1900-01-01 was accepted
    assert start in cli.fails(
        "start_date_out_of_range", "orders", "new", "--customer", KAREN, "--item", "88000", "--start-date", start
    )
    assert cli.counts() == before


def test_an_import_file_that_is_not_utf8_is_one_line(cli, tmp_path):
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"products": [{"item_id": "X1", "name": "Café", "price": "1.00"}]}'.encode("latin-1"))
    before = cli.counts()
    cli.fails("file_not_utf8", "programs", "import", str(latin1))  # once a UnicodeDecodeError traceback
    assert cli.counts() == before


@pytest.mark.parametrize(
    "args, code",
    [
        (("--item", "NOPE"), "item_unknown"),
        (("--item", "0013"), "not_continuity_item"),
        (("--sales-order", "NOPE"), "sales_order_not_found"),
    ],
)
def test_a_job_filter_naming_nothing_is_an_error_not_nothing_to_do(cli, args, code):
    cli.fails(code, "jobs", "create-child-orders", "--as-of", "2026-11-23", *args)


@pytest.mark.parametrize("as_of", ["9999-12-31", "2026-12-01", "1999-12-31"])
def test_a_job_as_of_beyond_the_bound_is_one_line(cli, as_of):
    before = cli.counts()  # 9999-12-31 gave internal_error; the bound is today + CONTINUITY_MAX_AS_OF_DAYS (7)
    cli.fails("as_of_out_of_range", "jobs", "run-all", "--as-of", as_of)
    assert cli.counts() == before
