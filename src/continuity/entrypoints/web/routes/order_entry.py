"""Sales order entry, built for speed with the keyboard alone:
item → (continuity step: start date, payment schedule when the program asks) → recap with payment →
Submit → the order number. Every step's form has its field focused and submits with Enter. Every POST
answers 303: a form error goes back to the step's page with the error and what was typed (flash), never
the card number."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from continuity.bootstrap import App
from continuity.domain.audit import Actor
from continuity.domain.customer import Address
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
    start: Annotated[str, Query(max_length=10)] = "",
    schedule: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The continuity step, its shipments previewed from the start date asked for (``start``: the date
    field's Refresh, or static/app.js when the date changes); after a refused Create, with the error and
    what was typed. A customer who still has an order of this item is asked about first."""
    app = _continuity(request)
    typed = flash.take(request)
    shown = typed.value("start_date", start) if typed.error else start
    day = _within_window(app, _iso_date(shown))
    chosen = typed.value("payment_schedule_id", schedule) if typed.error else schedule
    step = continuity_step(app, account, item, quantity, day or app.clock.today(), chosen or None)
    return render(
        request,
        "agent/continuity_step.html",
        **step,
        typed_start=shown if shown and day is None else "",  # kept in the field as typed
        duplicates=order_entry.duplicates(app.uow, account, item),
        confirmed=typed.value("confirm_duplicate") == "1",
        error=typed.error,
    )


def _within_window(app: App, day: date | None) -> date | None:
    """A start date the order could have (no preview from one it cannot)."""
    try:
        if day is not None:
            order_entry.check_start_date(day, app.clock.today(), app.start_date_window)
    except DomainError:
        return None
    return day


def _iso_date(text: str) -> date | None:
    """The one date format of the web's date fields: YYYY-MM-DD (as the examples and the placeholders say)."""
    try:
        return date.fromisoformat(text) if len(text.strip()) == 10 else None
    except ValueError:
        return None


@router.post("/customers/{account}/orders/new")
def create_continuity_order(
    request: Request,
    user: Agent,
    account: str,
    item_id: Annotated[str, Form(max_length=40)],
    quantity: Quantity = 1,
    start_date: Annotated[str, Form(max_length=20)] = "",
    payment_schedule_id: Annotated[str, Form(max_length=40)] = "",
    confirm_duplicate: Annotated[str, Form(max_length=1)] = "",
    action: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Create the order; or (``action=refresh``, the date field's button without JavaScript) show the
    shipments from the start date typed."""
    app = _continuity(request)
    schedule = payment_schedule_id or None
    start_date = start_date.strip()
    start = _iso_date(start_date) if start_date else app.clock.today()
    query = {"item": item_id, "quantity": quantity}
    step = f"/customers/{account}/orders/new?{urlencode(query)}"
    if action == "refresh" and start is not None:
        return RedirectResponse(f"{step}&{urlencode({'start': start_date, 'schedule': payment_schedule_id})}", 303)
    entry = order_entry.Entry(check_duplicates=confirm_duplicate != "1")
    try:
        if start is None:
            raise EntryInput("start_date_format")
        sales_id = order_entry.create_order_with_line(
            app.uow,
            app.clock,
            account,
            item_id,
            quantity,
            start,
            schedule,
            app.start_date_window,
            Actor.for_user(user),
            entry,
        )
    except DomainError as exc:
        typed = {
            "start_date": start_date,
            "payment_schedule_id": payment_schedule_id,
            "confirm_duplicate": confirm_duplicate,
        }
        return flash.redirect(request, step, error=error_text(request, exc), values=typed)
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
    ship_to: Annotated[str, Form(max_length=3)] = "",
    ship_street: Annotated[str, Form(max_length=400)] = "",
    ship_city: Annotated[str, Form(max_length=400)] = "",
    ship_postal_code: Annotated[str, Form(max_length=400)] = "",
    ship_country: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Payment and submit in one step: a new card is tokenized (only the token is kept) and added as the
    payment for what is due now; then the order is submitted, which authorizes the card."""
    app = _continuity(request)
    with app.uow() as uow:
        if uow.orders.get(sales_id).status.value not in EDITABLE:  # a second Enter: it is already done
            return RedirectResponse(f"/orders/{sales_id}/done", 303)
    typed_address = Address("delivery", ship_street.strip(), ship_city.strip(), ship_postal_code.strip(), ship_country)
    try:
        _ship_to(app, sales_id, ship_to, typed_address)
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
        typed = {"expiry": expiry, "saved_card": saved_card, "ship_to": ship_to, **_address_typed(typed_address)}
        return flash.redirect(request, f"/orders/{sales_id}/entry", error=error_text(request, exc), values=typed)
    if result.status == OrderStatus.OPEN.value:
        return RedirectResponse(f"/orders/{sales_id}/done", 303)
    return RedirectResponse(f"/orders/{sales_id}/entry", 303)


def _ship_to(app: App, sales_id: str, choice: str, typed: Address) -> None:
    """The address chosen on the recap (one of the customer's, by its place in the list, or the one typed)
    is stored on the order; no choice (a form without the field) keeps what the order has."""
    if not choice:
        return
    with app.uow() as uow:
        order = uow.orders.get(sales_id)
        addresses = uow.customers.get(order.account).addresses
    if choice == "new":
        if not (typed.street or typed.city or typed.postal_code):
            raise EntryInput("ship_to_required")
        address = replace(typed, country=typed.country.strip().upper())
    elif choice.isdigit() and int(choice) < len(addresses):
        address = replace(addresses[int(choice)], purpose="delivery")
    else:
        raise EntryInput("ship_to_required")
    if address != order.ship_to:
        order_entry.set_ship_to(app.uow, sales_id, address)


def _address_typed(a: Address) -> dict[str, str]:
    return {"ship_street": a.street, "ship_city": a.city, "ship_postal_code": a.postal_code, "ship_country": a.country}


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
