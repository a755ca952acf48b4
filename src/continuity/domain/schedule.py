"""The continuity schedule: expanding a program into dated occurrences for one order line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from continuity.domain.calendar import DateSequence, Interval, add_days
from continuity.domain.errors import InvalidTransition
from continuity.domain.money import Money, total
from continuity.domain.program import Event, EventAction, PaymentSchedule, Program
from continuity.domain.tax import NO_TAX, LineAmounts, Pricing, summed


class OccurrenceStatus(StrEnum):
    PENDING = "pending"
    CHILD_CREATED = "child_created"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    PAUSED = "paused"  # held by a pause (servicing); back to pending when the order is resumed


_O = OccurrenceStatus
#: Created, shipped and invoiced history never changes back; only pending and paused ones are serviced.
OCCURRENCE_TRANSITIONS: dict[OccurrenceStatus, frozenset[OccurrenceStatus]] = {
    _O.PENDING: frozenset({_O.CHILD_CREATED, _O.SKIPPED, _O.CANCELLED, _O.PAUSED}),
    _O.PAUSED: frozenset({_O.PENDING, _O.SKIPPED, _O.CANCELLED}),
    _O.CHILD_CREATED: frozenset({_O.INVOICED}),
    _O.INVOICED: frozenset(),
    _O.SKIPPED: frozenset(),
    _O.CANCELLED: frozenset(),
}


def check_occurrence_transition(current: OccurrenceStatus, target: OccurrenceStatus) -> None:
    if target != current and target not in OCCURRENCE_TRANSITIONS[current]:
        raise InvalidTransition("occurrence", current.value, target.value)


def due_until(as_of: date, lead_days: int) -> date:
    """The last ship date a run on ``as_of`` makes child orders for (they are made ``lead_days`` ahead)."""
    return add_days(as_of, lead_days)


def is_due(status: OccurrenceStatus, ship_date: date, until: date) -> bool:
    """An occurrence whose child order a run makes: pending, shipping on or before ``until`` (due_until)."""
    return status == OccurrenceStatus.PENDING and ship_date <= until


def first_due_run(ship_date: date, lead_days: int, today: date) -> date:
    """The first run (today or later) that finds an occurrence shipping on ``ship_date`` due."""
    return max(add_days(ship_date, -lead_days), today)


@dataclass(frozen=True)
class Occurrence:
    seq: int
    event_id: int
    item_id: str
    quantity: int
    price: Money
    ship_date: date
    #: why ship_date is what it is: a code and its parameters (see domain.servicing.explain)
    basis: str = field(default="interval", compare=False)
    basis_args: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def amount(self) -> Money:
        return self.price * self.quantity


def plan_occurrences(
    program: Program, item_prices: Mapping[str, Money], start_date: date, start_event: int
) -> list[Occurrence]:
    """Every occurrence of the program for an order starting on ``start_date``.

    Events ship in event order from ``start_event``; each is emitted ``times_to_repeat``
    times in a row; ``skip`` events are never emitted; nothing follows an ``end`` event.
    """
    dates = DateSequence(add_days(start_date, program.days_after_order))
    result: list[Occurrence] = []
    anchor = dates.current
    for event in _events_from(program, start_event):
        for _ in range(event.times_to_repeat):
            previous = dates.current
            ship_date = dates.current if not result else dates.advance(event.interval)
            if not result:
                basis, args = "start", {"start_date": start_date.isoformat(), "days": program.days_after_order}
            else:
                basis, args, anchor = _date_basis(event.interval, previous, ship_date, anchor)
            price = event.price or item_prices[event.item_id]
            result.append(
                Occurrence(
                    len(result) + 1,
                    event.event_id,
                    event.item_id,
                    event.quantity,
                    price,
                    ship_date,
                    basis,
                    {**args, "event_id": event.event_id, "program_id": program.program_id},
                )
            )
        if event.action == EventAction.END:
            break
    return result


def _date_basis(interval: Interval, previous: date, ship_date: date, anchor: date) -> tuple[str, dict[str, Any], date]:
    """The basis of a planned date after the first: the interval, clamped to a month end or not.
    Month steps keep the day of the last day-based date (``anchor``), as DateSequence does."""
    args: dict[str, Any] = {"interval": str(interval), "previous": previous.isoformat()}
    if interval.unit != "months":
        return "interval", args, ship_date
    args = {**args, "day": anchor.day, "anchor": anchor.isoformat()}
    if ship_date.day != anchor.day:
        return "month_end", args, anchor
    if previous.day != anchor.day:  # back on the anchor's day after a month-end clamp
        return "month_day", args, anchor
    return "interval", args, anchor


def _events_from(program: Program, start_event: int) -> Iterable[Event]:
    return (e for e in program.shippable_events() if e.event_id >= start_event)


def materialise(
    plan: list[Occurrence], repeat_threshold: int, bill_up_front: bool, due_until: date | None = None
) -> list[Occurrence]:
    """The occurrences written at order entry: all when billed up front, else every one already due
    (shipping by ``due_until``: the first run makes their child orders, one for all of them when the
    program consolidates) and at most ``repeat_threshold`` per event in all (extend-lines adds the rest later)."""
    if bill_up_front:
        return list(plan)
    taken: Counter[int] = Counter()
    kept = []
    for occ in plan:
        if taken[occ.event_id] < repeat_threshold or (due_until is not None and occ.ship_date <= due_until):
            taken[occ.event_id] += 1
            kept.append(occ)
    return kept


def occurrences_to_extend(
    plan: list[Occurrence], materialised: Mapping[int, OccurrenceStatus], repeat_threshold: int
) -> list[Occurrence]:
    """Top up each event so its pending occurrences number at most ``repeat_threshold``,
    in plan order, never beyond the event's repeats (i.e. the plan)."""
    pending: Counter[int] = Counter()
    for occ in plan:
        if materialised.get(occ.seq) == OccurrenceStatus.PENDING:
            pending[occ.event_id] += 1
    added = []
    for occ in plan:
        if occ.seq in materialised or pending[occ.event_id] >= repeat_threshold:
            continue
        pending[occ.event_id] += 1
        added.append(occ)
    return added


