"""/sales-orders (create with lines, list ?parent=, get, payments, submit, child release/ship/invoice)
and /continuity-orders/{sales_id} (the schedule with each occurrence's child order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query

from continuity.bootstrap import App
from continuity.domain.audit import Actor
from continuity.domain.users import User
from continuity.entrypoints.api.deps import (
    Agent,
    AppDep,
    Cursor,
    Limit,
    PageView,
    Warehouse,
    decode_cursor,
    is_id,
    page,
)
from continuity.entrypoints.api.routes import READ, WRITE, SalesId, errors
from continuity.entrypoints.api.schemas import (
    ID_PATTERN,
    ContinuityOrderOut,
    FulfilmentIn,
    Page,
    PaymentIn,
    SalesOrderIn,
    SalesOrderOut,
    ShipIn,
)
from continuity.services import fulfilment, payment_entry, sales_orders, views
from continuity.services.sales_orders import NewLine

router = APIRouter(tags=["sales orders"])
ChildStep = Callable[..., None]  # fulfilment.release / invoice: (uow, sales_id, on, *, actor, now)


@router.post("/sales-orders", status_code=201, response_model=SalesOrderOut, responses=errors(*WRITE))
def create_sales_order(body: SalesOrderIn, app: AppDep, user: Agent) -> views.OrderView:
    """A draft order with its lines; a continuity (parent) item makes it a continuity order with its
    schedule (the continuity step: start date, payment schedule). 409 duplicate_continuity_order when the
    customer still has an order of one of its continuity items, unless confirm_duplicate is true."""
    terms = body.continuity
    sales_id = sales_orders.create_sales_order(
        app.uow,
        app.clock,
        body.customer,
        [NewLine(line.item_id, line.quantity) for line in body.lines],
        terms.start_date if terms else None,
        terms.payment_schedule_id if terms else None,
        app.start_date_window,
        Actor.for_user(user),
        body.entry(),
    )
    return views.order_view(app.uow, sales_id)


@router.get("/sales-orders", response_model=Page[SalesOrderOut], responses=errors(*READ))
def list_sales_orders(
    app: AppDep,
    _: Agent,
    parent: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only the child orders of this parent.")
    ] = None,
    customer: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this account's orders.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> PageView[views.OrderView]:
    after = decode_cursor(cursor, is_id)
    orders = sales_orders.list_orders(app.uow, parent, customer, after, limit + 1)
    return page(orders, limit, lambda o: o["sales_id"])


@router.get("/sales-orders/{sales_id}", response_model=SalesOrderOut, responses=errors(*READ))
def get_sales_order(sales_id: SalesId, app: AppDep, _: Agent) -> views.OrderView:
    return views.order_view(app.uow, sales_id)


@router.post(
    "/sales-orders/{sales_id}/payments", status_code=201, response_model=SalesOrderOut, responses=errors(*WRITE, 402)
)
def add_payment(sales_id: SalesId, body: PaymentIn, app: AppDep, _: Agent) -> views.OrderView:
    """A card payment by token (POST /cards first); the amount defaults to what is due now."""
    payment_entry.add_token_payment(app.uow, app.clock, sales_id, body.card_token, body.amount)
    return views.order_view(app.uow, sales_id)


@router.post("/sales-orders/{sales_id}/submit", response_model=SalesOrderOut, responses=errors(*WRITE, 402))
def submit(sales_id: SalesId, app: AppDep, _: Agent) -> views.OrderView:
    """Authorize the payments: approved → `open`; declined or unanswered → `on_hold` with `hold_reason`."""
    payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    return views.order_view(app.uow, sales_id)


@router.post("/sales-orders/{sales_id}/release", response_model=SalesOrderOut, responses=errors(*WRITE))
def release(sales_id: SalesId, app: AppDep, user: Warehouse, body: FulfilmentIn | None = None) -> views.OrderView:
    """Release a child order to the warehouse (the warehouse role or a manager)."""
    return _child_step(fulfilment.release, sales_id, app, user, body)


@router.post("/sales-orders/{sales_id}/ship", response_model=SalesOrderOut, responses=errors(*WRITE))
def ship(sales_id: SalesId, body: ShipIn, app: AppDep, user: Warehouse) -> views.OrderView:
    """Ship a released child order with its tracking number."""
    fulfilment.ship(
        app.uow,
        sales_id,
        body.tracking_number,
        body.date_ or app.clock.today(),
        actor=Actor.for_user(user),
        now=app.clock.now(),
    )
    return views.order_view(app.uow, sales_id)


@router.post("/sales-orders/{sales_id}/invoice", response_model=SalesOrderOut, responses=errors(*WRITE))
def invoice(sales_id: SalesId, app: AppDep, user: Warehouse, body: FulfilmentIn | None = None) -> views.OrderView:
    """Invoice a shipped child order (its occurrences become `invoiced`)."""
    return _child_step(fulfilment.invoice, sales_id, app, user, body)


def _child_step(step: ChildStep, sales_id: str, app: App, user: User, body: FulfilmentIn | None) -> views.OrderView:
    """One step of a child order on the body's date (default: today), by this user; the order after it."""
    step(app.uow, sales_id, (body and body.date_) or app.clock.today(), actor=Actor.for_user(user), now=app.clock.now())
    return views.order_view(app.uow, sales_id)


@router.get("/continuity-orders/{sales_id}", response_model=ContinuityOrderOut, responses=errors(*READ))
def continuity_order(sales_id: SalesId, app: AppDep, _: Agent) -> dict[str, Any]:
    """A parent continuity order: its continuity lines, each occurrence with its child order."""
    return sales_orders.continuity_order(app.uow, sales_id)
