"""Servicing a parent continuity order: the changes (skip, reschedule, substitute, pause, resume,
cancel) as adjustments of a line's schedule, how they apply, and why each ship date is what it is.

Pure: no database, no clock. A line's schedule is its stored occurrences plus the rest of the
program's plan (what extend-lines will add later); an adjustment is stored with the line, so every
job that expands the plan and the projection apply it the same way. Only pending (and paused)
occurrences ever change: created, shipped and invoiced history is never touched.

A pause from a day D holds the occurrences that ship from D on (status ``paused``: create-child-orders
takes only pending ones); the earlier ones ship as planned. Resuming on R puts the held ones back to
pending, moved by the pause's length R − D.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from continuity.domain.calendar import add_days
from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.money import Money
from continuity.domain.schedule import Occurrence, OccurrenceStatus, check_occurrence_transition, plan_value
from continuity.domain.tax import NO_TAX, Pricing

T = TypeVar("T")

S = OccurrenceStatus
HISTORY = (S.CHILD_CREATED, S.INVOICED)


class AdjustmentKind(StrEnum):
    SKIP = "skip"
    RESCHEDULE = "reschedule"  # one occurrence to a new date
    SHIFT = "shift"  # an occurrence and all later ones by a number of days
    SUBSTITUTE = "substitute"
    PAUSE = "pause"  # open while resume_on is None; holds the occurrences from ``seq`` on
    CANCEL = "cancel"


@dataclass(frozen=True)
class Adjustment:
    kind: AdjustmentKind
    seq: int
    days: int | None = None
    ship_date: date | None = None
    item_id: str | None = None
    price: Money | None = None
    pause_from: date | None = None  # a pause's first day; a cancellation's date
    resume_on: date | None = None
    adjustment_id: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Slot:
    """One occurrence of a line's schedule: stored (a row exists) or still only planned."""

    occ: Occurrence
    status: OccurrenceStatus = S.PENDING
    child_sales_id: str | None = None
    stored: bool = False

    @property
    def seq(self) -> int:
        return self.occ.seq

    @property
    def is_pending(self) -> bool:
        return self.status == S.PENDING

    @property
    def is_paused(self) -> bool:
        return self.status == S.PAUSED

    @property
    def is_open(self) -> bool:
        """Still to ship: pending, or held by a pause."""
        return self.status in (S.PENDING, S.PAUSED)


@dataclass
class LineSchedule:
    """A continuity line: its stored slots, its plan (program × quantity) and its adjustments."""

    sales_id: str
    line_no: int
    stored: dict[int, Slot]
    plan: list[Occurrence]
    adjustments: list[Adjustment] = field(default_factory=list)

    def planned(self) -> list[Slot]:
        """The plan with every adjustment applied (what extend-lines / continuity-update write)."""
        return apply_all([Slot(o) for o in self.plan], self.adjustments)

    def slots(self) -> list[Slot]:
        """Stored slots, then the planned ones not stored yet (unstored cancelled ones are gone)."""
        later = [s for s in self.planned() if s.seq not in self.stored and s.status != S.CANCELLED]
        return sorted([*self.stored.values(), *later], key=lambda s: s.seq)

    def slot(self, seq: int) -> Slot:
        for s in self.slots():
            if s.seq == seq:
                return s
        raise ValidationFailed(f"order {self.sales_id} has no occurrence {seq}", "occurrence_not_found")

    def with_adjustment(self, adj: Adjustment) -> LineSchedule:
        """The line after one more adjustment: stored pending slots change now, the plan later."""
        stored = {s.seq: s for s in apply_all(list(self.stored.values()), [adj])}
        if (
            adj.kind in (AdjustmentKind.SKIP, AdjustmentKind.SUBSTITUTE, AdjustmentKind.RESCHEDULE)
            and adj.seq not in stored
        ):
            new = apply_all([self.slot(adj.seq)], [adj])[0]  # one named occurrence is stored at once
            stored[adj.seq] = replace(new, stored=True)
        return LineSchedule(self.sales_id, self.line_no, stored, self.plan, [*self.adjustments, adj])

    def with_resume(self, resume_on: date) -> tuple[LineSchedule, Adjustment]:
        """Close the open pause: occurrences from the pause on move by its length."""
        pause = self.open_pause()
        if pause is None:
            raise RuleViolation(f"order {self.sales_id} is not paused", "order_not_paused")
        days = max((resume_on - _given(pause.pause_from, "pause date")).days, 0)
        closed = replace(pause, resume_on=resume_on, days=days)
        others = [a for a in self.adjustments if a is not pause]
        base = LineSchedule(
            self.sales_id, self.line_no, {s.seq: _unpause(s) for s in self.stored.values()}, self.plan, others
        )
        resumed = base.with_adjustment(closed)
        return resumed, closed

    def open_pause(self) -> Adjustment | None:
        return next((a for a in self.adjustments if a.kind == AdjustmentKind.PAUSE and a.resume_on is None), None)

    def is_cancelled(self) -> bool:
        return any(a.kind == AdjustmentKind.CANCEL for a in self.adjustments)


