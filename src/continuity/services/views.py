"""Read side: plain JSON-ready dicts for the CLI, API and UI (keys are the concept names), typed as
TypedDicts (the shapes the API's response models and the templates read)."""

from __future__ import annotations

from typing import TypedDict, overload

from continuity.domain.card import Card, SavedCard
from continuity.domain.customer import Address, Customer
from continuity.domain.dunning import DeclineEpisode, DunningPolicy
from continuity.domain.money import Money, total
from continuity.domain.payments import Installment, PaymentStatus
from continuity.domain.program import PaymentSchedule, Product, Program
from continuity.domain.sales_order import SalesLine, SalesOrder
from continuity.domain.tax import LineAmounts, summed
from continuity.services.order_entry import amount_due_now
from continuity.services.payment_entry import EDITABLE
from continuity.services.ports import UnitOfWork, UowFactory
from continuity.services.projection import line_amounts, load, standing


class AddressView(TypedDict):
    purpose: str
    street: str
    city: str
    postal_code: str
    country: str


class CustomerView(TypedDict):
    account: str
    name: str
    phone: str
    email: str
    language: str
    addresses: list[AddressView]


class CardView(TypedDict):
    token: str
    brand: str
    last4: str
    expiry: str  # MM/YY


class ReplacedCardView(TypedDict):
    token: str
    expiry: str  # MM/YY


class SavedCardView(CardView):
    """One physical card: its newest entry, marked, with the older entries it replaced."""

    expired: bool
    declined: bool
    replaced: list[ReplacedCardView]
    default: bool


class ProductView(TypedDict):
    item_id: str
    name: str
    price: str
    currency: str
    continuity_program_id: str | None


class ScheduleView(TypedDict):
    payment_schedule_id: str
    description: str
    number_of_payments: int
    interval: str
    allocation: str


class EventView(TypedDict):
    event_id: int
    item_id: str
    quantity: int
    price: str | None
    currency: str | None
    times_to_repeat: int
    interval: str
    start_date: str | None
    action: str


class ProgramView(TypedDict):
    program_id: str
    description: str
    order_start: str
    bill_up_front: bool
    payment_schedule_id: str | None
    prompt_for_start_date: bool
    prompt_for_payment_schedule: bool
    days_after_order: int
    consolidate_past_orders: bool
    active: bool
    current_event: int | None
    return_action: str  # continue, replace or cancel_remaining: what a return does to the schedule
    upcoming_charge_notice_days: int | None  # None: the parameters'
    events: list[EventView]


class ScheduledView(TypedDict):
    """A stored occurrence of a continuity line."""

    seq: int
    event_id: int
    item_id: str
    quantity: int
    price: str
    ship_date: str
    status: str
    child_sales_id: str | None


class ContinuityView(TypedDict):
    program_id: str
    start_date: str
    start_event: int
    bill_up_front: bool
    payment_schedule_id: str | None
    billing_mode: str
    schedule: list[ScheduledView]


class LineView(TypedDict):
    line_no: int
    item_id: str
    quantity: int
    unit_price: str
    amount: str  # the goods (a continuity line: of every shipment it will make)
    charge: str  # shipping charges
    tax: str
    total: str  # goods and charges, plus the tax when prices are net
    status: str
    continuity: ContinuityView | None


class InstallmentView(TypedDict):
    line_no: int
    seq: int
    due_date: str
    amount: str
    status: str
    decline_code: str | None  # a declined installment's last decline (domain.dunning.DeclineCode)
    decline_class: str | None  # hard (never retried) or soft
    next_retry: str | None  # the day the nightly run tries it again on its card; None: never


class PaymentView(TypedDict):
    payment_id: int
    method: str
    card: str
    amount: str
    status: str
    reason: str


class ShipToView(TypedDict):
    street: str
    city: str
    postal_code: str
    country: str


def ship_to_view(a: Address | None) -> ShipToView | None:
    if a is None:
        return None
    return {"street": a.street, "city": a.city, "postal_code": a.postal_code, "country": a.country}


