"""The SQL form of the domain's rules, rendered from its enums and transition tables.

The domain holds each business predicate once in Python (``domain/payments.py``, ``domain/schedule.py``,
``domain/card.py``); this module renders the same predicate as a SQL fragment for the set-based job
statements and the repositories, so no SQL elsewhere spells a status literal. It is also the one path
by which a status changes in the database: ``set_status`` (text SQL) and ``update_status`` (SQLAlchemy
Core) add "the row is in a status its transition table lets move to the target" to every UPDATE, so an
illegal move changes no row. tests/unit/test_status_changes.py fails on an ``UPDATE … SET status``
written anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Table, Update, update

from continuity.domain.dunning import HARD_CODES
from continuity.domain.payments import (
    ATTEMPT_TRANSITIONS,
    CHARGES,
    CLAIMABLE,
    IN_FLIGHT,
    PAYMENT_TRANSITIONS,
    PROBLEM,
    AttemptOperation,
)
from continuity.domain.sales_order import LINE_TRANSITIONS, ORDER_TRANSITIONS, LineStatus
from continuity.domain.schedule import OCCURRENCE_TRANSITIONS, OccurrenceStatus
from continuity.domain.tax import MILLION, ChargeKind

Transitions = Mapping[Any, frozenset[Any]]

#: The transition table of each table with a status column.
TRANSITIONS: dict[str, Transitions] = {
    "sales_orders": ORDER_TRANSITIONS,
    "sales_lines": LINE_TRANSITIONS,
    "continuity_lines": LINE_TRANSITIONS,
    "schedule_occurrences": OCCURRENCE_TRANSITIONS,
    "installments": PAYMENT_TRANSITIONS,
    "payments": PAYMENT_TRANSITIONS,
    "payment_attempts": ATTEMPT_TRANSITIONS,
}


# -- literals ------------------------------------------------------------------------------------
def lit(value: StrEnum) -> str:
    """A status (or other enum value) as a SQL string literal."""
    if not isinstance(value, StrEnum):
        raise TypeError(f"a status literal comes from an enum, not {value!r}")
    return "'" + value.value.replace("'", "''") + "'"


def among(column: str, values: Iterable[StrEnum]) -> str:
    """``column IN ('a', 'b')``, in the enum's order: a statement's text is the same every time, and a
    partial index's WHERE (ix_installments_claimable) is matched by SQLite only when written alike."""
    return f"{column} IN ({', '.join(lit(v) for v in _ordered(values))})"


def not_among(column: str, values: Iterable[StrEnum]) -> str:
    return f"{column} NOT IN ({', '.join(lit(v) for v in _ordered(values))})"


def _ordered(values: Iterable[StrEnum]) -> list[StrEnum]:
    return sorted(values, key=lambda v: list(type(v).__members__).index(v.name))


def equals(column: str, value: StrEnum) -> str:
    return f"{column} = {lit(value)}"


# -- the rules -----------------------------------------------------------------------------------
def occurrence_due(alias: str = "o", until: str = ":due_until") -> str:
    """domain.schedule.is_due: pending, shipping on or before ``until``."""
    return f"{equals(alias + '.status', OccurrenceStatus.PENDING)} AND {alias}.ship_date <= {until}"


def installment_claimable(
    alias: str = "i", as_of: str = ":as_of", operation: AttemptOperation = AttemptOperation.CAPTURE
) -> str:
    """domain.payments.is_claimable: due on or before ``as_of`` in a status the charge claims."""
    return f"{alias}.due_date <= {as_of} AND {claimable_status(alias, operation)}"


def claimable_status(alias: str | None = "i", operation: AttemptOperation = AttemptOperation.CAPTURE) -> str:
    """The statuses a charge claims (``alias`` None: the bare column, as in the partial index)."""
    return among(f"{alias}.status" if alias else "status", CLAIMABLE[operation])


def installment_in_flight(alias: str = "i") -> str:
    """domain.payments.is_in_flight: its charge's attempt is committed and not answered."""
    return among(f"{alias}.status", IN_FLIGHT)


def payment_problem(alias: str = "i") -> str:
    """domain.payments.PROBLEM: declined, or its outcome unknown (its child orders are held)."""
    return among(f"{alias}.status", PROBLEM)


def hard_decline(column: str = "a.decline_code") -> str:
    """domain.dunning.decline_class is HARD: the card is never charged again."""
    return among(column, HARD_CODES)


def charge_operation(column: str = "a.operation") -> str:
    """The attempt charges its installment (a capture or an authorize)."""
    return among(column, CHARGES)


def card_expired(alias: str = "c", month_index: str = ":month_index") -> str:
    """domain.card.is_expired: ``month_index`` is domain.card.month_index of the day."""
    return f"{alias}.expiry_year * 12 + {alias}.expiry_month < {month_index}"


