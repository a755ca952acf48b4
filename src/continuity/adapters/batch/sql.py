"""Portable pieces of the set-based job SQL (SQLite 3.35+ and PostgreSQL 15)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Boolean, Connection, Date, DateTime, Engine, TextClause, bindparam, text
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import TextualSelect
from sqlalchemy.types import TypeEngine


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def skip_locked(conn: Connection, table_alias: str) -> str:
    """PostgreSQL workers claim rows without waiting for each other; SQLite has one writer."""
    return f" FOR UPDATE OF {table_alias} SKIP LOCKED" if is_postgres(conn) else ""


def one_worker_at_a_time(conn: Connection) -> None:
    """For the whole-table status updates (hold, release, fulfil, invoice, close): on PostgreSQL one
    worker at a time, until its transaction ends (an advisory lock). Two workers running them at once
    lock overlapping rows in different orders and deadlock; running them twice at once gains nothing.
    SQLite already has one writer (BEGIN IMMEDIATE)."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('continuity.order-status-updates'))"))


def key_in(conn: Connection, column: str, subquery: str) -> str:
    """``column IN (subquery)`` that looks each found key up in ``column``'s index. PostgreSQL gets
    ``= ANY(ARRAY(subquery))``: the subquery runs once and drives an index scan whatever the table
    statistics say (with none, or stale ones, its planner may walk the whole index of ``column``
    instead); SQLite already drives a keyed IN from its subquery."""
    if is_postgres(conn):
        return f"{column} = ANY(ARRAY({subquery}))"
    return f"{column} IN ({subquery})"


def temp_table(conn: Connection, name: str, columns: str) -> None:
    """A per-connection scratch table for one chunk's work, emptied before each use."""
    conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})"))
    conn.execute(text(f"DELETE FROM {name}"))


def as_text(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR(20))"


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One chunk = one transaction: all of its statements land, or none."""
    with engine.connect() as conn:
        with conn.begin():
            yield conn


@contextmanager
def status_updates(engine: Engine) -> Iterator[Connection]:
    """transaction() for the whole-table status updates, one worker at a time (one_worker_at_a_time)."""
    with transaction(engine) as conn:
        one_worker_at_a_time(conn)
        yield conn


@contextmanager
def bulk_transaction(engine: Engine) -> Iterator[Connection]:
    """transaction() for a chunk that copies existing rows into new ones (child orders from their
    parents): every reference a new row gets (account, parent order, item) is read from a row of
    the same write transaction, so on SQLite the per-row foreign-key lookups are skipped for it.
    SQLite's foreign_keys is a per-connection setting that cannot change inside a transaction; it is
    switched off just before BEGIN and back on after COMMIT/ROLLBACK. PostgreSQL checks as always."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if driver is not None:
            driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                yield conn
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys = ON")


def filters_sql(item_id: str | None, sales_id: str | None, alias: str = "cl") -> str:
    parts = []
    if item_id:
        parts.append(f" AND {alias}.item_id = :item_id")
    if sales_id:
        parts.append(f" AND {alias}.sales_id = :sales_id")
    return "".join(parts)


_TYPED: dict[str, TypeEngine[Any]] = {
    "as_of": Date(),
    "due_until": Date(),
    "until": Date(),
    "now": DateTime(timezone=True),
    "older": DateTime(timezone=True),
}
_RESULT_TYPES: dict[str, TypeEngine[Any]] = {
    "ship_date": Date(),
    "start_date": Date(),
    "due_date": Date(),
    "bill_up_front": Boolean(),
}


def sql_text(statement: str) -> TextClause:
    """text() whose date/time parameters and result columns are typed, so SQLite and PostgreSQL
    store and compare them the same way."""
    clause = text(statement)
    binds: list[BindParameter[Any]] = [
        bindparam(name, type_=kind) for name, kind in _TYPED.items() if f":{name}" in statement
    ]
    return clause.bindparams(*binds) if binds else clause


def typed_columns(clause: TextClause, *names: str) -> TextualSelect:
    return clause.columns(**{n: _RESULT_TYPES[n] for n in names})