class OrderView(TypedDict):
    sales_id: str
    account: str
    name: str
    order_date: str
    status: str
    standing: str  # paused or cancelled while a continuity order's lines are; else its status
    hold_reason: str  # the hold's note
    hold_code: str  # while on hold (domain/holds.py), else ""
    currency: str
    parent_sales_id: str | None
    is_continuity_parent: bool
    amount_due_now: str
    prices_include_tax: bool
    goods: str
    charges: str
    tax: str  # the sum of the lines' tax, each rounded half-up per line
    total: str
    ship_to: ShipToView | None  # a child order ships where its parent does
    lines: list[LineView]
    installments: list[InstallmentView]
    payments: list[PaymentView]


@overload
def money(value: Money) -> str: ...


@overload
def money(value: Money | None) -> str | None: ...


def money(value: Money | None) -> str | None:
    return None if value is None else str(value.amount)


def customer_view(c: Customer) -> CustomerView:
    return {
        "account": c.account,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "language": c.language,
        "addresses": [
            AddressView(purpose=a.purpose, street=a.street, city=a.city, postal_code=a.postal_code, country=a.country)
            for a in c.addresses
        ],
    }


def card_view(card: Card) -> CardView:
    return {"token": card.token, "brand": card.brand, "last4": card.last4, "expiry": str(card.expiry)}


def saved_card_view(saved: SavedCard) -> SavedCardView:
    c = saved.card
    return {
        "token": c.token,
        "brand": c.brand,
        "last4": c.last4,
        "expiry": str(c.expiry),
        "expired": saved.expired,
        "declined": saved.declined,
        "replaced": [{"token": r.token, "expiry": str(r.expiry)} for r in saved.replaced],
        "default": saved.default,
    }


def product_view(p: Product) -> ProductView:
    return {
        "item_id": p.item_id,
        "name": p.name,
        "price": money(p.price),
        "currency": p.price.currency,
        "continuity_program_id": p.continuity_program_id,
    }


def schedule_view(s: PaymentSchedule) -> ScheduleView:
    return {
        "payment_schedule_id": s.payment_schedule_id,
        "description": s.description,
        "number_of_payments": s.number_of_payments,
        "interval": str(s.interval),
        "allocation": s.allocation.value,
    }


def program_view(p: Program) -> ProgramView:
    return {
        "program_id": p.program_id,
        "description": p.description,
        "order_start": p.order_start.value,
        "bill_up_front": p.bill_up_front,
        "payment_schedule_id": p.payment_schedule_id,
        "prompt_for_start_date": p.prompt_for_start_date,
        "prompt_for_payment_schedule": p.prompt_for_payment_schedule,
        "days_after_order": p.days_after_order,
        "consolidate_past_orders": p.consolidate_past_orders,
        "active": p.active,
        "current_event": p.current_event,
        "return_action": p.return_action.value,
        "upcoming_charge_notice_days": p.upcoming_charge_notice_days,
        "events": [
            {
                "event_id": e.event_id,
                "item_id": e.item_id,
                "quantity": e.quantity,
                "price": money(e.price),
                "currency": e.price.currency if e.price else None,
                "times_to_repeat": e.times_to_repeat,
                "interval": str(e.interval),
                "start_date": e.start_date.isoformat() if e.start_date else None,
                "action": e.action.value,
            }
            for e in p.sorted_events()
        ],
    }


#: installments charged and not settled: due (they were tried) and unpaid
_UNSETTLED = (PaymentStatus.DECLINED, PaymentStatus.UNKNOWN)


def _due_and_unpaid(order: SalesOrder, installments: list[Installment]) -> Money:
    """Before submit, what the payment must cover; after it, what is due and neither paid nor held by an
    authorization: the installments whose charge was declined or is unresolved, and any due at order date
    not yet charged. A child order is never entered (its own installments are its charges, taken by the
    jobs): on hold or not, only its unpaid charges are due, so a captured one is not due again."""
    if order.status in EDITABLE and order.parent_sales_id is None:
        return amount_due_now(order, installments, order.order_date)
    return total(
        [
            i.amount
            for i in installments
            if i.status in _UNSETTLED or (i.status == PaymentStatus.NOT_SUBMITTED and i.due_date <= order.order_date)
        ],
        order.currency,
    )


