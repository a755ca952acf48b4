"""`alembic upgrade head` builds the schema on an empty database, and the models match the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from continuity.adapters.db import make_engine
from continuity.adapters.migrate import MIGRATIONS, alembic_config, upgrade
from continuity.adapters.orm import metadata

REPO = Path(__file__).resolve().parents[2]
ALEMBIC = Path(sys.executable).with_name("alembic")


def _head() -> str:
    engine = make_engine("sqlite://")
    try:
        return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _assert_schema_built(url: str) -> None:
    tables = _tables(url)
    expected = set(metadata.tables)
    assert expected, "the models define no tables"
    assert expected <= tables, f"missing after upgrade: {sorted(expected - tables)}"
    assert "alembic_version" in tables
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == _head()
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_the_migrations_folder_has_one_head():
    assert MIGRATIONS.is_dir()
    engine = make_engine("sqlite://")
    try:
        heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    finally:
        engine.dispose()
    assert len(heads) == 1, f"several migration heads: {heads}"


def test_upgrade_builds_the_schema_on_an_empty_database(empty_database_url):
    assert _tables(empty_database_url) == set()
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine)
        upgrade(engine)  # a second upgrade is a no-op, not an error
    finally:
        engine.dispose()
    _assert_schema_built(empty_database_url)


def test_alembic_command_line_builds_the_schema_on_an_empty_database(empty_database_url):
    assert _tables(empty_database_url) == set()
    env = {**os.environ, "CONTINUITY_DATABASE_URL": empty_database_url}
    done = subprocess.run(
        [str(ALEMBIC), "upgrade", "head"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    _assert_schema_built(empty_database_url)


def test_0016_records_the_charges_in_flight(empty_database_url):
    """Installments whose capture or authorize attempt is pending read in_flight after 0016; the others keep
    their status (an unknown outcome stays unknown; a void does not charge)."""
    from sqlalchemy import text

    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0015")
        installments = {
            1: ("not_submitted", "capture", "pending"),
            2: ("declined", "capture", "pending"),
            3: ("authorized", "capture", "pending"),
            4: ("unknown", "capture", "unknown"),
            5: ("authorized", "void", "pending"),
            6: ("paid", "capture", "approved"),
        }
        with engine.begin() as conn:
            for seq, (status, operation, attempt) in installments.items():
                conn.execute(
                    text(
                        "INSERT INTO installments (sales_id, line_no, seq, due_date, amount_minor, currency, status, "
                        "parent_sales_id, parent_line_no, item_id) VALUES ('SO-1', 1, :seq, '2026-12-01', 100, 'EUR', "
                        ":status, 'SO-1', 1, 'BOOK')"
                    ),
                    {"seq": seq, "status": status},
                )
                conn.execute(
                    text(
                        "INSERT INTO payment_attempts (idempotency_key, subject, sales_id, line_no, seq, operation, "
                        "attempt_no, card_token, amount_minor, currency, status, reason, as_of, created_at) VALUES "
                        "(:key, 'installment', 'SO-1', 1, :seq, :op, 1, 'tok', 100, 'EUR', :status, '', '2026-12-01', "
                        "'2026-12-01 10:00:00')"
                    ),
                    {"key": f"k{seq}", "seq": seq, "op": operation, "status": attempt},
                )
        upgrade(engine)
        with engine.connect() as conn:
            found = dict(conn.execute(text("SELECT seq, status FROM installments ORDER BY seq")).all())
        assert found == {1: "in_flight", 2: "in_flight", 3: "in_flight", 4: "unknown", 5: "authorized", 6: "paid"}
    finally:
        engine.dispose()


def test_0021_gives_every_existing_hold_its_hold_code_and_lists_the_codes(empty_database_url):
    """The holds before 0021 were payment holds named by their reason only: each gets its code (the note
    stays); an order not on hold gets none; hold_codes lists the built-in codes."""
    from sqlalchemy import text

    from continuity.adapters.batch.payments import OWN_PAYMENT_HOLD, PARENT_PAYMENT_HOLD
    from continuity.domain.holds import BUILT_IN

    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0020")
        orders = {
            "SO-1": ("on_hold", PARENT_PAYMENT_HOLD),
            "SO-2": ("on_hold", OWN_PAYMENT_HOLD),
            "SO-3": ("on_hold", "card declined (insufficient funds): ask the caller for another card"),
            "SO-4": ("on_hold", "the card authorization got no answer; it is resolved by reconcile-payments"),
            "SO-5": ("open", ""),
        }
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customers (account, name, name_search, phone, phone_digits, email, language) "
                    "VALUES ('A1', 'Ann', 'ann', '', '', '', 'en')"
                )
            )
            for sales_id, (status, reason) in orders.items():
                conn.execute(
                    text(
                        "INSERT INTO sales_orders (sales_id, account, order_date, currency, status, hold_reason, "
                        "is_continuity_parent, created_at) VALUES (:s, 'A1', '2026-12-01', 'EUR', :status, :reason, "
                        "FALSE, '2026-12-01 10:00:00')"
                    ),
                    {"s": sales_id, "status": status, "reason": reason},
                )
        upgrade(engine)
        with engine.connect() as conn:
            found = {
                r[0]: (r[1], r[2])
                for r in conn.execute(text("SELECT sales_id, hold_code, hold_reason FROM sales_orders"))
            }
            codes = {r[0] for r in conn.execute(text("SELECT code FROM hold_codes"))}
        assert {k: v[0] for k, v in found.items()} == {
            "SO-1": "parent_payment",
            "SO-2": "charge_declined",
            "SO-3": "payment_declined",
            "SO-4": "payment_unanswered",
            "SO-5": "",
        }
        assert found["SO-3"][1] == orders["SO-3"][1]
        assert codes == {c.code for c in BUILT_IN}
    finally:
        engine.dispose()
