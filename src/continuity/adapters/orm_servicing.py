"""Tables of the servicing change, on the shared metadata of continuity.adapters.orm.

``audit_entries`` is append-only: the database itself refuses UPDATE and DELETE on it (triggers,
created by migration 0003 and, for schemas built with ``metadata.create_all``, by the listener below).
``schedule_adjustments`` holds the servicing changes of a continuity line (skip, reschedule,
substitute, pause, cancel) so that every job that expands the program's plan (extend-lines,
continuity-update) and the projection apply them the same way.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, Date, DateTime, Index, Integer, String, Table, Text, event

from continuity.adapters.orm import metadata

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),  # a user name, or job:<name>
    Column("actor_kind", String(20), nullable=False),  # agent, warehouse, manager, admin, job, cli
    Column("entity", String(30), nullable=False),
    Column("entity_key", String(120), nullable=False),
    Column("sales_id", String(40), nullable=True, index=True),
    Column("program_id", String(40), nullable=True, index=True),
    Column("action", String(40), nullable=False),
    Column("before", Text, nullable=True),  # JSON
    Column("after", Text, nullable=True),  # JSON
    Column("reason", Text, nullable=False),
)

schedule_adjustments = Table(
    "schedule_adjustments",
    metadata,
    Column("adjustment_id", Integer, primary_key=True, autoincrement=True),
    Column("sales_id", String(40), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(20), nullable=False),  # skip, reschedule, shift, substitute, pause, cancel
    Column("seq", Integer, nullable=False),  # the occurrence (or the first one) it applies to
    Column("days", Integer, nullable=True),
    Column("ship_date", Date, nullable=True),
    Column("item_id", String(40), nullable=True),
    Column("price_minor", BigInteger, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("pause_from", Date, nullable=True),
    Column("resume_on", Date, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_schedule_adjustments_line", "sales_id", "line_no"),
)

APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
    "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
]
APPEND_ONLY_POSTGRES = [
    "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
]
DROP_APPEND_ONLY_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_entries_no_update",
    "DROP TRIGGER IF EXISTS audit_entries_no_delete",
]
DROP_APPEND_ONLY_POSTGRES = [
    "DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries",
    "DROP FUNCTION IF EXISTS audit_entries_append_only()",
]


def _append_only(target: Table, connection: Connection, **kw: object) -> None:
    """The triggers, after ``metadata.create_all`` made the table (SQLite and PostgreSQL)."""
    statements = {"sqlite": APPEND_ONLY_SQLITE, "postgresql": APPEND_ONLY_POSTGRES}.get(connection.dialect.name, [])
    for statement in statements:
        connection.exec_driver_sql(statement)


event.listen(audit_entries, "after_create", _append_only)