def _unpause(s: Slot) -> Slot:
    if not s.is_paused:
        return s
    args = s.occ.basis_args
    occ = replace(s.occ, basis=args.get("basis", "interval"), basis_args=args.get("args", {}))
    return _to(replace(s, occ=occ), S.PENDING)


def _to(s: Slot, status: OccurrenceStatus) -> Slot:
    check_occurrence_transition(s.status, status)
    return replace(s, status=status)


def apply_all(slots: list[Slot], adjustments: list[Adjustment]) -> list[Slot]:
    for adj in adjustments:
        slots = [_apply(adj, s) for s in slots]
    return slots


def _apply(adj: Adjustment, s: Slot) -> Slot:
    """One adjustment on one slot; anything but a pending occurrence stays as it is (a paused one can
    still be skipped or cancelled)."""
    if not s.is_open:
        return s
    kind, occ = adj.kind, s.occ
    if kind == AdjustmentKind.SKIP and s.seq == adj.seq:
        return _to(s, S.SKIPPED)
    if kind == AdjustmentKind.CANCEL and s.seq >= adj.seq:
        return _to(s, S.CANCELLED)
    if not s.is_pending:
        return s
    if kind == AdjustmentKind.SUBSTITUTE and s.seq == adj.seq:
        return replace(s, occ=replace(occ, item_id=_given(adj.item_id, "item"), price=_given(adj.price, "price")))
    if kind == AdjustmentKind.RESCHEDULE and s.seq == adj.seq:
        return _moved(s, _given(adj.ship_date, "ship date"), "rescheduled", {})
    if kind == AdjustmentKind.SHIFT and s.seq >= adj.seq:
        return _moved(s, add_days(occ.ship_date, adj.days or 0), "shifted", {"days": adj.days, "first_seq": adj.seq})
    if kind == AdjustmentKind.PAUSE and s.seq >= adj.seq:
        if adj.resume_on is None:
            held = {
                "pause_from": _given(adj.pause_from, "pause date").isoformat(),
                "basis": occ.basis,
                "args": occ.basis_args,
            }
            return _to(replace(s, occ=replace(occ, basis="pause_open", basis_args=held)), S.PAUSED)
        if not adj.days:  # resumed before the pause began: nothing moves
            return s
        return _moved(
            s,
            add_days(occ.ship_date, adj.days or 0),
            "paused",
            {
                "days": adj.days,
                "pause_from": _given(adj.pause_from, "pause date").isoformat(),
                "resume_on": adj.resume_on.isoformat(),
            },
        )
    return s


def _given(value: T | None, what: str) -> T:
    """A field the adjustment's kind needs (a skip has no item, a substitute has one)."""
    if value is None:
        raise ValidationFailed(f"the adjustment has no {what}", "adjustment_incomplete")
    return value


