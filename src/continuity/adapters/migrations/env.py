"""Alembic environment: runs on the connection the caller passes, or on the configured URL."""

from __future__ import annotations

import os

from alembic import context
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from sqlalchemy import Connection

from continuity.adapters.db import make_engine
from continuity.adapters.orm import metadata
from continuity.adapters.test_gateway_ledger import LEDGER

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("CONTINUITY_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database: set CONTINUITY_DATABASE_URL (or sqlalchemy.url in alembic.ini)")
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


def _ours(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """The test connector's ledger is its own table (it creates it), not a part of the schema to compare."""
    return not (type_ == "table" and name == LEDGER)


run_migrations()
