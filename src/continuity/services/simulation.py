"""The simulation clock: play the nightly batch jobs forward day by day on a copy of the data, then
tell per month what was created, shipped, charged and refunded.

The jobs are the production ones (run_all of the job registry, with the warehouse stand-in that
ships paid child orders); only the clock is simulated. Copying the data and reading the copy's
rows back are the adapters' part (adapters/snapshot.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import NotRequired, TypedDict

from continuity.domain.calendar import add_days, add_months
from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money
from continuity.services.jobs.context import JobDeps, JobRequest, NoProgress, Progress
from continuity.services.jobs.registry import run_all
from continuity.services.ports import ChargeRow, ChildOrderRow, Clock


class SimulationClock:
    """today() is the simulated day; now() runs ahead of the base clock by as many days, so what a
    night leaves pending looks a day old to the next night, as it would in production."""

    def __init__(self, base: Clock, start: date) -> None:
        self.base, self.start, self.day = base, start, start

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return self.base.now() + timedelta(days=(self.day - self.start).days)


def simulation_days(start: date, months: int) -> list[date]:
    if months < 1:
        raise ValidationFailed(f"a simulation runs for at least one month, not {months}", "months_invalid")
    end, day, days = add_months(start, months), start, []
    while day < end:
        days.append(day)
        day = add_days(day, 1)
    return days


def periods(start: date, months: int) -> list[tuple[date, date]]:
    """Month periods from the start: (first day, last day) each."""
    return [(add_months(start, k), add_days(add_months(start, k + 1), -1)) for k in range(months)]


def play(deps: JobDeps, clock: SimulationClock, days: list[date], progress: Progress | None = None) -> int:
    """Run the nightly sequence (with fulfilment) once per simulated day; returns the job runs made."""
    progress = progress or NoProgress()
    progress.start("simulating nightly runs", len(days))
    runs = 0
    for day in days:
        clock.day = day
        runs += len(run_all(deps, JobRequest(day), fulfil=True))
        progress.advance(1)
    return runs


class Figures(TypedDict):
    """What happened within a span of days (amounts: per currency code, as decimal strings)."""

    children_created: int
    shipments: int
    items_shipped: int
    charges: int
    charged: dict[str, str]
    declined: int
    unresolved: int
    refunds: int
    refunded: dict[str, str]


_Span = TypedDict("_Span", {"period": int, "from": str, "to": str})


class PeriodFigures(_Span, Figures):
    """One period's figures ("from" and "to": its first and last day)."""


class ShippedItem(TypedDict):
    item_id: str
    quantity: int


class ShipmentView(TypedDict):
    sales_id: str
    created_on: str
    ship_date: str | None
    shipped_on: str | None
    status: str
    items: list[ShippedItem]


class ChargeView(TypedDict):
    date: str
    sales_id: str
    seq: int
    operation: str
    status: str
    amount: str
    currency: str


class Summary(TypedDict):
    """The figures of a simulation, per period and in total; with one sales order, its shipments and charges."""

    start: str
    end: str
    months: int
    sales_order: str | None
    periods: list[PeriodFigures]
    totals: Figures
    shipments: NotRequired[list[ShipmentView]]
    charges: NotRequired[list[ChargeView]]


def summarise(
    children: list[ChildOrderRow], charges: list[ChargeRow], start: date, months: int, sales_id: str | None = None
) -> Summary:
    """Per period and in total: child orders created, shipments, items, charges, declines, refunds."""
    spans = periods(start, months)
    end = spans[-1][1]
    rows: list[PeriodFigures] = [
        {"period": k + 1, "from": first.isoformat(), "to": last.isoformat(), **_figures(children, charges, first, last)}
        for k, (first, last) in enumerate(spans)
    ]
    summary: Summary = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "months": months,
        "sales_order": sales_id,
        "periods": rows,
        "totals": _figures(children, charges, start, end),
    }
    if sales_id:
        summary["shipments"] = [
            _child_view(c)
            for c in sorted(children, key=_by_ship_date)
            if _within(c.created_on, start, end) or _within(c.shipped_on, start, end)
        ]
        summary["charges"] = [_charge_view(c) for c in charges if _within(c.as_of, start, end)]
    return summary


def _figures(children: list[ChildOrderRow], charges: list[ChargeRow], first: date, last: date) -> Figures:
    shipped = [c for c in children if _within(c.shipped_on, first, last)]
    taken = [c for c in charges if _within(c.as_of, first, last)]
    counts = Counter((c.operation, c.status) for c in taken)
    return {
        "children_created": sum(1 for c in children if _within(c.created_on, first, last)),
        "shipments": len(shipped),
        "items_shipped": sum(c.quantity for c in shipped),
        "charges": counts["capture", "approved"],
        "charged": _amounts(c.amount for c in taken if (c.operation, c.status) == ("capture", "approved")),
        "declined": counts["capture", "declined"],
        "unresolved": counts["capture", "unknown"] + counts["capture", "pending"],
        "refunds": counts["refund", "approved"],
        "refunded": _amounts(c.amount for c in taken if (c.operation, c.status) == ("refund", "approved")),
    }


def _amounts(amounts: Iterable[Money]) -> dict[str, str]:
    sums: dict[str, Money] = {}
    for amount in amounts:
        sums[amount.currency] = sums.get(amount.currency, Money.zero(amount.currency)) + amount
    return {currency: str(money.amount) for currency, money in sorted(sums.items())}


def _within(day: date | None, first: date, last: date) -> bool:
    return day is not None and first <= day <= last


def _by_ship_date(c: ChildOrderRow) -> tuple[date, str]:
    return c.ship_date or c.created_on, c.sales_id


def _child_view(c: ChildOrderRow) -> ShipmentView:
    return {
        "sales_id": c.sales_id,
        "created_on": c.created_on.isoformat(),
        "ship_date": c.ship_date.isoformat() if c.ship_date else None,
        "shipped_on": c.shipped_on.isoformat() if c.shipped_on else None,
        "status": c.status,
        "items": [{"item_id": i, "quantity": q} for i, q in c.items],
    }


def _charge_view(c: ChargeRow) -> ChargeView:
    return {
        "date": c.as_of.isoformat(),
        "sales_id": c.sales_id,
        "seq": c.seq,
        "operation": c.operation,
        "status": c.status,
        "amount": str(c.amount.amount),
        "currency": c.amount.currency,
    }
