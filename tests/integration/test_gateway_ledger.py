"""Issue 12 item 6: the test connector's ledger is its own table, out of the application's schema. The
migrations no longer make it (0015 drops it); the connector creates it on its first call, also when
many connectors (worker processes) make their first call at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date

from alembic import command
from sqlalchemy import func, inspect, select

from continuity.adapters.db import make_engine
from continuity.adapters.migrate import alembic_config, upgrade
from continuity.adapters.test_gateway import TestConnector
from continuity.adapters.test_gateway_ledger import LEDGER, gateway_ledger
from continuity.domain.card import Expiry
from continuity.domain.money import Money
from continuity.services.ports import GatewayOutcome

TODAY = date(2026, 11, 23)
APPROVES = "4111111111111111"


def _has_ledger(engine) -> bool:  # type: ignore[no-untyped-def]
    return inspect(engine).has_table(LEDGER)


def _ledger_rows(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(gateway_ledger)).scalar_one()


def test_the_schema_has_no_ledger_and_the_connector_makes_it_on_its_first_call(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine)
        assert not _has_ledger(engine)
        connector = TestConnector(engine)
        token = connector.tokenize(APPROVES, Expiry(12, 2030), "A Holder", TODAY).token
        assert not _has_ledger(engine)  # tokenizing records nothing

        assert connector.lookup("never-sent").reason.startswith("no such transaction")
        assert connector.capture(token, Money.from_minor(1250, "EUR"), "key-1").outcome == GatewayOutcome.APPROVED
        assert connector.capture(token, Money.from_minor(1250, "EUR"), "key-1").outcome == GatewayOutcome.APPROVED

        assert _has_ledger(engine) and _ledger_rows(engine) == 1
        assert {ix["name"] for ix in inspect(engine).get_indexes(LEDGER)} == {
            "ix_test_gateway_ledger_reference",
            "ix_test_gateway_ledger_authorization_reference",
        }
    finally:
        engine.dispose()


def test_connectors_making_their_first_calls_at_once_share_one_ledger(empty_database_url):
    """Each connector stands for one worker process: each finds no ledger and makes it at the same moment."""
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine)
        connectors = [TestConnector(engine) for _ in range(6)]
        start, failures = threading.Barrier(len(connectors)), []

        def first_call(k: int) -> None:
            start.wait()
            try:
                result = connectors[k].capture(f"tok_test_approve_{k}", Money.from_minor(100, "EUR"), f"key-{k}")
                assert result.outcome == GatewayOutcome.APPROVED
            except Exception as exc:  # noqa: BLE001
                failures.append(exc)

        threads = [threading.Thread(target=first_call, args=(k,)) for k in range(len(connectors))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert _ledger_rows(engine) == len(connectors)
    finally:
        engine.dispose()


def test_upgrade_drops_an_old_ledger_and_downgrade_keeps_the_connectors_own(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0014")
        assert _has_ledger(engine)  # the schema had it until 0015
        upgrade(engine)
        assert not _has_ledger(engine)

        connector = TestConnector(engine)
        connector.capture("tok_test_approve_1", Money.from_minor(300, "EUR"), "key-1")
        command.downgrade(alembic_config(engine), "0014")  # the connector's table has 0014's shape: kept
        assert _ledger_rows(engine) == 1
        upgrade(engine)
        assert not _has_ledger(engine)

        command.downgrade(alembic_config(engine), "0014")  # none there: an empty one of 0014's shape
        assert _has_ledger(engine) and _ledger_rows(engine) == 0
    finally:
        engine.dispose()


def test_the_ledger_is_written_without_waiting_for_the_application_s_ways(empty_database_url):
    """Issue 13 (CPU per charge): on PostgreSQL the connector writes its ledger straight on the driver through
    an engine of its own, in autocommit (one statement a row, no BEGIN/COMMIT) with synchronous_commit off,
    and leaves the application's engine as it was; it is disposed with the application's engine. On SQLite
    it is the application's engine, by Core. Either way a row is visible to another connection as soon as
    the call returns, and a repeated key replays the first answer."""
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine)
        connector = TestConnector(engine)
        first = connector.capture("tok_test_approve_1", Money.from_minor(300, "EUR"), "key-1")
        assert _ledger_rows(engine) == 1  # committed: another connection reads it
        assert connector.capture("tok_test_approve_1", Money.from_minor(300, "EUR"), "key-1") == first
        assert connector.lookup("key-1") == first
        with engine.connect() as conn:
            row = conn.execute(select(gateway_ledger)).one()
        assert (row.amount_minor, row.currency, row.outcome, row.reference) == (300, "EUR", "approved", first.reference)
        assert row.received_at is not None
        sql = connector.ledger()
        if engine.dialect.name != "postgresql":
            assert sql.db is engine and not sql.direct
            return
        assert sql.db is not engine and sql.direct
        with sql.db.connect() as conn:
            assert conn.connection.driver_connection.autocommit is True
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        with engine.connect() as conn:
            assert conn.connection.driver_connection.autocommit is False
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        assert sql.db.pool.checkedin() == 1
        engine.dispose()
        assert sql.db.pool.checkedin() == 0
    finally:
        engine.dispose()
