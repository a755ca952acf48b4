"""Sales orders for the API: create one with several lines in one transaction, list (children of a
parent), and the continuity order (each parent line's schedule with its child orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from continuity.domain.audit import SYSTEM, Actor
from continuity.domain.errors import NotFound, ValidationFailed
from continuity.services import views
from continuity.services.order_entry import Entry, StartDateWindow, _add_line, _new_order, refuse_duplicates
from continuity.services.ports import Clock, UowFactory

MAX_LINES = 50


@dataclass(frozen=True)
class NewLine:
    item_id: str
    quantity: int = 1


def create_sales_order(
    uow_factory: UowFactory,
    clock: Clock,
    account: str,
    lines: list[NewLine],
    start_date: date | None = None,
    payment_schedule_id: str | None = None,
    window: StartDateWindow = StartDateWindow(),
    actor: Actor = SYSTEM,
    entry: Entry = Entry(),
) -> str:
    """A draft order with all its lines, or nothing; the history has who entered it (``actor``). The continuity terms (start date, payment schedule)
    apply to its continuity lines; giving them for an order without one is an error."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise ValidationFailed(f"an order has 1 to {MAX_LINES} lines", "order_lines_invalid")
    with uow_factory() as uow:
        if entry.check_duplicates:
            refuse_duplicates(uow, account, [line.item_id for line in lines])
        sales_id = _new_order(uow, clock, account, actor, entry.ship_to)
        parents = {line.item_id for line in lines if uow.setup.product(line.item_id).is_parent}
        if (start_date or payment_schedule_id) and not parents:
            raise ValidationFailed(
                "continuity terms were given but no line has a continuity item", "not_continuity_item"
            )
        for line in lines:
            terms = (start_date, payment_schedule_id) if line.item_id in parents else (None, None)
            _add_line(uow, sales_id, line.item_id, line.quantity, *terms, window)
        uow.commit()
    return sales_id


def list_orders(
    uow_factory: UowFactory, parent: str | None, account: str | None, after: str | None, limit: int
) -> list[views.OrderView]:
    """Orders by sales_id (only the children of ``parent`` / only ``account``'s when given)."""
    with uow_factory() as uow:
        if parent is not None:
            uow.orders.get(parent)
        if account is not None:
            uow.customers.get(account)
        ids = uow.order_queries.sales_ids(parent, account, after, limit)
    return [views.order_view(uow_factory, sales_id) for sales_id in ids]


def continuity_order(uow_factory: UowFactory, sales_id: str) -> dict[str, Any]:
    """A parent continuity order: each continuity line with its occurrences and their child orders."""
    order = views.order_view(uow_factory, sales_id)
    if not order["is_continuity_parent"]:
        raise NotFound(f"{sales_id} is not a continuity (parent) order", "continuity_order_not_found")
    lines = [(line, line["continuity"]) for line in order["lines"] if line["continuity"] is not None]
    children = [o["child_sales_id"] for _, terms in lines for o in terms["schedule"] if o["child_sales_id"]]
    with uow_factory() as uow:
        statuses = uow.order_queries.statuses(children)
    return {
        "sales_id": order["sales_id"],
        "account": order["account"],
        "name": order["name"],
        "status": order["status"],
        "hold_reason": order["hold_reason"],
        "hold_code": order["hold_code"],
        "currency": order["currency"],
        "lines": [
            {
                "line_no": line["line_no"],
                "item_id": line["item_id"],
                "quantity": line["quantity"],
                **{k: v for k, v in terms.items() if k != "schedule"},
                "schedule": [
                    {
                        **o,
                        "currency": order["currency"],
                        "child_status": statuses.get(o["child_sales_id"]) if o["child_sales_id"] else None,
                    }
                    for o in terms["schedule"]
                ],
            }
            for line, terms in lines
        ],
        "installments": order["installments"],
    }
