"""Scratch copies for simulations: a fresh SQLite file (in a temporary folder removed afterwards),
migrated, then filled table by table from the source in one read transaction. The source is only read.

With a sales order the copy holds the setup tables and that order's family only: its customer
(addresses, cards), the parent and its child orders with their lines, continuity lines,
occurrences, installments, payments, attempts, notices and the test-gateway ledger rows of
their attempts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, and_, create_engine, event, func, inspect, or_, select
from sqlalchemy.pool import NullPool

from continuity.adapters.db import make_engine
from continuity.adapters.migrate import upgrade
from continuity.adapters.orm import metadata, payment_attempts, sales_lines, sales_orders, schedule_occurrences
from continuity.adapters.test_gateway_ledger import LEDGER, create_ledger, gateway_ledger
from continuity.domain.errors import NotFound, RuleViolation
from continuity.domain.money import Money
from continuity.services.ports import ChargeRow, ChildOrderRow

BATCH = 1000
SETUP_TABLES = frozenset(
    {"continuity_parameters", "number_sequences", "payment_schedules", "programs", "items", "program_events"}
)


@dataclass(frozen=True)
class OrderScope:
    """The rows one sales order's simulation needs besides the setup."""

    account: str
    sales_ids: tuple[str, ...]  # the parent first, then its child orders
    ledger_keys: tuple[str, ...]


@contextmanager
def scratch_copy(source: Engine, sales_id: str | None = None) -> Iterator[str]:
    """Yield the URL of a migrated SQLite copy of ``source`` (or of one order's family); removed on exit."""
    with tempfile.TemporaryDirectory(prefix="continuity-simulation-") as folder:
        url = f"sqlite:///{Path(folder) / 'simulation.db'}"
        with read_transaction(source) as conn:
            scope = order_scope(conn, sales_id) if sales_id else None  # an unknown order fails first
            target = make_engine(url)
            try:
                upgrade(target)
                copy_rows(conn, target, scope)
            finally:
                target.dispose()
        yield url


@contextmanager
def read_transaction(source: Engine) -> Iterator[Connection]:
    """One read-only transaction on the source: a consistent view that writes and locks nothing."""
    if source.dialect.name == "sqlite":
        reader = create_engine(source.url, poolclass=NullPool, connect_args={"timeout": 30})
        event.listen(reader, "connect", _sqlite_read_only)
        event.listen(reader, "begin", lambda conn: conn.exec_driver_sql("BEGIN DEFERRED"))  # a WAL snapshot
    else:
        reader = create_engine(source.url, poolclass=NullPool).execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    try:
        with reader.connect() as conn, conn.begin() as tx:
            yield conn
            tx.rollback()
    finally:
        reader.dispose()