def attempt_key(subject: str, sales_id: str, line_no: str, seq: str, operation: str, attempt_no: str) -> str:
    """domain.payments.attempt_key, as a SQL expression of the given SQL expressions."""
    parts = [subject, sales_id, _as_text(line_no), _as_text(seq), operation, _as_text(attempt_no)]
    return " || ':' || ".join(parts)


def _as_text(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR(20))"


# -- status changes through the transition tables --------------------------------------------------
def sources(table: str, target: StrEnum, keep: bool = False) -> frozenset[StrEnum]:
    """The statuses a row of ``table`` may move to ``target`` from (and ``target`` itself with ``keep``:
    a write that may leave the status as it is)."""
    table_ = TRANSITIONS[table]
    found = frozenset(s for s, targets in table_.items() if target in targets)
    return found | {target} if keep else found


def set_status(table: str, target: StrEnum, where: str, *, also: str = "", source: str | None = None) -> str:
    """``UPDATE table SET status = target[, also] where AND table.status IN (sources)``: ``where`` is the
    rest of the statement (``WHERE …``, or ``FROM … WHERE …``); ``source`` replaces the table name after
    UPDATE (``schedule_occurrences INDEXED BY …``)."""
    sets = f"status = {lit(target)}" + (f", {also}" if also else "")
    guard = among(table + ".status", sources(table, target))
    return f"UPDATE {source or table} SET {sets} {_and(where, guard)}"


def set_status_to(table: str, target_column: str, values: Iterable[StrEnum], where: str, *, also: str = "") -> str:
    """``UPDATE table SET status = target_column`` where each row's target (one of ``values``, e.g. a
    staged outcome's next status) is one its current status may move to."""
    pairs = " OR ".join(
        f"({target_column} = {lit(target)} AND {among(table + '.status', sources(table, target))})"
        for target in _ordered(values)
        if sources(table, target)
    )
    sets = f"status = {target_column}" + (f", {also}" if also else "")
    return f"UPDATE {table} SET {sets} {_and(where, pairs or '1 = 0')}"


def _and(where: str, guard: str) -> str:
    """``[FROM …] WHERE (condition) AND (guard)``: the guard holds whatever the condition's ORs."""
    head, found, condition = where.partition("WHERE ")
    if not found or not condition.strip():
        raise ValueError(f"a status change names the rows it moves (WHERE …): {where!r}")
    return f"{head}WHERE ({condition.strip()}) AND ({guard})"


def update_status(
    table: Table, target: StrEnum, *where: ColumnElement[bool], keep: bool = False, **values: Any
) -> Update:
    """A Core UPDATE moving the rows ``where`` to ``target`` (with ``values``), only from a status its
    transition table allows (``keep``: or staying in ``target``)."""
    allowed = [s.value for s in _ordered(sources(table.name, target, keep))]
    return update(table).where(*where, table.c.status.in_(allowed)).values(status=target.value, **values)


# -- the invoicing side effects --------------------------------------------------------------------
def invoicing_effects(occurrences_where: str, lines_where: str, occurrences_source: str | None = None) -> list[str]:
    """Invoicing child orders invoices the occurrences they ship and closes their lines (the rows each
    ``…_where`` names: WHERE …)."""
    return [
        set_status("schedule_occurrences", OccurrenceStatus.INVOICED, occurrences_where, source=occurrences_source),
        set_status("sales_lines", LineStatus.CLOSED, lines_where),
    ]


# -- taxes and shipping charges (domain/tax.py) ------------------------------------------------------
def tax_minor(amount: str, rate: str, included: str) -> str:
    """domain.tax.tax_minor: a line's tax in minor units, half-up; ``included`` is 1 for gross prices.
    Integer arithmetic over non-negative values, so SQLite's and PostgreSQL's division agree with Python's."""
    m = MILLION
    return (
        f"(CASE WHEN {included} = 1 THEN (2 * ({amount}) * ({rate}) + {m} + ({rate})) / (2 * ({m} + ({rate}))) "
        f"ELSE (({amount}) * ({rate}) + {m // 2}) / {m} END)"
    )


def rate_in_force(group: str, region: str, day: str) -> str:
    """domain.tax.TaxTable.rate_on: the rate of the latest row valid on ``day`` (none: 0)."""
    return (
        f"COALESCE((SELECT r.rate_ppm FROM tax_rates r WHERE r.tax_group = {group} AND r.region = {region} "
        f"AND r.valid_from <= {day} ORDER BY r.valid_from DESC LIMIT 1), 0)"
    )


def charge_minor(kind: str, amount: str, quantity: str, is_lead: str) -> str:
    """domain.tax.ShippingCharge.minor_for: per unit on every line, per order on the child's first."""
    return (
        f"(CASE WHEN {kind} = {lit(ChargeKind.PER_UNIT)} THEN ({amount}) * ({quantity}) "
        f"WHEN {kind} = {lit(ChargeKind.PER_ORDER)} AND {is_lead} = 1 THEN {amount} ELSE 0 END)"
    )
