"""The test connector's ledger: its own table (not part of the application's schema: migration 0015 took it
out), created on first use in whatever database the connector is given, and how the connector writes it.

Lean, since the connector runs inside the worker and competes with it for the CPU: each statement is built
once, and on PostgreSQL run straight on the driver through an engine of its own (``LedgerSql``). The rows
of calls that check nothing against other rows (an authorization, a charge, a refund) are written in groups
(``LedgerBatch``): each call's row is queued when the call arrives and written, with the others queued by
then, at most GATHER seconds later (by the call that found the queue empty) and always before the call
answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine.interfaces import Compiled
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.expression import Insert, Select

LEDGER = "test_gateway_ledger"
ledger_metadata = MetaData(naming_convention={"ix": "ix_%(column_0_label)s", "pk": "pk_%(table_name)s"})
gateway_ledger = Table(
    LEDGER,
    ledger_metadata,
    Column("idempotency_key", String(120), primary_key=True),
    Column("operation", String(20), nullable=False),
    Column("card_token", String(80), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reference", String(80), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("authorization_reference", String(80), nullable=True, index=True),  # capture or void of it
    Column("received_at", DateTime(timezone=True), nullable=True),  # when the call arrived
)

#: the longest a queued row waits for the rows arriving after it before it is written (seconds)
GATHER = 0.01

Statement = Insert | Select[Any]

# built once: each call only binds its values (no statement built, no cache key worked out per call)
INSERT = insert(gateway_ledger)
BY_KEY = select(gateway_ledger.c.outcome, gateway_ledger.c.reference, gateway_ledger.c.reason).where(
    gateway_ledger.c.idempotency_key == bindparam("key")
)
AUTHORIZATION = select(gateway_ledger).where(
    gateway_ledger.c.reference == bindparam("reference"), gateway_ledger.c.operation == "authorize"
)
AGAINST = select(gateway_ledger).where(
    (gateway_ledger.c.reference == bindparam("reference"))
    | (gateway_ledger.c.authorization_reference == bindparam("reference"))
)
_COLUMNS = [c.name for c in gateway_ledger.columns]
_PG_TYPES = {"amount_minor": "bigint", "received_at": "timestamptz"}  # the other columns: text
# PostgreSQL: a group of rows in one statement, from one JSON array (json.dumps is C; an array parameter
# per column is dumped value by value in Python); the keys already there are skipped
_PG_GROUP = (
    f"INSERT INTO {LEDGER} ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM json_to_recordset(%(rows)s::json) "
    "AS r(" + ", ".join(f"{c} {_PG_TYPES.get(c, 'text')}" for c in _COLUMNS) + ") "
    "ON CONFLICT DO NOTHING RETURNING idempotency_key"
)
_SQLITE_ROW = sqlite_insert(gateway_ledger).on_conflict_do_nothing()


class LedgerSql:
    """Where and how the connector runs its ledger statements (``run``, ``insert_new``).

    PostgreSQL: on an engine of its own on the same database (``db``; disposed with the application's
    engine), straight on a pooled driver connection, each statement compiled once for the dialect: a Core
    execute costs about four times the driver's own work, and the connector runs inside the worker,
    competing with it for the CPU. That engine is in autocommit (one statement, one round trip: no BEGIN
    and COMMIT), pings nothing before a checkout, and has synchronous_commit off: a row is visible to every
    session (and outlives the worker) once written, but does not wait for the disk (only a crash of
    PostgreSQL itself could lose the last moment of the stand-in gateway's ledger; the application's own
    writes are as durable as ever).

    SQLite: the application's engine, by Core (in process: each statement in its own BEGIN IMMEDIATE;
    WAL with synchronous=NORMAL already does not wait for the disk)."""

    def __init__(self, engine: Engine) -> None:
        self.direct = engine.dialect.name == "postgresql"
        self.db = _own_engine(engine) if self.direct else engine
        #: a second row under a key, from Core or from the driver
        self.duplicate: tuple[type[Exception], ...] = (IntegrityError, self.db.dialect.loaded_dbapi.IntegrityError)
        self._compiled: dict[Statement, Compiled] = {}

    def run(self, statement: Statement, params: dict[str, object]) -> list[dict[str, Any]]:
        """``statement`` with ``params``, committed; its rows (column name to value)."""
        if not self.direct:
            with self.db.begin() as conn:
                result = conn.execute(statement, params)
                return [dict(row._mapping) for row in result] if result.returns_rows else []
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = statement.compile(dialect=self.db.dialect)
        return self._driver(compiled.string, compiled.construct_params(params))

    def insert_new(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Write ``rows`` in one statement, committed, skipping any whose key is there already; the keys
        written."""
        if self.direct:
            found = self._driver(_PG_GROUP, {"rows": json.dumps([_json_row(row) for row in rows])})
            return {r["idempotency_key"] for r in found}
        written: set[str] = set()
        with self.db.begin() as conn:
            for row in rows:
                if conn.execute(_SQLITE_ROW, row).rowcount:
                    written.add(row["idempotency_key"])
        return written

    def _driver(self, statement: str, params: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        raw = self.db.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(statement, params)
            if cursor.description is None:
                return []
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        finally:
            raw.close()


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "received_at": row["received_at"].isoformat()}


