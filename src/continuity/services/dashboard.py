"""The manager dashboard: shipments and expected revenue per week, payments that need attention.

Weeks run Monday to Sunday; the first one is the week of ``today``. The figures come from set-based
aggregates of the read side (``DashboardReads``), never from a loop over orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from continuity.domain.calendar import add_days
from continuity.domain.money import Money

WEEKS = 12
RETURN_DAYS = 30  # the dashboard's returns cover the last 30 days


class DashboardReads(Protocol):
    def shipments_per_week(self, starts: list[date]) -> list[tuple[int, int]]: ...

    def revenue_per_week(self, starts: list[date], charged: list[date]) -> list[tuple[int, str, int]]: ...

    def returns_since(self, since: date) -> list[tuple[str, str, int, int, int]]:
        """(reason_code, currency, credit notes, credited minor units, refunded minor units: approved refunds)
        of the returns made on or after ``since``."""
        ...

    def payments_needing_attention(self, limit: int) -> tuple[Sequence[Mapping[str, Any]], int]:
        """Rows with the columns kind, sales_id, parent_sales_id, seq, due_date, amount_minor, currency,
        status, account, name; and how many there are in all."""
        ...

    def children_created(self, start: datetime, end: datetime, limit: int) -> tuple[Sequence[Mapping[str, Any]], int]:
        """Rows with sales_id, parent_sales_id, order_date, status; and how many there are in all."""
        ...

    def children_waiting_for_charge(self, as_of: date, limit: int) -> tuple[Sequence[Mapping[str, Any]], int]:
        """Rows with sales_id, parent_sales_id, due_date, amount_minor, currency, status; and the count."""
        ...


@dataclass(frozen=True)
class WeekFigures:
    start: date
    end: date  # the week's last day (Sunday)
    shipments: int
    revenue: tuple[Money, ...]  # one amount per currency, by currency code

    def revenue_in(self, currency: str) -> Money:
        return next((m for m in self.revenue if m.currency == currency), Money.zero(currency))


@dataclass(frozen=True)
class Outlook:
    weeks: list[WeekFigures]
    currency: str  # the currency with the most expected revenue (the one the chart draws)
    lead_days: int = 0  # a shipment billed on its own is charged this many days before it ships


@dataclass(frozen=True)
class AttentionItem:
    kind: str  # "installment" or "order_payment"
    sales_id: str
    parent_sales_id: str
    seq: int
    due_date: date
    amount: Money
    status: str
    account: str
    customer_name: str


@dataclass(frozen=True)
class ReturnsByReason:
    reason_code: str
    count: int
    credited: tuple[Money, ...]  # one amount per currency
    refunded: tuple[Money, ...]  # what the gateway approved


@dataclass(frozen=True)
class ReturnsSummary:
    since: date
    count: int
    credited: tuple[Money, ...]
    refunded: tuple[Money, ...]
    reasons: list[ReturnsByReason]


def returns_summary(reads: DashboardReads, today: date, days: int = RETURN_DAYS) -> ReturnsSummary:
    """Returns of the last ``days`` days: how many, what they credited and what the gateway refunded, in all
    and per reason."""
    since = add_days(today, -days)
    rows = reads.returns_since(since)
    per: dict[str, list[tuple[str, int, int, int]]] = defaultdict(list)
    for reason, currency, count, credited, refunded in rows:
        per[reason].append((currency, count, credited, refunded))
    reasons = [
        ReturnsByReason(
            reason,
            sum(n for _, n, _, _ in found),
            _amounts((c, m) for c, _, m, _ in found),
            _amounts((c, m) for c, _, _, m in found),
        )
        for reason, found in sorted(per.items())
    ]
    return ReturnsSummary(
        since,
        sum(r.count for r in reasons),
        _amounts((c, m) for _, c, _, m, _ in rows),
        _amounts((c, m) for _, c, _, _, m in rows),
        reasons,
    )


def _amounts(pairs: Any) -> tuple[Money, ...]:
    summed: dict[str, int] = defaultdict(int)
    for currency, minor in pairs:
        summed[currency] += int(minor)
    return tuple(Money.from_minor(m, c) for c, m in sorted(summed.items()))


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays starting each week, plus the Monday that ends the last one."""
    monday = add_days(today, -today.weekday())
    return [add_days(monday, 7 * k) for k in range(weeks + 1)]


def outlook(
    reads: DashboardReads, today: date, lead_days: int, weeks: int = WEEKS, default_currency: str = "EUR"
) -> Outlook:
    """Shipments per week by ship date; expected revenue per week by charge date: an installment on its due
    date, a shipment billed on its own when its child order is created (``lead_days`` before it ships)."""
    starts = week_starts(today, weeks)
    shipments = dict(reads.shipments_per_week(starts))
    revenue: dict[int, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    for week, currency, minor in reads.revenue_per_week(starts, [add_days(s, lead_days) for s in starts]):
        revenue[week][currency] = minor
        totals[currency] += minor
    figures = [
        WeekFigures(
            starts[k],
            add_days(starts[k + 1], -1),
            shipments.get(k, 0),
            tuple(Money.from_minor(m, c) for c, m in sorted(revenue[k].items())),
        )
        for k in range(weeks)
    ]
    currency = max(sorted(totals), key=lambda c: totals[c]) if totals else default_currency
    return Outlook(figures, currency, lead_days)


def payments_needing_attention(reads: DashboardReads, limit: int = 50) -> tuple[list[AttentionItem], int]:
    """Declined or unresolved installments and held orders' declined payments, oldest first; and the total."""
    rows, total = reads.payments_needing_attention(limit)
    items = [
        AttentionItem(
            r["kind"],
            r["sales_id"],
            r["parent_sales_id"],
            r["seq"],
            _as_date(r["due_date"]),
            Money.from_minor(r["amount_minor"], r["currency"]),
            r["status"],
            r["account"],
            r["name"],
        )
        for r in rows
    ]
    return items, total


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class ChildOrder:
    """A child order as the jobs page lists it: created by a run, or waiting for its charge."""

    sales_id: str
    parent_sales_id: str
    day: date  # its order date, or when its charge is due
    status: str  # the order's status, or its charge's
    amount: Money | None = None


def children_created(reads: DashboardReads, run: Mapping[str, Any], limit: int = 200) -> tuple[list[ChildOrder], int]:
    """The child orders a job run created (those created while it ran); and how many in all."""
    if run["name"] != "create-child-orders" or not run.get("finished_at"):
        return [], 0
    start, end = (datetime.fromisoformat(str(run[k])) for k in ("started_at", "finished_at"))
    rows, total = reads.children_created(start, end, limit)
    found = [ChildOrder(r["sales_id"], r["parent_sales_id"], _as_date(r["order_date"]), r["status"]) for r in rows]
    return found, total


def children_waiting_for_charge(reads: DashboardReads, as_of: date, limit: int = 20) -> tuple[list[ChildOrder], int]:
    """Open child orders whose charge is due by ``as_of`` and not taken (process-payments takes it)."""
    rows, total = reads.children_waiting_for_charge(as_of, limit)
    found = [
        ChildOrder(
            r["sales_id"],
            r["parent_sales_id"],
            _as_date(r["due_date"]),
            r["status"],
            Money.from_minor(r["amount_minor"], r["currency"]),
        )
        for r in rows
    ]
    return found, total
