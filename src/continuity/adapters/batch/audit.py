"""Set-based audit entries of the batch jobs: one INSERT … SELECT per statement that changes rows,
in the same transaction and with the same WHERE as the change, run just before it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, DateTime, bindparam

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.sql import sql_text
from continuity.domain.sales_order import OrderStatus
from continuity.services.jobs.records import AuditRow

_COLUMNS = "occurred_at, actor, actor_kind, entity, entity_key, sales_id, program_id, action, before, after, reason"


def audit_select(
    conn: Connection,
    now: datetime,
    job: str,
    entity: str,
    action: str,
    *,
    key: str,
    sales_id: str,
    before: str,
    after: str,
    source: str,
    params: Mapping[str, object],
    reason: str = "",
    program_id: str = "NULL",
) -> int:
    """``INSERT INTO audit_entries SELECT … FROM source``: ``key``/``sales_id``/``before``/``after`` are
    SQL expressions over ``source`` (a FROM … WHERE clause); ``now`` is the job's clock's."""
    return conn.execute(
        sql_text(
            f"INSERT INTO audit_entries ({_COLUMNS}) SELECT :audit_now, :audit_actor, 'job', :audit_entity, {key}, "
            f"{sales_id}, {program_id}, :audit_action, {before}, {after}, :audit_reason FROM {source}"
        ).bindparams(bindparam("audit_now", type_=DateTime(timezone=True))),
        {
            **params,
            "audit_now": now,
            "audit_actor": f"job:{job}",
            "audit_entity": entity,
            "audit_action": action,
            "audit_reason": reason,
        },
    ).rowcount


def audit_orders(
    conn: Connection,
    now: datetime,
    job: str,
    action: str,
    where: str,
    params: Mapping[str, object],
    target: OrderStatus,
    reason: str = "",
) -> None:
    """One audit entry per sales order the status UPDATE with this ``where`` moves to ``target``."""
    audit_select(
        conn,
        now,
        job,
        "order",
        action,
        key="sales_id",
        sales_id="sales_id",
        before=status_json("status"),
        after=status_json(R.lit(target)),
        source="sales_orders " + where,
        params=params,
        reason=reason,
    )


def audit_rows(conn: Connection, now: datetime, job: str, entries: list[AuditRow]) -> None:
    """Entries built by a job in Python (one executemany); ``now`` is the job's clock's."""
    if not entries:
        return
    conn.execute(
        sql_text(
            f"INSERT INTO audit_entries ({_COLUMNS}) VALUES (:now, :actor, 'job', :entity, :entity_key, :sales_id, "
            ":program_id, :action, :before, :after, :reason)"
        ),
        [
            {
                "now": now,
                "actor": f"job:{job}",
                "entity": e.entity,
                "entity_key": e.entity_key,
                "sales_id": e.sales_id,
                "program_id": e.program_id,
                "action": e.action,
                "before": _json(e.before),
                "after": _json(e.after),
                "reason": e.reason,
            }
            for e in entries
        ],
    )


def status_json(expr: str) -> str:
    """SQL for the JSON text {"status": <expr>}."""
    return '\'{"status": "\' || ' + expr + " || '\"}'"


def _json(value: dict[str, object] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)
