"""What the agent pages show, read through the services and turned into Money and dates for the
templates (the services' views carry decimal strings and ISO dates for JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from continuity.bootstrap import App
from continuity.domain.errors import NotFound
from continuity.domain.money import Money
from continuity.entrypoints.web import gateway_words
from continuity.entrypoints.web.history_view import HistoryRow, history_rows
from continuity.services import customer_timeline as timeline_service
from continuity.services import customers, quotes, sales_orders, views
from continuity.services import history as history_service
from continuity.services.projection import next_charge_card

FIRST_SHIPMENTS = 3


def money(amount: str | None, currency: str) -> Money | None:
    return None if amount is None else Money(Decimal(amount), currency)


def day(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text[:10])


def product_names(app: App) -> dict[str, str]:
    with app.uow() as uow:
        return {p.item_id: p.name for p in uow.setup.products()}


def customer_page(app: App, account: str) -> dict[str, Any]:
    found = customers.customer(app.uow, account)
    orders = [order_summary(o) for o in reversed(sales_orders.list_orders(app.uow, None, account, None, 100))]
    return {
        "customer": found,
        "cards": customers.saved(app.uow, account, app.clock.today()),
        "orders": orders,
        "timeline": customer_timeline(app, account, orders),
    }


#: the quick actions of an open continuity order on the customer page: (servicing slug, title)
QUICK_ACTIONS = (("skip", "Skip the next shipment"), ("change-card", "Change card"), ("cancel", "Cancel the order"))


def customer_timeline(app: App, account: str, orders: list[OrderSummary]) -> list[timeline_service.Event]:
    """The customer's orders, payments, notices and call notes, newest first (issue 18 item 11)."""
    entered = [timeline_service.Event("order", o.order_date, None, o.sales_id, {"order": o}) for o in orders]
    others = timeline_service.timeline(app.uow, account)
    return sorted(entered + others, key=timeline_service.Event.sort_key, reverse=True)


@dataclass
class OrderSummary:
    sales_id: str
    order_date: date
    status: str
    total: Money
    is_parent: bool
    parent_sales_id: str | None
    items: str

    @property
    def quick_actions(self) -> tuple[tuple[str, str], ...]:
        """Skip the next shipment, change card, cancel: for an open (or held) continuity order."""
        return QUICK_ACTIONS if self.is_parent and self.status in ("open", "on_hold", "paused") else ()


def order_summary(o: views.OrderView) -> OrderSummary:
    cur = o["currency"]
    total = sum((Decimal(line["amount"]) for line in o["lines"]), Decimal("0"))
    return OrderSummary(
        o["sales_id"],
        date.fromisoformat(o["order_date"]),
        o["standing"],
        Money(total, cur),
        o["is_continuity_parent"],
        o["parent_sales_id"],
        ", ".join(line["item_id"] for line in o["lines"]),
    )


def order_details(app: App, sales_id: str) -> dict[str, Any]:
    """The order with Money and dates: lines (with their whole schedule), installments, payments."""
    o = views.order_view(app.uow, sales_id)
    cur = o["currency"]
    names = product_names(app)
    lines = []
    for line in o["lines"]:
        cont = line["continuity"]
        schedule = [
            {
                **occ,
                "price": money(occ["price"], cur),
                "ship_date": day(occ["ship_date"]),
                "name": names.get(occ["item_id"], occ["item_id"]),
            }
            for occ in (cont["schedule"] if cont else [])
        ]
        lines.append(
            {
                **line,
                "name": names.get(line["item_id"], line["item_id"]),
                "unit_price": money(line["unit_price"], cur),
                "amount": money(line["amount"], cur),
                "continuity": None
                if cont is None
                else {**cont, "start_date": day(cont["start_date"]), "schedule": schedule},
            }
        )
    installments = [{**i, "due_date": day(i["due_date"]), "amount": money(i["amount"], cur)} for i in o["installments"]]
    payments = [{**p, "amount": money(p["amount"], cur)} for p in o["payments"]]
    total = money(o["total"], cur)  # goods, shipping charges and (net prices) tax
    return {
        **o,
        "order_date": day(o["order_date"]),
        "lines": lines,
        "installments": installments,
        "payments": payments,
        "total": total,
        "amount_due_now": money(o["amount_due_now"], cur),
    }