def _sqlite_read_only(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # BEGIN is issued by the "begin" listener
    dbapi_connection.execute("PRAGMA query_only=ON")


def order_scope(conn: Connection, sales_id: str) -> OrderScope:
    order = conn.execute(
        select(sales_orders.c.account, sales_orders.c.parent_sales_id).where(sales_orders.c.sales_id == sales_id)
    ).first()
    if order is None:
        raise NotFound(f"no sales order {sales_id!r}", "sales_order_not_found")
    if order.parent_sales_id:
        raise RuleViolation(
            f"{sales_id} is a child order of {order.parent_sales_id}: simulate {order.parent_sales_id}",
            "sales_order_is_child",
        )
    children = (
        conn.execute(
            select(sales_orders.c.sales_id)
            .where(sales_orders.c.parent_sales_id == sales_id)
            .order_by(sales_orders.c.sales_id)
        )
        .scalars()
        .all()
    )
    ids = (sales_id, *children)
    keys = (
        conn.execute(select(payment_attempts.c.idempotency_key).where(payment_attempts.c.sales_id.in_(ids)))
        .scalars()
        .all()
    )
    return OrderScope(order.account, ids, tuple(keys))


def copy_rows(conn: Connection, target: Engine, scope: OrderScope | None) -> dict[str, int]:
    """Copy every table (or the scope's rows) in dependency order, in batches; returns rows per table."""
    source_columns = _columns(conn)
    if "sales_orders" not in source_columns:
        raise RuleViolation("the database has no schema yet: run `continuity db upgrade`", "schema_missing")
    tables = list(metadata.sorted_tables)
    if LEDGER in source_columns:  # the test connector's own table (once it has been used)
        create_ledger(target)
        tables.append(gateway_ledger)
    target_columns = _columns(target)
    with target.connect() as dst:
        _pragma(dst, "foreign_keys=OFF")  # parents and children arrive in any order
        copied = {}
        with dst.begin():
            for table in tables:
                names = [c for c in source_columns.get(table.name, ()) if c in target_columns.get(table.name, ())]
                query = _rows_of(table, names, scope) if names else None
                if query is not None:
                    dst.execute(table.delete())  # rows a migration seeded (hold codes): the source's are the truth
                    copied[table.name] = _copy_table(conn, dst, table, query)
        _pragma(dst, "foreign_keys=ON")
    return copied


def _pragma(dst: Connection, setting: str) -> None:
    """On the driver's connection, outside any transaction: SQLite ignores foreign_keys inside one (and
    the engine begins one, BEGIN IMMEDIATE, before any statement sent through SQLAlchemy)."""
    driver = dst.connection.driver_connection
    if driver is None:
        raise RuntimeError("the scratch copy's connection is closed")
    driver.execute(f"PRAGMA {setting}")


def _columns(bind: Connection | Engine) -> dict[str, list[str]]:
    inspector = inspect(bind)
    return {name: [c["name"] for c in inspector.get_columns(name)] for name in inspector.get_table_names()}


def _copy_table(conn: Connection, dst: Connection, table: Table, query: Select[Any]) -> int:
    count = 0
    for part in conn.execute(query.execution_options(yield_per=BATCH)).partitions(BATCH):
        dst.execute(table.insert(), [dict(row._mapping) for row in part])
        count += len(part)
    return count


# Select[Any]: the columns picked are the tables' own (Column[Any] in SQLAlchemy), by name
def _rows_of(table: Table, names: list[str], scope: OrderScope | None) -> Select[Any] | None:
    """The rows of ``table`` to copy; None leaves the table empty (not part of one order's world)."""
    query = select(*[table.c[n] for n in names])
    if scope is None or table.name in SETUP_TABLES:
        return query
    if table is gateway_ledger:
        return query.where(table.c.idempotency_key.in_(scope.ledger_keys))
    if "sales_id" in table.c:
        return query.where(table.c.sales_id.in_(scope.sales_ids))
    if "account" in table.c:
        return query.where(table.c.account == scope.account)
    return None


def read_activity(engine: Engine, first: date, last: date) -> tuple[list[ChildOrderRow], list[ChargeRow]]:
    """Child orders created or shipped, and captures and refunds attempted, from ``first`` to ``last``."""
    so = sales_orders
    touched = and_(
        so.c.parent_sales_id.is_not(None),
        or_(so.c.order_date.between(first, last), so.c.shipped_on.between(first, last)),
    )
    ship_date = (
        select(func.min(schedule_occurrences.c.ship_date))
        .where(schedule_occurrences.c.child_sales_id == so.c.sales_id)
        .scalar_subquery()
    )
    with engine.connect() as conn:
        orders = conn.execute(
            select(
                so.c.sales_id,
                so.c.parent_sales_id,
                so.c.order_date,
                ship_date.label("due"),
                so.c.shipped_on,
                so.c.status,
            )
            .where(touched)
            .order_by(so.c.sales_id)
        ).all()
        lines: dict[str, list[tuple[str, int]]] = {}
        for row in conn.execute(
            select(sales_lines.c.sales_id, sales_lines.c.item_id, sales_lines.c.quantity)
            .join(so, so.c.sales_id == sales_lines.c.sales_id)
            .where(touched)
            .order_by(sales_lines.c.sales_id, sales_lines.c.line_no)
        ):
            lines.setdefault(row.sales_id, []).append((row.item_id, row.quantity))
        a = payment_attempts.c
        attempts = conn.execute(
            select(a.as_of, a.sales_id, a.seq, a.operation, a.status, a.amount_minor, a.currency)
            .where(a.operation.in_(("capture", "refund")), a.as_of.between(first, last))
            .order_by(a.as_of, a.attempt_id)
        ).all()
    children = [
        ChildOrderRow(
            o.sales_id, o.parent_sales_id, o.order_date, o.due, o.shipped_on, o.status, tuple(lines.get(o.sales_id, ()))
        )
        for o in orders
    ]
    charges = [
        ChargeRow(t.as_of, t.sales_id, t.seq, t.operation, t.status, Money.from_minor(t.amount_minor, t.currency))
        for t in attempts
    ]
    return children, charges
