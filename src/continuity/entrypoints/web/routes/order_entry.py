"""Sales order entry, built for speed with the keyboard alone:
item → (continuity step: start date, payment schedule when the program asks) → recap with payment →
Submit → the order number. Every step's form has its field focused and submits with Enter. Every POST
answers 303: a form error goes back to the step's page with the error and what was typed (flash), never
the card number."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from continuity.bootstrap import App
from continuity.domain.audit import Actor
from continuity.domain.errors import DomainError
from continuity.domain.sales_order import OrderStatus
from continuity.entrypoints.web import flash
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.messages import EntryInput, error_text
from continuity.entrypoints.web.templating import render
from continuity.entrypoints.web.view_models import continuity_step, entry_page
from continuity.services import agent_order_entry, order_entry, payment_entry
from continuity.services.order_entry import MAX_LINE_QUANTITY
from continuity.services.ports import CardSetup

router = APIRouter(include_in_schema=False)
Quantity = Annotated[int, Form(ge=1, le=MAX_LINE_QUANTITY)]
EDITABLE = (OrderStatus.DRAFT.value, OrderStatus.ON_HOLD.value)


def _continuity(request: Request) -> App:
    app: App = request.app.state.continuity
    return app


@router.post("/customers/{account}/orders")
def add_item(
    request: Request, user: Agent, account: str, item_id: Annotated[str, Form(max_length=40)], quantity: Quantity = 1
) -> Response:
    """The item field: a parent (continuity) item goes to the continuity step, any other makes the order."""
    app = _continuity(request)
    item = item_id.strip()
    try:
        with app.uow() as uow:
            uow.customers.get(account)
            product = uow.setup.product(item)
        if product.is_parent:
            return RedirectResponse(f"/customers/{account}/orders/new?item={item}&quantity={quantity}", 303)
        sales_id = order_entry.create_order_with_line(
            app.uow, app.clock, account, item, quantity, actor=Actor.for_user(user)
        )
    except DomainError as exc:
        return flash.redirect(
            request, f"/customers/{account}", error=error_text(request, exc), values={"item_id": item}
        )
    return RedirectResponse(f"/orders/{sales_id}/entry", 303)


@router.get("/customers/{account}/orders/new")
def continuity_step_page(
    request: Request,
    user: Agent,
    account: str,
    item: Annotated[str, Query(max_length=40)],
    quantity: Annotated[int, Query(ge=1, le=MAX_LINE_QUANTITY)] = 1,
) -> Response:
    """The continuity step; after a refused Create, with the error and the start date and schedule typed."""
    app = _continuity(request)
    typed = flash.take(request)
    try:
        start = date.fromisoformat(typed.value("start_date")) if typed.data.get("preview_typed") else None
    except ValueError:
        start = None
    schedule = typed.value("payment_schedule_id") or None
    step = continuity_step(app, account, item, quantity, start or app.clock.today(), schedule)
    return render(request, "agent/continuity_step.html", **step, error=typed.error)


@router.post("/customers/{account}/orders/new")
def create_continuity_order(
    request: Request,
    user: Agent,
    account: str,
    item_id: Annotated[str, Form(max_length=40)],
    quantity: Quantity = 1,
    start_date: Annotated[str, Form(max_length=10)] = "",
    payment_schedule_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    app = _continuity(request)
    schedule = payment_schedule_id or None
    try:
        start = date.fromisoformat(start_date) if start_date else app.clock.today()
    except ValueError:
        start = None
    try:
        if start is None:
            raise EntryInput("start_date_invalid")
        sales_id = order_entry.create_order_with_line(
            app.uow, app.clock, account, item_id, quantity, start, schedule, app.start_date_window, Actor.for_user(user)
        )
    except DomainError as exc:
        step = "/customers/{}/orders/new?{}".format(account, urlencode({"item": item_id, "quantity": quantity}))
        typed = {"start_date": start_date, "payment_schedule_id": payment_schedule_id}
        # no preview for a date that is not one or is outside the window
        preview = start is not None and exc.code != "start_date_out_of_range"
        return flash.redirect(
            request, step, error=error_text(request, exc), values=typed, data={"preview_typed": preview}
        )
    return RedirectResponse(f"/orders/{sales_id}/entry", 303)


@router.get("/orders/{sales_id}/entry")
def recap(request: Request, user: Agent, sales_id: str) -> Response:
    app = _continuity(request)
    page = entry_page(app, sales_id)
    if page["order"]["status"] not in EDITABLE:
        return RedirectResponse(f"/orders/{sales_id}/done", 303)
    typed = flash.take(request)  # after a refused Submit: its error, the expiry and saved card chosen
    return render(
        request, "agent/recap.html", **page, card_setup=_card_setup(app, page), error=typed.error, typed=typed.values
    )


@router.post("/orders/{sales_id}/submit")
def submit(
    request: Request,
    user: Agent,
    sales_id: str,
    card_number: Annotated[str, Form(max_length=40)] = "",
    expiry: Annotated[str, Form(max_length=9)] = "",
    saved_card: Annotated[str, Form(max_length=100)] = "",
    payment_method: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    """Payment and submit in one step: a new card is tokenized (only the token is kept) and added as the
    payment for what is due now; then the order is submitted, which authorizes the card."""
    app = _continuity(request)
    with app.uow() as uow:
        if uow.orders.get(sales_id).status.value not in EDITABLE:  # a second Enter: it is already done
            return RedirectResponse(f"/orders/{sales_id}/done", 303)
    try:
        agent_order_entry.use_card(
            app.uow,
            app.gateway,
            app.clock,
            sales_id,
            card_number.strip(),
            expiry.strip(),
            saved_card,
            payment_method.strip(),
        )
        result = payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    except DomainError as exc:
        if exc.code == "submit_in_progress":  # a double click: the first click's submit is under way
            return RedirectResponse(f"/orders/{sales_id}/done", 303)
        # back to the recap (a refresh shows it again, re-posting nothing); the card number is typed again
        typed = {"expiry": expiry, "saved_card": saved_card}
        return flash.redirect(request, f"/orders/{sales_id}/entry", error=error_text(request, exc), values=typed)
    if result.status == OrderStatus.OPEN.value:
        return RedirectResponse(f"/orders/{sales_id}/done", 303)
    return RedirectResponse(f"/orders/{sales_id}/entry", 303)


def _card_setup(app: App, page: dict[str, Any]) -> CardSetup | None:
    """Under stripe the card is typed into Stripe.js (a SetupIntent for the customer), never sent to us."""
    if payment_entry.takes_card_numbers(app.gateway):
        return None
    return payment_entry.card_setup(app.uow, app.gateway, page["order"]["account"])


@router.get("/orders/{sales_id}/done")
def done(request: Request, user: Agent, sales_id: str) -> Response:
    app = _continuity(request)
    page = entry_page(app, sales_id)
    if page["order"]["status"] in EDITABLE:
        return RedirectResponse(f"/orders/{sales_id}/entry", 303)
    return render(request, "agent/done.html", **page)
