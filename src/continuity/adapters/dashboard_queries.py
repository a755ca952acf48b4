"""Read-side aggregates of the manager dashboard (SQLAlchemy Core, SQLite and PostgreSQL).

Every figure is one set-based statement: the rows are put in weekly buckets by a CASE expression
inside a sub-select and summed with GROUP BY, whatever the number of orders.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, and_, case, func, literal, select, union_all

from continuity.adapters import orm, orm_returns
from continuity.domain.payments import AttemptStatus
from continuity.domain.schedule import OccurrenceStatus

O = orm.schedule_occurrences  # noqa: E741
L = orm.continuity_lines
I = orm.installments  # noqa: E741
P = orm.payments
S = orm.sales_orders
C = orm.customers
N = orm_returns.credit_notes
A = orm.payment_attempts

#: Occurrences that will not ship: they are not upcoming shipments.
NOT_SHIPPING = ("cancelled", "skipped")
NEEDS_ATTENTION = ("declined", "unknown")
#: a child order's own charge not taken yet (fulfil-children waits for it; declined and unknown ones need attention)
CHARGE_WAITING = ("not_submitted", "in_flight")


def _week(column: ColumnElement[date], starts: list[date]) -> ColumnElement[int]:
    """The 0-based week of ``column`` among consecutive week starts (``starts[-1]`` ends the range)."""
    return case(*[(column < starts[k + 1], k) for k in range(len(starts) - 1)])


def _in_range(column: ColumnElement[date], starts: list[date]) -> ColumnElement[bool]:
    return and_(column >= starts[0], column < starts[-1])


class DashboardQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def shipments_per_week(self, starts: list[date]) -> list[tuple[int, int]]:
        """(week, number of occurrences shipping that week) for scheduled, not skipped or cancelled ones."""
        rows = (
            select(_week(O.c.ship_date, starts).label("week"))
            .where(_in_range(O.c.ship_date, starts), O.c.status.not_in(NOT_SHIPPING))
            .subquery()
        )
        query = select(rows.c.week, func.count()).group_by(rows.c.week)
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(query)]

    def revenue_per_week(self, starts: list[date], charged: list[date]) -> list[tuple[int, str, int]]:
        """(week, currency, minor units) of money expected that week, by charge date: installments due
        (child-order charges included) that are not cancelled, on their due date; plus the pending shipments
        of lines billed per shipment, charged when their child order is created: the week whose ship dates
        start at ``charged[k]`` (``starts[k]`` + the delivery lead days) is week k (one still pending from
        before is charged by the next run: this week)."""
        due = select(_week(I.c.due_date, starts).label("week"), I.c.currency, I.c.amount_minor.label("minor")).where(
            _in_range(I.c.due_date, starts), I.c.status != "cancelled"
        )
        per_shipment = (
            select(
                _week(O.c.ship_date, charged).label("week"),
                O.c.currency,
                (O.c.price_minor * O.c.quantity).label("minor"),
            )
            .join(L, and_(L.c.sales_id == O.c.sales_id, L.c.line_no == O.c.line_no))
            .where(
                O.c.ship_date >= starts[0],
                O.c.ship_date < charged[-1],
                O.c.status == OccurrenceStatus.PENDING.value,
                L.c.payment_schedule_id.is_(None),
                L.c.bill_up_front.is_(False),
            )
        )
        rows = union_all(due, per_shipment).subquery()
        query = select(rows.c.week, rows.c.currency, func.sum(rows.c.minor)).group_by(rows.c.week, rows.c.currency)
        with self.engine.connect() as conn:
            return [(r[0], r[1], int(r[2])) for r in conn.execute(query)]

    def returns_since(self, since: date) -> list[tuple[str, str, int, int, int]]:
        """Per reason and currency: credit notes made on or after ``since``, what they credited, and what
        their refunds returned (the approved ones)."""
        approved = A.c.status == AttemptStatus.APPROVED.value
        query = (
            select(
                N.c.reason_code,
                N.c.currency,
                func.count(),
                func.sum(N.c.amount_minor),
                func.sum(case((approved, N.c.amount_minor), else_=0)),
            )
            .select_from(N.outerjoin(A, A.c.idempotency_key == N.c.refund_key))
            .where(N.c.returned_on >= since)
            .group_by(N.c.reason_code, N.c.currency)
        )
        with self.engine.connect() as conn:
            return [(r[0], r[1], int(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in conn.execute(query)]

    def payments_needing_attention(self, limit: int) -> tuple[list[dict[str, object]], int]:
        """Declined or unresolved installments and order payments (of orders still on hold), oldest
        due first, with the customer; and how many there are in all."""
        rows = union_all(_installments_query(), _order_payments_query()).subquery()
        listed = select(rows).order_by(rows.c.due_date, rows.c.sales_id, rows.c.seq).limit(limit)
        with self.engine.connect() as conn:
            found = [dict(r._mapping) for r in conn.execute(listed)]
            total = conn.execute(select(func.count()).select_from(rows)).scalar_one()
        return found, total

    def children_created(self, start: datetime, end: datetime, limit: int) -> tuple[list[dict[str, object]], int]:
        """The child orders created from ``start`` to ``end`` (a job run's time): their ids, parents, order
        dates and statuses, first created first; and how many there are in all."""
        where = (S.c.parent_sales_id.is_not(None), S.c.created_at >= start, S.c.created_at <= end)
        listed = (
            select(S.c.sales_id, S.c.parent_sales_id, S.c.order_date, S.c.status)
            .where(*where)
            .order_by(S.c.created_at, S.c.sales_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            found = [dict(r._mapping) for r in conn.execute(listed)]
            total = conn.execute(select(func.count()).select_from(S).where(*where)).scalar_one()
        return found, total

    def children_waiting_for_charge(self, as_of: date, limit: int) -> tuple[list[dict[str, object]], int]:
        """Open child orders whose own charge (their installment) is due by ``as_of`` and not taken yet,
        oldest due first; and how many there are in all."""
        where = (
            S.c.parent_sales_id.is_not(None),
            S.c.status == "open",
            I.c.status.in_(CHARGE_WAITING),
            I.c.due_date <= as_of,
        )
        joined = S.join(I, I.c.sales_id == S.c.sales_id)
        listed = (
            select(S.c.sales_id, S.c.parent_sales_id, I.c.due_date, I.c.amount_minor, I.c.currency, I.c.status)
            .select_from(joined)
            .where(*where)
            .order_by(I.c.due_date, S.c.sales_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            found = [dict(r._mapping) for r in conn.execute(listed)]
            total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
        return found, total


# Select[Any]: SQLAlchemy types the columns of a Core Table as Column[Any]
def _needing_attention(
    kind: str, charges: Table, parent_sales_id: ColumnElement[Any], seq: ColumnElement[Any], due: ColumnElement[Any]
) -> Select[Any]:
    """The ``charges`` declined or unresolved, as rows of the union (one column list for both kinds) with
    their customer's account and name; the caller joins the customer in."""
    return select(
        literal(kind).label("kind"),
        charges.c.sales_id,
        parent_sales_id.label("parent_sales_id"),
        seq.label("seq"),
        due.label("due_date"),
        charges.c.amount_minor,
        charges.c.currency,
        charges.c.status,
        C.c.account,
        C.c.name,
    ).where(charges.c.status.in_(NEEDS_ATTENTION))


def _installments_query() -> Select[Any]:
    parent = S.alias("parent")
    return (
        _needing_attention("installment", I, I.c.parent_sales_id, I.c.seq, I.c.due_date)
        .join(parent, parent.c.sales_id == I.c.parent_sales_id)
        .join(C, C.c.account == parent.c.account)
    )


def _order_payments_query() -> Select[Any]:
    """Payments of orders still on hold (their order date is when they were due)."""
    return (
        _needing_attention("order_payment", P, P.c.sales_id, P.c.payment_id, S.c.order_date)
        .join(S, S.c.sales_id == P.c.sales_id)
        .join(C, C.c.account == S.c.account)
        .where(S.c.status == "on_hold")
    )
