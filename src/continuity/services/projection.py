"""The next shipments and charges of a parent continuity order, as the batch jobs will make them.

Shipments: the line's stored occurrences plus the rest of its plan with every servicing adjustment
applied (what extend-lines adds later); occurrences held by a pause show as paused. Charges: a
pay-per-shipment line is charged when its child order is created (ship date − delivery_lead_days, or
the next run when that is past) — with the program's consolidate_past_orders, the occurrences of a
line that one run finds due share one child order and so one charge, as create-child-orders does;
installments on their due date (the next run when overdue); unpaid charges of child orders already
created.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from itertools import groupby

from typing_extensions import TypedDict  # not typing's: the API validates ProjectedShipment (pydantic, Python < 3.12)

from continuity.domain.card import SavedCard, saved_cards
from continuity.domain.errors import NotFound
from continuity.domain.money import Money
from continuity.domain.payments import UNSETTLED, Installment
from continuity.domain.program import ContinuityParameters
from continuity.domain.sales_order import BillingMode, ContinuityTerms, OrderStatus, SalesLine, SalesOrder
from continuity.domain.schedule import Occurrence, OccurrenceStatus, first_due_run, plan_amounts, plan_occurrences
from continuity.domain.servicing import HISTORY, LineSchedule, Slot, line_value
from continuity.domain.tax import NO_TAX, LineAmounts, Pricing, summed
from continuity.services.ports import UnitOfWork, UowFactory
from continuity.services.pricing import pricing_for

DEFAULT_COUNT = 6


class ChargeFor(StrEnum):
    """What a projected charge pays for."""

    CHILD_ORDER = "child_order"  # an unpaid charge of a child order already created
    INSTALLMENT = "installment"  # one of the line's installments
    SHIPMENT = "shipment"  # pay per shipment: the child order of one occurrence
    SHIPMENTS = "shipments"  # pay per shipment, consolidated: several occurrences in one child order


@dataclass(frozen=True)
class ChargeSubject:
    """What a charge is for, as a code and its parameters; each entrypoint has its own words for it.
    ``seqs``: the occurrences (shipment, shipments) or the installment; ``of``: how many installments the
    line has; ``item_ids``: the items of the occurrences; ``sales_id``: the child order."""

    code: ChargeFor
    seqs: tuple[int, ...] = ()
    item_ids: tuple[str, ...] = ()
    of: int = 0
    sales_id: str = ""

    def params(self) -> dict[str, int | str | list[int] | list[str]]:
        """The parameters as JSON values."""
        if self.code == ChargeFor.CHILD_ORDER:
            return {"sales_id": self.sales_id}
        if self.code == ChargeFor.INSTALLMENT:
            return {"seq": self.seqs[0], "of": self.of}
        if self.code == ChargeFor.SHIPMENT:
            return {"seq": self.seqs[0], "item_id": self.item_ids[0]}
        return {"seqs": list(self.seqs), "item_ids": list(self.item_ids)}

    def sort_key(self) -> tuple[int, tuple[int, ...], str]:
        return list(ChargeFor).index(self.code), self.seqs, self.sales_id


class ProjectedLine(TypedDict):
    line_no: int
    status: str  # open, paused (an open pause, also before its first day), closed, …
    billing_mode: str
    paused_from: str | None  # ISO date: the open pause's first day


class ProjectedShipment(TypedDict):
    line_no: int
    seq: int
    ship_date: str  # ISO date
    item_id: str
    quantity: int
    price: str
    amount: str
    status: str
    child_sales_id: str | None


class ProjectedCharge(TypedDict):
    due_date: str  # ISO date
    amount: str
    currency: str
    subject: ChargeSubject
    line_no: int  # 0: a child order's charge


class Projection(TypedDict):
    """The next shipments and charges of a parent continuity order (JSON-ready but for each charge's
    ``subject``, which the entrypoint words)."""

    sales_id: str
    status: str
    currency: str
    as_of: str  # ISO date
    lines: list[ProjectedLine]
    shipments: list[ProjectedShipment]
    charges: list[ProjectedCharge]


@dataclass
class LineState:
    line: SalesLine
    schedule: LineSchedule
    status: str
    card_token: str | None
    planned_count: int
    consolidate: bool = False  # the program's consolidate_past_orders
    pricing: Pricing = NO_TAX  # its tax and shipping charge (services/pricing.py)

    @property
    def terms(self) -> ContinuityTerms:
        """The line's continuity terms (a LineState is only made for a continuity line)."""
        if self.line.continuity is None:
            raise NotFound(f"line {self.line.line_no} is not a continuity line", "continuity_line_not_found")
        return self.line.continuity

    @property
    def mode(self) -> BillingMode:
        return self.terms.billing_mode


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