def program_total(plan: list[Occurrence], currency: str) -> Money:
    return total([occ.amount for occ in plan], currency)


def shipment_amounts(occ: Occurrence, pricing: Pricing) -> LineAmounts:
    """A planned shipment as the child order line it becomes: its goods, its shipping charge (the child's
    first line: each planned shipment is its own child) and their tax at the rate of its ship date."""
    return pricing.line(occ.item_id, occ.amount, occ.quantity, occ.ship_date)


def plan_amounts(plan: Iterable[Occurrence], pricing: Pricing, currency: str) -> LineAmounts:
    """What a continuity line's shipments cost in all: each shipment taxed and rounded as its own line."""
    return summed([shipment_amounts(o, pricing) for o in plan], currency, pricing.included)


def plan_value(plan: Iterable[Occurrence], currency: str, pricing: Pricing = NO_TAX) -> Money:
    """The total of the shipments: goods, shipping charges and (net prices) tax."""
    return plan_amounts(plan, pricing, currency).total


@dataclass(frozen=True)
class PlannedInstallment:
    seq: int
    due_date: date
    amount: Money


def plan_installments(amount: Money, schedule: PaymentSchedule, first_due: date) -> list[PlannedInstallment]:
    """Installments of ``amount`` per the schedule: even split, remainder on the last one."""
    dates = DateSequence(first_due)
    result = []
    for index, part in enumerate(amount.split(schedule.number_of_payments)):
        due = first_due if index == 0 else dates.advance(schedule.interval)
        result.append(PlannedInstallment(index + 1, due, part))
    return result