class Queued:
    """One call's ledger row, queued until a group write takes it: ``written`` once it is in the ledger
    (``replay``: its key was there already, the call answers as the first one did); ``failure`` when the
    write failed."""

    __slots__ = ("row", "written", "replay", "failure")

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.written = self.replay = False
        self.failure: BaseException | None = None


class LedgerBatch:
    """The queue of rows waiting to be written, and the group write. ``writes`` is the connector's lock:
    one ledger statement at a time in the process; whoever needs a queued row written and finds it still
    queued writes the whole queue, in one statement."""

    def __init__(self, writes: threading.Lock) -> None:
        self.writes = writes
        self._queued: list[Queued] = []
        self._queue = threading.Lock()

    def add(self, row: dict[str, Any]) -> tuple[Queued, bool]:
        """Queue ``row``; True when the queue was empty: the caller then writes the group GATHER seconds
        later (the rows queued after it wait for that write, one sleep each)."""
        item = Queued(row)
        with self._queue:
            self._queued.append(item)
            return item, len(self._queued) == 1

    def written(self, item: Queued, sql: LedgerSql) -> None:
        """Return once ``item`` is in the ledger; raise what its write raised."""
        if not item.written and item.failure is None:
            with self.writes:
                if not item.written and item.failure is None:
                    self.write_queued(sql)
        if item.failure is not None:
            raise item.failure

    def write_queued(self, sql: LedgerSql) -> None:
        """Write every queued row (the caller holds ``writes``)."""
        with self._queue:
            group, self._queued = self._queued, []
        if not group:
            return
        try:
            new = sql.insert_new([item.row for item in group])
        except BaseException as exc:
            for item in group:
                item.failure = exc
            raise
        for item in group:  # a key twice in one group: the first one is written, the second replays it
            key = item.row["idempotency_key"]
            item.replay = key not in new
            new.discard(key)
            item.written = True


def _own_engine(engine: Engine) -> Engine:
    own = create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_size=1,
        connect_args={"options": "-c synchronous_commit=off"},
    )
    event.listen(engine, "engine_disposed", lambda _engine: own.dispose())
    return own


def create_ledger(engine: Engine) -> None:
    """Create the ledger table and its indexes unless they exist. Safe when several threads or worker
    processes do it at once: SQLite has one writer (BEGIN IMMEDIATE), and on PostgreSQL the loser of a
    race fails on the catalog's unique keys and finds the winner's table."""
    if inspect(engine).has_table(LEDGER):
        return
    try:
        with engine.begin() as conn:
            ledger_metadata.create_all(conn, checkfirst=True)
    except DBAPIError:
        if not inspect(engine).has_table(LEDGER):
            raise


def arrivals(engine: Engine, operation: str = "capture") -> list[float]:
    """When each call of ``operation`` reached the connector (its own clock, POSIX seconds), in order."""
    with engine.connect() as conn:
        stamps = conn.execute(
            select(gateway_ledger.c.received_at)
            .where(gateway_ledger.c.operation == operation)
            .order_by(gateway_ledger.c.received_at)
        ).scalars()
        return [(s if s.tzinfo else s.replace(tzinfo=UTC)).timestamp() for s in stamps]