def load(uow: UnitOfWork, sales_id: str) -> OrderState:
    """Everything the projection and the servicing rules need, read in the caller's transaction."""
    order = uow.orders.get(sales_id)
    if not order.is_continuity_parent:
        raise NotFound(f"{sales_id} is not a continuity (parent) order", "continuity_order_not_found")
    prices = {p.item_id: p.price for p in uow.setup.products()}
    lines = []
    for line in order.lines:
        terms = line.continuity
        if terms is None:
            continue
        row = uow.servicing.line(sales_id, line.line_no)
        program = uow.setup.program(terms.program_id)
        plan = [
            replace(o, quantity=o.quantity * line.quantity)
            for o in plan_occurrences(program, prices, terms.start_date, terms.start_event)
        ]
        schedule = LineSchedule(
            sales_id,
            line.line_no,
            uow.servicing.stored_slots(sales_id, line.line_no),
            plan,
            uow.servicing.adjustments(sales_id, line.line_no),
        )
        pricing = pricing_for(uow, order.account, order.prices_include_tax, uow.setup.product(line.item_id), program)
        lines.append(
            LineState(
                line, schedule, row.status, row.card_token, row.planned_count, program.consolidate_past_orders, pricing
            )
        )
    own = [i for i in uow.orders.installments(sales_id)]
    return OrderState(
        order,
        lines,
        own,
        uow.servicing.child_charges(sales_id),
        uow.setup.parameters(),
        [ln.terms.program_id for ln in lines],
    )


def line_values(state: OrderState) -> dict[int, Money]:
    """What each continuity line will be charged in all, with every servicing change and price update
    applied (skipped and cancelled occurrences cost nothing)."""
    return {ls.line.line_no: line_value(ls.schedule.slots(), state.order.currency, ls.pricing) for ls in state.lines}


def line_amounts(state: OrderState) -> dict[int, LineAmounts]:
    """Each continuity line's goods, shipping charges and tax, which line_values totals."""
    return {
        ls.line.line_no: plan_amounts(
            [s.occ for s in ls.schedule.slots() if s.status in HISTORY or s.is_open], ls.pricing, state.order.currency
        )
        for ls in state.lines
    }


def standing(state: OrderState) -> str:
    """What an open or held continuity order stands as for the agent: ``cancelled`` once every continuity
    line is cancelled (close-orders closes it when its last shipment is done), ``paused`` while a line is
    paused; otherwise its status."""
    status = state.order.status
    if status in (OrderStatus.OPEN, OrderStatus.ON_HOLD) and state.lines:
        if all(ls.schedule.is_cancelled() for ls in state.lines):
            return "cancelled"
        if any(ls.schedule.open_pause() is not None for ls in state.lines):
            return "paused"
    return status.value


@dataclass(frozen=True)
class NextChargeCard:
    """The card the order's next charge will use, marked as of that charge's day: expired by then, or its
    last charge declined."""

    due_date: date
    card: SavedCard


def next_charge_card(uow_factory: UowFactory, today: date, sales_id: str) -> NextChargeCard | None:
    """The card of the order's next projected charge (its line's card; a child order's charge: the first
    line's), or None when nothing more is charged or the order is not a continuity order."""
    with uow_factory() as uow:
        try:
            state = load(uow, sales_id)
        except NotFound:
            return None
        charges = sorted(_charges(state, today), key=lambda c: (c["due_date"], c["subject"].sort_key()))
        tokens = [(ls.line.line_no, ls.card_token) for ls in state.lines if ls.card_token]
        if not charges or not tokens:
            return None
        token = next((t for n, t in tokens if n == charges[0]["line_no"]), tokens[0][1])
        card = uow.customers.card(token)
        last_charges = uow.customers.last_charges(state.order.account)
    due = date.fromisoformat(charges[0]["due_date"])
    return NextChargeCard(due, saved_cards([card], last_charges, due)[0])


def order_projection(uow_factory: UowFactory, today: date, sales_id: str, count: int = DEFAULT_COUNT) -> Projection:
    with uow_factory() as uow:
        state = load(uow, sales_id)
    return project(state, today, count)


def project(state: OrderState, today: date, count: int = DEFAULT_COUNT) -> Projection:
    order = state.order
    shipments = sorted(
        (_shipment(ls, s) for ls in state.lines for s in ls.schedule.slots() if _upcoming(s, today)),
        key=lambda x: (x["ship_date"], x["line_no"], x["seq"]),
    )
    charges = sorted(_charges(state, today), key=lambda c: (c["due_date"], c["subject"].sort_key()))
    return {
        "sales_id": order.sales_id,
        "status": order.status.value,
        "currency": order.currency,
        "as_of": today.isoformat(),
        "lines": [_line_view(ls) for ls in state.lines],
        "shipments": shipments[:count],
        "charges": charges[:count],
    }