def _moved(s: Slot, new_date: date, basis: str, args: dict[str, Any]) -> Slot:
    args = {"from": s.occ.ship_date.isoformat(), **args}
    return replace(s, occ=replace(s.occ, ship_date=new_date, basis=basis, basis_args=args))


# -- the changes an agent asks for ----------------------------------------------------------------
def skip(line: LineSchedule, seq: int) -> Adjustment:
    _pending(line, seq, "skip", paused_too=True)
    return Adjustment(AdjustmentKind.SKIP, seq)


def reschedule(
    line: LineSchedule,
    seq: int,
    today: date,
    new_date: date | None = None,
    days: int | None = None,
    following: bool = False,
) -> Adjustment:
    """One occurrence (or it and all later ones) to ``new_date`` or by ``days``; order is kept."""
    if (new_date is None) == (days is None):
        raise ValidationFailed("give either a new date or a number of days", "reschedule_invalid")
    slot = _pending(line, seq, "reschedule")
    target = new_date or add_days(slot.occ.ship_date, days or 0)
    if target < today:
        raise ValidationFailed(f"the new date {target} is in the past", "date_in_past")
    if target == slot.occ.ship_date:
        raise ValidationFailed(f"occurrence {seq} already ships on {target}", "reschedule_invalid")
    slots = line.slots()
    before = [s for s in slots if s.seq < seq and s.status != S.CANCELLED]
    if before and target <= before[-1].occ.ship_date:
        raise ValidationFailed(
            f"the new date {target} must be after occurrence {before[-1].seq} ({before[-1].occ.ship_date})",
            "reschedule_out_of_order",
        )
    if following:
        return Adjustment(AdjustmentKind.SHIFT, seq, days=(target - slot.occ.ship_date).days)
    after = [s for s in slots if s.seq > seq and s.status != S.CANCELLED]
    if after and target >= after[0].occ.ship_date:
        raise ValidationFailed(
            f"the new date {target} must be before occurrence {after[0].seq} "
            f"({after[0].occ.ship_date}); use --following to move the later ones too",
            "reschedule_out_of_order",
        )
    return Adjustment(AdjustmentKind.RESCHEDULE, seq, ship_date=target)


def substitute(line: LineSchedule, seq: int, item_id: str, price: Money) -> Adjustment:
    slot = _pending(line, seq, "substitute")
    if slot.occ.item_id == item_id:
        raise ValidationFailed(f"occurrence {seq} already ships item {item_id}", "substitute_invalid")
    return Adjustment(AdjustmentKind.SUBSTITUTE, seq, item_id=item_id, price=price)


def pause(line: LineSchedule, pause_from: date, today: date | None = None) -> Adjustment:
    """Hold the occurrences that ship from ``pause_from`` on until the order is resumed; the pending
    ones before that day ship as planned."""
    if line.open_pause():
        raise RuleViolation(f"order {line.sales_id} is already paused", "order_paused")
    if today is not None and pause_from < today:
        raise ValidationFailed(f"the pause cannot start in the past ({pause_from})", "date_in_past")
    pending = [s for s in line.slots() if s.is_pending]
    if not pending:
        raise RuleViolation(f"order {line.sales_id} has nothing left to ship", "nothing_pending")
    held = [s for s in pending if s.occ.ship_date >= pause_from]
    if not held:
        raise RuleViolation(
            f"nothing of order {line.sales_id} ships from {pause_from} on (the last pending "
            f"occurrence ships on {pending[-1].occ.ship_date})",
            "nothing_pending",
        )
    return Adjustment(AdjustmentKind.PAUSE, held[0].seq, pause_from=pause_from)


