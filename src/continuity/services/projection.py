"""The next shipments and charges of a parent continuity order, as the batch jobs will make them.

Shipments: the line's stored occurrences plus the rest of its plan with every servicing adjustment
applied (what extend-lines adds later). Charges: a pay-per-shipment line is charged when its child
order is created (ship date − delivery_lead_days, or the next run when that is past); installments
on their due date (the next run when overdue); unpaid charges of child orders already created.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from continuity.domain.calendar import add_days
from continuity.domain.errors import NotFound
from continuity.domain.money import Money
from continuity.domain.payments import Installment, PaymentStatus
from continuity.domain.program import ContinuityParameters
from continuity.domain.sales_order import BillingMode, SalesLine, SalesOrder
from continuity.domain.schedule import OccurrenceStatus, plan_occurrences
from continuity.domain.servicing import LineSchedule, Slot
from continuity.services.order_entry import UowFactory

DEFAULT_COUNT = 6
UNSETTLED = (PaymentStatus.NOT_SUBMITTED, PaymentStatus.AUTHORIZED, PaymentStatus.DECLINED, PaymentStatus.UNKNOWN)


@dataclass
class LineState:
    line: SalesLine
    schedule: LineSchedule
    status: str
    card_token: str | None
    planned_count: int

    @property
    def mode(self) -> BillingMode:
        return self.line.continuity.billing_mode  # type: ignore[union-attr]


@dataclass
class OrderState:
    order: SalesOrder
    lines: list[LineState]
    installments: list[Installment]  # the parent's own
    child_charges: list[Installment]
    params: ContinuityParameters
    program_ids: list[str] = field(default_factory=list)

    def line(self, line_no: int | None) -> LineState:
        for state in self.lines:
            if line_no is None or state.line.line_no == line_no:
                return state
        raise NotFound(f"order {self.order.sales_id} has no continuity line {line_no}", "continuity_line_not_found")

    def with_line(self, new: LineState, installments: list[Installment] | None = None) -> OrderState:
        lines = [new if s.line.line_no == new.line.line_no else s for s in self.lines]
        return replace(self, lines=lines, installments=self.installments if installments is None else installments)


def load(uow, sales_id: str) -> OrderState:  # type: ignore[no-untyped-def]
    """Everything the projection and the servicing rules need, read in the caller's transaction."""
    order = uow.orders.get(sales_id)
    if not order.is_continuity_parent:
        raise NotFound(f"{sales_id} is not a continuity (parent) order", "continuity_order_not_found")
    prices = {p.item_id: p.price for p in uow.setup.products()}
    lines = []
    for line in (ln for ln in order.lines if ln.continuity):
        row = uow.servicing.line(sales_id, line.line_no)
        program = uow.setup.program(line.continuity.program_id)
        plan = [replace(o, quantity=o.quantity * line.quantity)
                for o in plan_occurrences(program, prices, line.continuity.start_date, line.continuity.start_event)]
        schedule = LineSchedule(sales_id, line.line_no, uow.servicing.stored_slots(sales_id, line.line_no), plan,
                                uow.servicing.adjustments(sales_id, line.line_no), row["status"] == "paused")
        lines.append(LineState(line, schedule, row["status"], row["card_token"], row["planned_count"]))
    own = [i for i in uow.orders.installments(sales_id)]
    return OrderState(order, lines, own, uow.servicing.child_charges(sales_id), uow.setup.parameters(),
                      [ln.line.continuity.program_id for ln in lines])


def order_projection(uow_factory: UowFactory, today: date, sales_id: str, count: int = DEFAULT_COUNT) -> dict:
    with uow_factory() as uow:
        state = load(uow, sales_id)
    return project(state, today, count)


def project(state: OrderState, today: date, count: int = DEFAULT_COUNT) -> dict:
    order = state.order
    shipments = sorted((_shipment(ls, s) for ls in state.lines for s in ls.schedule.slots() if _upcoming(s, today)),
                       key=lambda x: (x["ship_date"], x["line_no"], x["seq"]))
    charges = sorted(_charges(state, today), key=lambda c: (c["due_date"], c["for"]))
    return {"sales_id": order.sales_id, "status": order.status.value, "currency": order.currency,
            "as_of": today.isoformat(),
            "lines": [{"line_no": ls.line.line_no, "status": ls.status, "billing_mode": ls.mode.value}
                      for ls in state.lines],
            "shipments": shipments[:count], "charges": charges[:count]}


def _upcoming(s: Slot, today: date) -> bool:
    if s.status in (OccurrenceStatus.PENDING, OccurrenceStatus.SKIPPED):
        return True
    return s.status == OccurrenceStatus.CHILD_CREATED and s.occ.ship_date >= today


def _shipment(ls: LineState, s: Slot) -> dict:
    o = s.occ
    return {"line_no": ls.line.line_no, "seq": o.seq, "ship_date": o.ship_date.isoformat(), "item_id": o.item_id,
            "quantity": o.quantity, "price": str(o.price.amount), "amount": str(o.amount.amount),
            "status": "paused" if s.is_paused else s.status.value, "child_sales_id": s.child_sales_id}


def _charges(state: OrderState, today: date) -> list[dict]:
    result = []
    lead = state.params.delivery_lead_days
    for ls in state.lines:
        if ls.mode != BillingMode.PAY_ALL_LATER:
            continue
        for s in ls.schedule.slots():
            if s.is_pending and not s.is_paused:
                due = max(add_days(s.occ.ship_date, -lead), today)
                result.append(_charge(due, s.occ.amount, f"shipment {s.seq} ({s.occ.item_id})", ls.line.line_no))
    for inst in state.child_charges:
        result.append(_charge(max(inst.due_date, today), inst.amount, f"child order {inst.sales_id}", 0))
    per_line: dict[int, int] = {}
    for inst in state.installments:
        per_line[inst.line_no] = per_line.get(inst.line_no, 0) + 1
    for inst in state.installments:
        if inst.status in UNSETTLED:
            result.append(_charge(max(inst.due_date, today), inst.amount,
                                  f"installment {inst.seq} of {per_line[inst.line_no]}", inst.line_no))
    return result


def _charge(due: date, amount: Money, what: str, line_no: int) -> dict:
    return {"due_date": due.isoformat(), "amount": str(amount.amount), "currency": amount.currency,
            "for": what, "line_no": line_no}