def continuity_step(
    app: App, account: str, item_id: str, quantity: int, start: date, schedule_id: str | None
) -> dict[str, Any]:
    """The continuity step: the program, its start date, payment schedules (when the program asks) and a
    preview of the first shipments for the chosen start date."""
    from continuity.domain.schedule import plan_occurrences

    with app.uow() as uow:
        found = uow.customers.get(account)
        product = uow.setup.product(item_id)
        if product.continuity_program_id is None:
            raise NotFound(f"no continuity program for item {item_id!r}", "program_not_found")
        program = uow.setup.program(product.continuity_program_id)
        products = uow.setup.products()
        prices = {p.item_id: p.price for p in products}
        names = {p.item_id: p.name for p in products}
        schedules = uow.setup.payment_schedules() if program.prompt_for_payment_schedule else []
    plan = plan_occurrences(program, prices, start, program.starting_event())
    preview = [
        {
            "ship_date": o.ship_date,
            "item_id": o.item_id,
            "name": names.get(o.item_id, o.item_id),
            "quantity": o.quantity * quantity,
            "price": o.price,
        }
        for o in plan[:FIRST_SHIPMENTS]
    ]
    currency = product.price.currency
    return {
        "customer": found,
        "product": product,
        "program": program,
        "quantity": quantity,
        "start_date": start,
        "schedules": schedules,
        "schedule_id": schedule_id or program.payment_schedule_id or "",
        "preview": preview,
        "shipments": len(plan),
        **_priced(app, account, item_id, quantity, start, schedule_id, currency),
    }


def _priced(
    app: App, account: str, item_id: str, quantity: int, start: date, schedule_id: str | None, currency: str
) -> dict[str, Money]:
    """The program's total as the order will cost it (services/quotes.py): shipping and tax included."""
    q = quotes.quote(app.uow, app.clock.today(), account, item_id, quantity, start, schedule_id or None)
    return {
        "program_total": Money(Decimal(q["total"]), currency),
        "program_charges": Money(Decimal(q["charges"]), currency),
        "program_tax": Money(Decimal(q["tax"]), currency),
    }


def entry_page(app: App, sales_id: str) -> dict[str, Any]:
    """The recap of an order being entered: lines and totals, first shipments, charges, payments, cards."""
    order = order_details(app, sales_id)
    found = customers.customer(app.uow, order["account"])
    first = [
        {**occ, "line_no": line["line_no"]}
        for line in order["lines"]
        if line["continuity"]
        for occ in line["continuity"]["schedule"][:FIRST_SHIPMENTS]
    ]
    declined = [p for p in order["payments"] if p["status"] == "declined"]
    last_declined = declined[-1] if declined and order["status"] == "on_hold" else None
    if last_declined is not None:
        last_declined = {**last_declined, "words": gateway_words.decline(last_declined["reason"] or "")}
    return {
        "order": order,
        "customer": found,
        "cards": customers.saved(app.uow, order["account"], app.clock.today()),
        "first_shipments": first,
        "declined": last_declined,
    }


def order_page(app: App, sales_id: str) -> dict[str, Any]:
    """The continuity order page: lines with schedules (child order links and statuses), installments,
    payments (a child order's: the charges of its installment), the gateway attempts and, when the
    servicing change provides it, the history."""
    order = order_details(app, sales_id)
    children = [
        occ["child_sales_id"]
        for line in order["lines"]
        if line["continuity"]
        for occ in line["continuity"]["schedule"]
        if occ["child_sales_id"]
    ]
    with app.uow() as uow:
        statuses = uow.order_queries.statuses(children) if children else {}
        attempts = [
            {**asdict(a), "amount": Money.from_minor(a.amount_minor, a.currency)} for a in uow.orders.attempts(sales_id)
        ]
        cards = {c.token: c.masked for c in uow.customers.cards(order["account"])}
    for a in attempts:
        a["card"] = cards.get(a["card_token"], "")
        a["reason_words"] = gateway_words.payment_reason(a["status"], a["reason"] or "")
    for p in order["payments"]:
        p["reason_words"] = gateway_words.payment_reason(p["status"], p["reason"] or "")
    return {
        "order": order,
        "customer": customers.customer(app.uow, order["account"]),
        "child_statuses": statuses,
        "attempts": attempts,
        # a child order has no payment of its own: what pays it is the charge of its installment
        "charges": [a for a in attempts if a["subject"] == "installment"],
        "history": history(app, sales_id),
        "next_card": next_charge_card(app.uow, app.clock.today(), sales_id),
        "hold_note": gateway_words.hold_note(order) if order["status"] == "on_hold" else None,
    }


def history(app: App, sales_id: str) -> list[HistoryRow]:
    """The order's history (services.history), one row per change, oldest first, for the page to word."""
    return history_rows(history_service.order_history(app.uow, sales_id), product_names(app))
