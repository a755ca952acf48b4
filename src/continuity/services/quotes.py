"""The agent's preview of an order before it is entered: what it will cost, shipping and tax included.

The same pricing as order entry (services/order_entry.py) and create-child-orders (each shipment its own
line, taxed at the rate of its ship date): a quote's total is the order's total once it is entered.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from typing_extensions import TypedDict

from continuity.domain.errors import RuleViolation
from continuity.domain.money import Money
from continuity.domain.sales_order import BillingMode
from continuity.domain.schedule import plan_amounts, plan_installments, plan_occurrences, shipment_amounts
from continuity.domain.tax import LineAmounts
from continuity.services.ports import UowFactory
from continuity.services.pricing import pricing_for


class QuoteShipment(TypedDict):
    seq: int
    ship_date: str
    item_id: str
    quantity: int
    amount: str  # the goods
    charge: str
    tax: str
    total: str


class QuoteInstallment(TypedDict):
    seq: int
    due_date: str
    amount: str


class Quote(TypedDict):
    account: str
    item_id: str
    quantity: int
    currency: str
    prices_include_tax: bool
    billing_mode: str | None  # None: an ordinary item
    goods: str
    charges: str
    tax: str
    total: str
    due_now: str
    shipments: list[QuoteShipment]
    installments: list[QuoteInstallment]


def quote(
    uow_factory: UowFactory,
    today: date,
    account: str,
    item_id: str,
    quantity: int = 1,
    start_date: date | None = None,
    payment_schedule_id: str | None = None,
) -> Quote:
    """What an order for ``quantity`` of ``item_id`` entered today would cost (nothing written)."""
    with uow_factory() as uow:
        included = uow.setup.parameters().prices_include_tax
        product = uow.setup.product(item_id)
        currency = product.price.currency
        if product.continuity_program_id is None:
            pricing = pricing_for(uow, account, included)
            line = pricing.line(item_id, product.price * quantity, quantity, today, is_lead=False)
            return _quote(account, item_id, quantity, included, None, line.goods, line.charge, line.tax, line.total)
        program = uow.setup.program(product.continuity_program_id)
        if not program.active:
            raise RuleViolation(f"continuity program {program.program_id} is inactive", "program_inactive")
        pricing = pricing_for(uow, account, included, product, program)
        prices = {p.item_id: p.price for p in uow.setup.products()}
        schedule_id = payment_schedule_id or program.payment_schedule_id
        schedule = uow.setup.payment_schedule(schedule_id) if schedule_id else None
    start = start_date or today
    plan = [
        replace(o, quantity=o.quantity * quantity)
        for o in plan_occurrences(program, prices, start, program.starting_event())
    ]
    amounts = plan_amounts(plan, pricing, currency)
    mode = BillingMode.of(program.bill_up_front, schedule_id)
    result = _quote(
        account, item_id, quantity, included, mode, amounts.goods, amounts.charge, amounts.tax, amounts.total
    )
    result["shipments"] = [
        _shipment(o.seq, o.ship_date, o.item_id, o.quantity, shipment_amounts(o, pricing)) for o in plan
    ]
    if schedule is not None:
        planned = plan_installments(amounts.total, schedule, today)
        result["installments"] = [
            {"seq": p.seq, "due_date": p.due_date.isoformat(), "amount": str(p.amount.amount)} for p in planned
        ]
        result["due_now"] = str(planned[0].amount.amount)
    elif mode == BillingMode.PAY_ALL_LATER:
        result["due_now"] = str(Money.zero(currency).amount)  # each child order is charged when it is made
    return result


def _quote(
    account: str,
    item_id: str,
    quantity: int,
    included: bool,
    mode: BillingMode | None,
    goods: Money,
    charges: Money,
    tax: Money,
    total: Money,
) -> Quote:
    return {
        "account": account,
        "item_id": item_id,
        "quantity": quantity,
        "currency": total.currency,
        "prices_include_tax": included,
        "billing_mode": mode.value if mode else None,
        "goods": str(goods.amount),
        "charges": str(charges.amount),
        "tax": str(tax.amount),
        "total": str(total.amount),
        "due_now": str(total.amount),
        "shipments": [],
        "installments": [],
    }


def _shipment(seq: int, ship_date: date, item_id: str, quantity: int, a: LineAmounts) -> QuoteShipment:
    return {
        "seq": seq,
        "ship_date": ship_date.isoformat(),
        "item_id": item_id,
        "quantity": quantity,
        "amount": str(a.goods.amount),
        "charge": str(a.charge.amount),
        "tax": str(a.tax.amount),
        "total": str(a.total.amount),
    }