def _installment_view(i: Installment, episode: DeclineEpisode | None, policy: DunningPolicy) -> InstallmentView:
    retry = episode.next_retry(policy) if episode else None
    return {
        "line_no": i.line_no,
        "seq": i.seq,
        "due_date": i.due_date.isoformat(),
        "amount": money(i.amount),
        "status": i.status.value,
        "decline_code": episode.code if episode else None,
        "decline_class": episode.decline_class.value if episode else None,
        "next_retry": retry.isoformat() if retry else None,
    }


def order_view(uow_factory: UowFactory, sales_id: str) -> OrderView:
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        customer = uow.customers.get(order.account)
        installments = uow.orders.installments(sales_id)
        episodes = uow.orders.decline_episodes(sales_id)
        policy = uow.setup.parameters().dunning()
        state = load(uow, sales_id) if order.is_continuity_parent else None
        values = line_amounts(state) if state else {}
        amounts = [values.get(line.line_no) or line.amounts(order.prices_include_tax) for line in order.lines]
        lines = [_line_view(uow, sales_id, line, a) for line, a in zip(order.lines, amounts)]
        totals = summed(amounts, order.currency, order.prices_include_tax)
        payments = uow.orders.payments(sales_id)
        cards = {c.token: c for c in uow.customers.cards(order.account)}
        ship_to = order.ship_to or (uow.orders.get(order.parent_sales_id).ship_to if order.parent_sales_id else None)
    return {
        "sales_id": order.sales_id,
        "account": order.account,
        "name": customer.name,
        "order_date": order.order_date.isoformat(),
        "status": order.status.value,
        "standing": standing(state) if state else order.status.value,
        "hold_reason": order.hold_reason,
        "hold_code": order.hold_code,
        "currency": order.currency,
        "parent_sales_id": order.parent_sales_id,
        "is_continuity_parent": order.is_continuity_parent,
        "amount_due_now": money(_due_and_unpaid(order, installments)),
        "prices_include_tax": order.prices_include_tax,
        "goods": money(totals.goods),
        "charges": money(totals.charge),
        "tax": money(totals.tax),
        "total": money(totals.total),
        "ship_to": ship_to_view(ship_to),
        "lines": lines,
        "installments": [_installment_view(i, episodes.get((i.line_no, i.seq)), policy) for i in installments],
        "payments": [
            {
                "payment_id": p.payment_id,
                "method": p.method,
                "card": cards[p.card_token].masked,
                "amount": money(p.amount),
                "status": p.status.value,
                "reason": p.reason,
            }
            for p in payments
        ],
    }


def _line_view(uow: UnitOfWork, sales_id: str, line: SalesLine, value: LineAmounts) -> LineView:
    """A continuity line's amounts are what it will be charged in all (``value``), its unit price what it was
    sold at."""
    view: LineView = {
        "line_no": line.line_no,
        "item_id": line.item_id,
        "quantity": line.quantity,
        "unit_price": money(line.unit_price),
        "amount": money(value.goods),
        "charge": money(value.charge),
        "tax": money(value.tax),
        "total": money(value.total),
        "status": line.status.value,
        "continuity": None,
    }
    if line.continuity:
        t = line.continuity
        view["continuity"] = {
            "program_id": t.program_id,
            "start_date": t.start_date.isoformat(),
            "start_event": t.start_event,
            "bill_up_front": t.bill_up_front,
            "payment_schedule_id": t.payment_schedule_id,
            "billing_mode": t.billing_mode.value,
            "schedule": [
                ScheduledView(
                    seq=occ.seq,
                    event_id=occ.event_id,
                    item_id=occ.item_id,
                    quantity=occ.quantity,
                    price=money(occ.price),
                    ship_date=occ.ship_date.isoformat(),
                    status=occ.status,
                    child_sales_id=occ.child_sales_id,
                )
                for occ in uow.orders.schedule(sales_id, line.line_no)
            ],
        }
    return view