def cancel(line: LineSchedule, cancel_from: date) -> Adjustment:
    if line.is_cancelled():
        raise RuleViolation(f"order {line.sales_id} is already cancelled", "order_cancelled")
    later = [s for s in line.slots() if s.is_open and s.occ.ship_date >= cancel_from]
    first = later[0].seq if later else max((s.seq for s in line.slots()), default=0) + 1
    return Adjustment(AdjustmentKind.CANCEL, first, pause_from=cancel_from)


def _pending(line: LineSchedule, seq: int, what: str, paused_too: bool = False) -> Slot:
    slot = line.slot(seq)
    if not (slot.is_pending or (paused_too and slot.is_paused)):
        raise RuleViolation(
            f"occurrence {seq} is {slot.status.value}; only a pending occurrence can be {what}ped"
            if what == "skip"
            else f"occurrence {seq} is {slot.status.value}; only a pending occurrence can be changed",
            "occurrence_not_pending",
        )
    return slot


# -- money after a change --------------------------------------------------------------------------
def line_value(slots: list[Slot], currency: str, pricing: Pricing = NO_TAX) -> Money:
    """What the line costs: shipped or created occurrences plus the pending and paused ones, each with its
    shipping charge and tax (domain.schedule.plan_value)."""
    return plan_value([s.occ for s in slots if s.status in HISTORY or s.is_open], currency, pricing)


def share_unpaid(line_total: Money, settled: Money, unpaid: int) -> list[Money]:
    """Unpaid installments share what is still owed (never less than nothing)."""
    owed = line_total - settled if line_total > settled else Money.zero(line_total.currency)
    return owed.split(unpaid) if unpaid else []


# -- why a date is what it is ----------------------------------------------------------------------
class Why(StrEnum):
    """Why an occurrence ships when it does (or not at all): the code an entrypoint words."""

    START = "start"  # the order's start date plus the program's days after order
    INTERVAL = "interval"  # the event's interval after the previous shipment
    MONTH_END = "month_end"  # that interval, clamped to a shorter month's last day
    MONTH_DAY = "month_day"  # that interval, back on the day of the month of the anchor
    RESCHEDULED = "rescheduled"
    SHIFTED = "shifted"  # moved with an earlier occurrence and the later ones
    PAUSED = "paused"  # moved by a pause's length when the order was resumed
    PAUSE_OPEN = "pause_open"  # held by a pause that is still open
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    PLANNED = "planned"  # a row written before its basis was known


#: the parameters each code is worded with, besides ``date`` (the ship date) and ``seq``
PARAMS: dict[Why, tuple[str, ...]] = {
    Why.START: ("start_date", "days", "program_id"),
    Why.INTERVAL: ("interval", "previous", "event_id", "program_id"),
    Why.MONTH_END: ("interval", "previous", "day"),
    Why.MONTH_DAY: ("interval", "previous", "day", "anchor"),
    Why.RESCHEDULED: ("from",),
    Why.SHIFTED: ("days", "from", "first_seq"),
    Why.PAUSED: ("days", "from", "pause_from", "resume_on"),
    Why.PAUSE_OPEN: ("pause_from",),
    Why.SKIPPED: (),
    Why.CANCELLED: (),
    Why.PLANNED: (),
}

_CODES = {w.value for w in Why}


@dataclass(frozen=True)
class Explanation:
    """Why occurrence ``seq`` ships on its date: a code and the parameters it is worded with (dates as
    ISO text, as stored); each entrypoint has its own words for it."""

    seq: int
    code: Why
    params: dict[str, Any]


def explanation(slot: Slot) -> Explanation:
    occ = slot.occ
    basis = slot.status.value if slot.status in (S.SKIPPED, S.CANCELLED) else occ.basis
    code = Why(basis) if basis in _CODES else Why.INTERVAL
    params = {**occ.basis_args, "date": occ.ship_date.isoformat(), "seq": occ.seq}
    params.pop("args", None)
    params.pop("basis", None)
    if any(name not in params for name in PARAMS[code]):  # a row written before its basis was known
        code = Why.PLANNED
    return Explanation(occ.seq, code, params)
