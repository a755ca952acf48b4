"""Order entry: create a sales order, add lines (continuity lines create their schedule)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from continuity.domain.audit import SYSTEM, Actor, order_entered
from continuity.domain.calendar import add_days_within_calendar
from continuity.domain.customer import Address
from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.money import Money
from continuity.domain.payments import Installment
from continuity.domain.program import Program
from continuity.domain.sales_order import BillingMode, ContinuityTerms, OrderStatus, SalesLine, SalesOrder
from continuity.domain.schedule import (
    Occurrence,
    PlannedInstallment,
    due_until,
    materialise,
    plan_amounts,
    plan_installments,
    plan_occurrences,
    program_total,
)
from continuity.domain.tax import Pricing
from continuity.services.ports import Clock, UnitOfWork, UowFactory
from continuity.services.pricing import pricing_for
from continuity.services.projection import load

MAX_LINE_QUANTITY = 9999


@dataclass(frozen=True)
class StartDateWindow:
    """How far a continuity start date may lie from the order date (the day the order is taken):
    settings CONTINUITY_START_DATE_MAX_DAYS_BACK / _AHEAD (bootstrap's App.start_date_window)."""

    days_back: int = 365
    days_ahead: int = 5 * 365


def check_start_date(start: date, order_date: date, window: StartDateWindow) -> None:
    """The one bound of a continuity start date, for the CLI, the API and the web alike."""
    earliest, latest = (
        add_days_within_calendar(order_date, -window.days_back),
        add_days_within_calendar(order_date, window.days_ahead),
    )
    if not earliest <= start <= latest:
        raise ValidationFailed(
            f"the start date {start.isoformat()} is out of range: it must be from {earliest.isoformat()} to "
            f"{latest.isoformat()} ({window.days_back} days before to {window.days_ahead} days after the "
            f"order date {order_date.isoformat()})",
            "start_date_out_of_range",
            {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        )


@dataclass(frozen=True)
class Entry:
    """What an agent's order entry adds to the order itself: where it ships (default: the customer's
    first delivery address) and whether to ask before a second order of the same continuity item
    (``check_duplicates``: the web and the API ask; ``confirm_duplicate`` is the agent's yes)."""

    ship_to: Address | None = None
    check_duplicates: bool = False


def create_order_with_line(
    uow_factory: UowFactory,
    clock: Clock,
    account: str,
    item_id: str,
    quantity: int = 1,
    start_date: date | None = None,
    payment_schedule_id: str | None = None,
    window: StartDateWindow = StartDateWindow(),
    actor: Actor = SYSTEM,
    entry: Entry = Entry(),
) -> str:
    """Create a sales order for the customer with one line, in one transaction; the history has who
    entered it (``actor``)."""
    with uow_factory() as uow:
        if entry.check_duplicates:
            refuse_duplicates(uow, account, [item_id])
        sales_id = _new_order(uow, clock, account, actor, entry.ship_to)
        _add_line(uow, sales_id, item_id, quantity, start_date, payment_schedule_id, window)
        uow.commit()
    return sales_id


def add_line(
    uow_factory: UowFactory,
    sales_id: str,
    item_id: str,
    quantity: int = 1,
    start_date: date | None = None,
    payment_schedule_id: str | None = None,
    window: StartDateWindow = StartDateWindow(),
) -> int:
    with uow_factory() as uow:
        line_no = _add_line(uow, sales_id, item_id, quantity, start_date, payment_schedule_id, window)
        uow.commit()
    return line_no


def still_ordered(uow: UnitOfWork, account: str, item_id: str) -> list[str]:
    """The customer's orders still going (draft, being submitted, open or on hold, not wholly cancelled)
    with an open line of this continuity item."""
    found = []
    for sales_id in uow.order_queries.still_ordered(account, item_id):
        state = load(uow, sales_id)
        lines = [ls for ls in state.lines if ls.line.item_id == item_id]
        if not lines or not all(ls.schedule.is_cancelled() for ls in lines):
            found.append(sales_id)
    return found


def duplicates(uow_factory: UowFactory, account: str, item_id: str) -> list[str]:
    with uow_factory() as uow:
        return still_ordered(uow, account, item_id) if uow.setup.product(item_id).is_parent else []


def refuse_duplicates(uow: UnitOfWork, account: str, item_ids: Iterable[str]) -> None:
    """Refuses (409 duplicate_continuity_order) a new order of a continuity item the customer still has
    an order for: the agent confirms with the caller first (``confirm_duplicate``)."""
    for item_id in dict.fromkeys(item_ids):
        if not uow.setup.product(item_id).is_parent:
            continue
        orders = still_ordered(uow, account, item_id)
        if orders:
            raise RuleViolation(
                f"customer {account} already has order {', '.join(orders)} for continuity item {item_id}; "
                "confirm with the caller that another one is wanted (confirm_duplicate)",
                "duplicate_continuity_order",
                {"orders": ", ".join(orders), "item_id": item_id},
            )


def set_ship_to(uow_factory: UowFactory, sales_id: str, address: Address) -> None:
    """Where an order being entered ships (draft or on hold; a child order ships where its parent does)."""
    address.checked("ship_to")
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        if order.status not in (OrderStatus.DRAFT, OrderStatus.ON_HOLD) or order.parent_sales_id:
            raise RuleViolation(f"order {sales_id} is {order.status.value}; its address is set", "order_not_editable")
        uow.orders.set_ship_to(sales_id, address)
        uow.commit()


def _new_order(uow: UnitOfWork, clock: Clock, account: str, actor: Actor, ship_to: Address | None = None) -> str:
    customer = uow.customers.get(account)
    ship_to = ship_to.checked("ship_to") if ship_to else customer.ship_to()
    sales_id = uow.orders.next_sales_id()
    now = clock.now()
    included = uow.setup.parameters().prices_include_tax
    order = SalesOrder(sales_id, account, clock.today(), currency="EUR", prices_include_tax=included, ship_to=ship_to)
    uow.orders.add(order, now)
    uow.audit.add(order_entered(actor, sales_id, account), now)
    return sales_id


def _add_line(
    uow: UnitOfWork,
    sales_id: str,
    item_id: str,
    quantity: int,
    start_date: date | None,
    payment_schedule_id: str | None,
    window: StartDateWindow = StartDateWindow(),
) -> int:
    if not 1 <= quantity <= MAX_LINE_QUANTITY:  # an unbounded number overflowed the integer column
        raise ValidationFailed(f"quantity must be between 1 and {MAX_LINE_QUANTITY}", "quantity_invalid")
    order = uow.orders.get(sales_id)
    if order.status != OrderStatus.DRAFT:
        raise RuleViolation(
            f"order {sales_id} is {order.status.value}; lines can only be added before submit", "order_not_editable"
        )
    product = uow.setup.product(item_id)
    if order.lines and product.price.currency != order.currency:
        raise ValidationFailed(
            f"item {item_id} is priced in {product.price.currency}, the order in {order.currency}", "currency_mismatch"
        )
    order.currency = product.price.currency
    line = SalesLine(len(order.lines) + 1, item_id, quantity, product.price)
    plan: list[Occurrence] = []
    if product.continuity_program_id is not None:  # a continuity (parent) item
        if start_date is not None:
            check_start_date(start_date, order.order_date, window)
        plan = _make_continuity_line(uow, order, line, product.continuity_program_id, start_date, payment_schedule_id)
    elif start_date or payment_schedule_id:
        raise ValidationFailed(f"item {item_id} is not a continuity item", "not_continuity_item")
    else:  # an ordinary line: its tax on the order date, no shipping charge
        pricing = pricing_for(uow, order.account, order.prices_include_tax)
        line.tax = pricing.line(item_id, line.amount, quantity, order.order_date, is_lead=False).tax
    uow.orders.add_line(sales_id, line, planned_count=len(plan))
    if line.continuity:
        _write_schedule(uow, order, line, line.continuity, plan)
    order.lines.append(line)
    uow.orders.save_header(order)
    return line.line_no


def _make_continuity_line(
    uow: UnitOfWork,
    order: SalesOrder,
    line: SalesLine,
    program_id: str,
    start_date: date | None,
    payment_schedule_id: str | None,
) -> list[Occurrence]:
    """Set the line's continuity terms and price; returns its whole schedule (times the quantity)."""
    program: Program = uow.setup.program(program_id)
    if not program.active:
        raise RuleViolation(f"continuity program {program.program_id} is inactive", "program_inactive")
    _check_offered(program, order, start_date, payment_schedule_id)
    schedule_id = payment_schedule_id or program.payment_schedule_id
    if schedule_id:
        uow.setup.payment_schedule(schedule_id)
    terms = ContinuityTerms(
        program.program_id, start_date or order.order_date, program.starting_event(), program.bill_up_front, schedule_id
    )
    line.continuity = terms
    prices = {p.item_id: p.price for p in uow.setup.products()}
    per_unit = plan_occurrences(program, prices, terms.start_date, terms.start_event)
    line.unit_price = program_total(per_unit, line.unit_price.currency)
    plan = [_times(o, line.quantity) for o in per_unit]
    price_line(line, plan, line_pricing(uow, order, line.item_id, program))
    return plan


def line_pricing(uow: UnitOfWork, order: SalesOrder, parent_item: str, program: Program) -> Pricing:
    """The pricing of a continuity line of ``order``: its parent product's (or program's) shipping charge."""
    return pricing_for(uow, order.account, order.prices_include_tax, uow.setup.product(parent_item), program)


def price_line(line: SalesLine, plan: list[Occurrence], pricing: Pricing) -> None:
    """A continuity line's shipping charge and tax: those of its planned shipments, each its own line."""
    amounts = plan_amounts(plan, pricing, line.unit_price.currency)
    line.charge, line.tax = amounts.charge, amounts.tax


def _check_offered(
    program: Program, order: SalesOrder, start_date: date | None, payment_schedule_id: str | None
) -> None:
    """A start date and a payment schedule are the agent's to choose only when the program asks for them
    (prompt_for_start_date, prompt_for_payment_schedule); otherwise the order date and the program's own."""
    if (
        payment_schedule_id
        and payment_schedule_id != program.payment_schedule_id
        and not program.prompt_for_payment_schedule
    ):
        own = program.payment_schedule_id or "none"
        raise ValidationFailed(
            f"program {program.program_id} does not offer a choice of payment schedule (its own: "
            f"{own}); leave the payment schedule out",
            "payment_schedule_not_offered",
        )
    if start_date is not None and start_date != order.order_date and not program.prompt_for_start_date:
        raise ValidationFailed(
            f"program {program.program_id} does not offer a choice of start date; it starts on "
            f"the order date {order.order_date.isoformat()}",
            "start_date_not_offered",
        )


def _installments_within_shipments(
    planned: list[PlannedInstallment], plan: list[Occurrence], schedule_id: str
) -> list[PlannedInstallment]:
    """Installments never run past the line's last shipment."""
    if not plan or not planned:
        return planned
    last_shipment = max(o.ship_date for o in plan)
    if planned[-1].due_date > last_shipment:
        raise ValidationFailed(
            f"payment schedule {schedule_id} ends on {planned[-1].due_date.isoformat()}, after the "
            f"last shipment on {last_shipment.isoformat()}; choose a shorter payment schedule",
            "installments_after_last_shipment",
        )
    return planned


def _write_schedule(
    uow: UnitOfWork,
    order: SalesOrder,
    line: SalesLine,
    terms: ContinuityTerms,
    plan: list[Occurrence],
) -> None:
    params = uow.setup.parameters()
    until = due_until(order.order_date, params.delivery_lead_days)  # what the next run finds due
    uow.orders.add_occurrences(
        order.sales_id, line.line_no, materialise(plan, params.repeat_threshold, terms.bill_up_front, until)
    )
    mode = terms.billing_mode
    if mode == BillingMode.INSTALLMENTS and terms.payment_schedule_id is not None:
        schedule = uow.setup.payment_schedule(terms.payment_schedule_id)
        planned = plan_installments(order.line_total(line), schedule, order.order_date)
        uow.orders.add_installments(
            order.sales_id,
            line.line_no,
            line.item_id,
            _installments_within_shipments(planned, plan, schedule.payment_schedule_id),
        )
    elif mode == BillingMode.PAY_ALL_NOW:
        uow.orders.add_installments(
            order.sales_id,
            line.line_no,
            line.item_id,
            [PlannedInstallment(1, order.order_date, order.line_total(line))],
        )


def _times(occ: Occurrence, quantity: int) -> Occurrence:
    return replace(occ, quantity=occ.quantity * quantity)


def amount_due_now(order: SalesOrder, installments: Iterable[Installment], on: date) -> Money:
    """What must be paid at submit: ordinary lines plus continuity installments due by ``on``."""
    due = Money.zero(order.currency)
    for line in order.lines:
        if line.continuity is None and order.parent_sales_id is None:  # a child is charged by installment
            due = due + order.line_total(line)
    for inst in installments:
        if inst.due_date <= on:
            due = due + inst.amount
    return due
