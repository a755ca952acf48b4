"""Seed 004 through the real `continuity` command line, on SQLite and on PostgreSQL.

search "Karen" → Karen Berg → new order with 88000 → pay with 4111111111111111 → submit → the
schedule lists BOOKCLUB's events in order from the current event. Afterwards the database, the log
and every output are scanned for the card number: it must be nowhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from continuity.adapters.db import make_engine
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.domain.calendar import add_months

CONTINUITY = Path(sys.executable).with_name("continuity")
PAN = "4111111111111111"
PAN_FORMS = [PAN, "4111 1111 1111 1111", "4111-1111-1111-1111"]
OCCURRENCE_KEYS = {"seq", "event_id", "item_id", "quantity", "price", "ship_date", "status", "child_sales_id"}


class Cli:
    """Runs `continuity` as a subprocess and keeps everything it printed."""

    def __init__(self, database_url: str, log_file: Path) -> None:
        self.env = {
            **os.environ,
            "CONTINUITY_DATABASE_URL": database_url,
            "CONTINUITY_LOG_FILE": str(log_file),
            "CONTINUITY_TODAY": "2026-11-23",
        }
        self.outputs: list[str] = []

    def run(self, *args: str) -> str:
        done = subprocess.run([str(CONTINUITY), *args], env=self.env, capture_output=True, text=True, timeout=60)
        self.outputs += [done.stdout, done.stderr]
        assert done.returncode == 0, f"continuity {' '.join(args)} exited {done.returncode}: {done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr
        return done.stdout

    def json(self, *args: str):  # type: ignore[no-untyped-def]
        return json.loads(self.run(*args, "--json"))


def _program_and_prices(url: str, program_id: str):  # type: ignore[no-untyped-def]
    app = bootstrap(Settings(url, None, None))
    try:
        with app.uow() as uow:
            return uow.setup.program(program_id), {p.item_id: str(p.price.amount) for p in uow.setup.products()}
    finally:
        app.engine.dispose()


def _digits_only(text_: str) -> str:
    return re.sub(r"[\s\-]", "", text_)


def _assert_no_pan(where: str, content: str) -> None:
    for form in PAN_FORMS:
        assert form not in content, f"the card number ({form!r}) was found in {where}"


def _assert_no_pan_bytes(where: str, content: bytes) -> None:
    for form in PAN_FORMS:
        for encoding in ("ascii", "utf-16-le", "utf-16-be"):
            assert form.encode(encoding) not in content, f"the card number ({form!r}, {encoding}) is in {where}"


def _postgres_dump(url: str) -> str:
    """Every row of every table of the database as text (plus pg_dump's output when it is installed)."""
    engine = make_engine(url)
    parts = []
    with engine.connect() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            )
            .scalars()
            .all()
        )
        assert tables
        for table in tables:
            parts += [table] + [row for row in conn.execute(text(f"SELECT t::text FROM {table} t")).scalars()]
    engine.dispose()
    pg_dump = shutil.which("pg_dump")
    if pg_dump:
        libpq_url = url.replace("postgresql+psycopg://", "postgresql://")
        done = subprocess.run([pg_dump, "--no-owner", libpq_url], capture_output=True, text=True, timeout=60)
        if done.returncode == 0:  # a pg_dump older than the server refuses; the row scan above still counts
            parts.append(done.stdout)
    return "\n".join(parts)


def test_seed_004_story_through_the_cli(database_url, tmp_path):
    log_file = tmp_path / "continuity.log"
    cli = Cli(database_url, log_file)

    cli.json("demo", "load")

    found = cli.json("customers", "search", "Karen")
    assert [(c["account"], c["name"]) for c in found] == [("004007", "Karen Berg")]
    account = found[0]["account"]

    order = cli.json("orders", "new", "--customer", account, "--item", "88000")
    sales_id = order["sales_id"]
    assert order["status"] == "draft" and order["account"] == account and order["name"] == "Karen Berg"

    order = cli.json("orders", "pay", sales_id, "--card", PAN, "--expiry", "12/30")
    assert [(p["status"], p["card"].endswith("1111")) for p in order["payments"]] == [("not_submitted", True)]

    order = cli.json("orders", "submit", sales_id)
    assert order["status"] == "open"

    order = cli.json("orders", "show", sales_id)
    assert order["sales_id"] == sales_id and order["status"] == "open"
    assert [p["status"] for p in order["payments"]] == ["authorized"]
    [line] = order["lines"]
    assert line["item_id"] == "88000"
    terms = line["continuity"]
    assert terms["program_id"] == "BOOKCLUB"
    assert terms["start_event"] == 3  # BOOKCLUB starts at the current event; event 3 starts in November 2026
    schedule = terms["schedule"]
    for occurrence in schedule:
        assert set(occurrence) == OCCURRENCE_KEYS
    assert [
        (o["seq"], o["event_id"], o["item_id"], o["quantity"], o["status"], o["child_sales_id"]) for o in schedule
    ] == [
        (1, 3, "0015", 1, "pending", None),
        (2, 4, "0017", 1, "pending", None),
        (3, 5, "0018", 1, "pending", None),
        (4, 6, "0019", 1, "pending", None),
    ]
    # first shipment = order date + the program's days_after_order, then one calendar month each
    program, prices = _program_and_prices(database_url, "BOOKCLUB")
    first = date.fromisoformat(order["order_date"]) + timedelta(days=program.days_after_order)
    assert order["order_date"] == "2026-11-23"
    assert [o["ship_date"] for o in schedule] == [add_months(first, k).isoformat() for k in range(4)]
    assert [o["price"] for o in schedule] == [prices[o["item_id"]] for o in schedule]

    # -- the card number is nowhere ------------------------------------------------------------
    for i, output in enumerate(cli.outputs):
        _assert_no_pan(f"command output #{i}", output)
        _assert_no_pan(f"command output #{i} (without separators)", _digits_only(output))
    log = log_file.read_text(encoding="utf-8")
    assert "1111" in log, "the log file got nothing: the scan below would prove nothing"
    _assert_no_pan("the log file", log)

    if database_url.startswith("sqlite"):
        db_path = Path(database_url.removeprefix("sqlite:///"))
        files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
        assert db_path in files
        contents = {p.name: p.read_bytes() for p in files}
        assert any(b"Karen Berg" in c for c in contents.values()), "the scan does not see the data"
        for name, content in contents.items():
            _assert_no_pan_bytes(name, content)
    else:
        dump = _postgres_dump(database_url)
        assert "Karen Berg" in dump and sales_id in dump, "the scan does not see the data"
        _assert_no_pan("the PostgreSQL database", dump)
