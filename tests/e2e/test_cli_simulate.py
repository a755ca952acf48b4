"""`continuity simulate` from the command line: orders entered with the CLI, then simulated in process
(CliRunner, on SQLite and PostgreSQL) and once through the installed `continuity` program (with a
terminal, to see the progress bar)."""

from __future__ import annotations

import json
import os
import pty
import re
import select as io_select
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from continuity.entrypoints.cli import app as cli_app

CONTINUITY = str(Path(sys.executable).with_name("continuity"))
APPROVE = "4111111111111111"
ORDERS = (("004007", "88000"), ("004011", "0021"))  # the book club and the replenishment


class Cli:
    def __init__(self, url: str, tmp_path: Path) -> None:
        self.runner = CliRunner()
        self.env = {
            "CONTINUITY_DATABASE_URL": url,
            "CONTINUITY_TODAY": "2026-11-23",
            "CONTINUITY_LOG_FILE": str(tmp_path / "continuity.log"),
        }

    def invoke(self, *args: str):  # type: ignore[no-untyped-def]
        result = self.runner.invoke(cli_app, list(args), env=self.env)
        assert "Traceback" not in result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    def ok(self, *args: str):  # type: ignore[no-untyped-def]
        result = self.invoke(*args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    cli = Cli(database_url, tmp_path)
    cli.ok("demo", "load")
    for account, item in ORDERS:
        sales_id = cli.ok("orders", "new", "--customer", account, "--item", item)["sales_id"]
        cli.ok("orders", "pay", sales_id, "--card", APPROVE, "--expiry", "12/30")
        assert cli.ok("orders", "submit", sales_id)["status"] == "open"
    return cli


def test_simulate_prints_per_month_figures_and_each_order_is_its_part_of_the_whole(cli):
    before = [cli.ok("orders", "show", s) for s in ("SO-000001", "SO-000002")]

    whole = cli.ok("simulate", "--months", "3")
    parts = [cli.ok("simulate", "--months", "3", "--sales-order", s) for s in ("SO-000001", "SO-000002")]

    assert (whole["start"], whole["end"], whole["days"]) == ("2026-11-23", "2027-02-22", 92)
    assert [p["from"] for p in whole["periods"]] == ["2026-11-23", "2026-12-23", "2027-01-23"]
    for key in ("children_created", "shipments", "items_shipped", "charges", "declined"):
        assert whole["totals"][key] == sum(p["totals"][key] for p in parts), key
    # book club: 0015 on 11-26, 0017 and 0018 a month apart; replenishment: three vitamins, 30 days apart
    assert [c["items"][0]["item_id"] for c in parts[0]["shipments"] if c["shipped_on"]] == ["0015", "0017", "0018"]
    assert [(c["operation"], c["amount"]) for c in parts[1]["charges"]] == [("capture", "19.80")] * 3
    # each book is charged when its child order is made (0019 on 2027-02-21, shipped later), vitamins up front
    assert whole["totals"]["charged"] == {"EUR": "118.39"}  # 12.99 + 15.25 + 13.75 + 17.00 + 3 x 19.80
    assert [cli.ok("orders", "show", s) for s in ("SO-000001", "SO-000002")] == before  # nothing real changed

    table = cli.invoke("simulate", "--months", "2", "--sales-order", "SO-000001")
    assert table.exit_code == 0
    assert "the real data is unchanged" in table.stdout
    assert "SO-000001-1-1" in table.stdout and "SO-000002" not in table.stdout
    assert "Charges of SO-000001" in table.stdout and "12.99 EUR" in table.stdout


def test_simulate_starts_where_told(cli):
    summary = cli.ok("simulate", "--from", "2027-01-31", "--months", "1")
    assert (summary["start"], summary["end"], summary["days"]) == ("2027-01-31", "2027-02-27", 28)


def test_an_unknown_sales_order_is_one_line_and_a_non_zero_exit(cli):
    plain = cli.invoke("simulate", "--sales-order", "SO-999999")
    assert plain.exit_code != 0 and plain.stdout == ""
    assert len(plain.stderr.strip().splitlines()) == 1 and "sales_order_not_found" in plain.stderr

    as_json = cli.invoke("simulate", "--sales-order", "SO-999999", "--json")
    assert as_json.exit_code != 0
    assert json.loads(as_json.stdout)["error"]["code"] == "sales_order_not_found"

    bad_date = cli.invoke("simulate", "--from", "2027-02-30")
    assert bad_date.exit_code != 0 and "date_invalid" in bad_date.stderr


def test_a_database_without_schema_is_one_line_and_a_non_zero_exit(tmp_path):
    result = Cli(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path).invoke("simulate", "--months", "1")
    assert result.exit_code != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "schema_missing" in result.stderr


def test_the_program_defaults_to_twelve_months_from_today_and_shows_progress_on_a_terminal(tmp_path):
    env = {
        **os.environ,
        "CONTINUITY_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "CONTINUITY_TODAY": "2026-11-23",
        "COLUMNS": "120",
    }
    subprocess.run([CONTINUITY, "demo", "load"], env=env, check=True, capture_output=True)

    piped = subprocess.run([CONTINUITY, "simulate", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    summary = json.loads(piped.stdout)
    assert (summary["start"], summary["months"], len(summary["periods"])) == ("2026-11-23", 12, 12)

    on_terminal = _run_on_terminal([CONTINUITY, "simulate", "--months", "1"], env)
    assert "simulating nightly runs" in on_terminal  # the progress bar over the simulated days
    assert "the real data is unchanged" in on_terminal and "Traceback" not in on_terminal


def _run_on_terminal(command: list[str], env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = io_select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the program ended and closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, output
    return " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode(errors="replace")).split())