def _line_view(ls: LineState) -> ProjectedLine:
    """A line with an open pause shows as paused (also before the pause's first day, when the earlier
    occurrences still ship): only a resume, a skip, a card change or a cancel apply to it."""
    pause = ls.schedule.open_pause()
    status = "paused" if pause is not None and ls.status == "open" else ls.status
    return {
        "line_no": ls.line.line_no,
        "status": status,
        "billing_mode": ls.mode.value,
        "paused_from": pause.pause_from.isoformat() if pause is not None and pause.pause_from else None,
    }


def _upcoming(s: Slot, today: date) -> bool:
    if s.status in (OccurrenceStatus.PENDING, OccurrenceStatus.PAUSED, OccurrenceStatus.SKIPPED):
        return True
    return s.status == OccurrenceStatus.CHILD_CREATED and s.occ.ship_date >= today


def _shipment(ls: LineState, s: Slot) -> ProjectedShipment:
    o = s.occ
    return {
        "line_no": ls.line.line_no,
        "seq": o.seq,
        "ship_date": o.ship_date.isoformat(),
        "item_id": o.item_id,
        "quantity": o.quantity,
        "price": str(o.price.amount),
        "amount": str(o.amount.amount),
        "status": s.status.value,
        "child_sales_id": s.child_sales_id,
    }


def _charges(state: OrderState, today: date) -> list[ProjectedCharge]:
    result: list[ProjectedCharge] = []
    lead = state.params.delivery_lead_days
    for ls in state.lines:
        if ls.mode == BillingMode.PAY_ALL_LATER:
            result += _shipment_charges(ls, lead, today)
    for inst in state.child_charges:
        subject = ChargeSubject(ChargeFor.CHILD_ORDER, sales_id=inst.sales_id)
        result.append(_charge(max(inst.due_date, today), inst.amount, subject, 0))
    per_line: dict[int, int] = {}
    for inst in state.installments:
        per_line[inst.line_no] = per_line.get(inst.line_no, 0) + 1
    for inst in state.installments:
        if inst.status in UNSETTLED:
            result.append(
                _charge(
                    max(inst.due_date, today),
                    inst.amount,
                    ChargeSubject(ChargeFor.INSTALLMENT, (inst.seq,), of=per_line[inst.line_no]),
                    inst.line_no,
                )
            )
    return result


def _shipment_charges(ls: LineState, lead: int, today: date) -> list[ProjectedCharge]:
    """One charge per child order: a pending occurrence's child is created on ship date − lead days (the
    next run when that is past); with consolidate_past_orders, one child takes every occurrence of the
    line due on that run (create-child-orders: pending, ship date <= as_of + lead)."""
    due = [(first_due_run(s.occ.ship_date, lead, today), s) for s in ls.schedule.slots() if s.is_pending]
    if ls.consolidate:
        children = [
            [s for _, s in group]
            for _, group in groupby(sorted(due, key=lambda x: (x[0], x[1].seq)), key=lambda x: x[0])
        ]
    else:
        children = [[s] for _, s in due]
    dues = {s.seq: d for d, s in due}
    result = []
    for child in children:
        amount = child_amounts([s.occ for s in child], ls.pricing).total
        what = ChargeSubject(
            ChargeFor.SHIPMENT if len(child) == 1 else ChargeFor.SHIPMENTS,
            tuple(s.seq for s in child),
            tuple(s.occ.item_id for s in child),
        )
        result.append(_charge(dues[child[0].seq], amount, what, ls.line.line_no))
    return result


def child_amounts(occurrences: list[Occurrence], pricing: Pricing) -> LineAmounts:
    """A child order of these occurrences (in seq order): one line each, the shipping charge per order on
    the first; each line taxed at the rate of its ship date (as create-child-orders prices it)."""
    currency = occurrences[0].amount.currency
    lines = [pricing.line(o.item_id, o.amount, o.quantity, o.ship_date, n == 0) for n, o in enumerate(occurrences)]
    return summed(lines, currency, pricing.included)


def _charge(due: date, amount: Money, what: ChargeSubject, line_no: int) -> ProjectedCharge:
    return {
        "due_date": due.isoformat(),
        "amount": str(amount.amount),
        "currency": amount.currency,
        "subject": what,
        "line_no": line_no,
    }
