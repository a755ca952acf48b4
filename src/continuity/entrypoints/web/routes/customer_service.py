"""Customer service, the agent's home: one search box → results → the customer page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from continuity.bootstrap import App
from continuity.domain.audit import Actor
from continuity.domain.card import looks_like_card_number
from continuity.domain.errors import CardExpired, DomainError, NotFound, RuleViolation
from continuity.entrypoints.web import flash, i18n, recent
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.messages import error_text
from continuity.entrypoints.web.session import language_of
from continuity.entrypoints.web.templating import render
from continuity.entrypoints.web.view_models import customer_page
from continuity.services import card_expiry, customers

router = APIRouter(include_in_schema=False)
CARD_WARNING = "That looks like a card number: it was not searched. Card numbers go only into the payment step."
MAX_RESULTS = 25
MAX_WORKLIST = 50


@router.get("/")
def home(request: Request, user: Agent, q: Annotated[str, Query(max_length=100)] = "") -> Response:
    app = request.app.state.continuity
    text = q.strip()
    if looks_like_card_number(text):  # the same guard as static/app.js, for a browser without JavaScript
        return render(request, "agent/home.html", 422, q="", results=[], more=False, error=_(request, CARD_WARNING))
    if text and (order := _order_numbered(app, text)):
        return RedirectResponse(f"/orders/{order}", status_code=303)
    try:
        found = customers.find(app.uow, text, MAX_RESULTS + 1) if text else []
    except DomainError as exc:
        return render(request, "agent/home.html", 422, q=text, results=[], more=False, error=error_text(request, exc))
    if len(found) == 1:
        return RedirectResponse(f"/customers/{found[0].account}", status_code=303)
    return render(
        request,
        "agent/home.html",
        q=text,
        results=found[:MAX_RESULTS],
        more=len(found) > MAX_RESULTS,
        error=None,
        expiring=[] if text else _expiring_cards(app),
    )


def _expiring_cards(app: App) -> list[card_expiry.ExpiringCard]:
    """The worklist: cards to update before the next shipment they pay for (as the nightly notice)."""
    with app.uow() as uow:
        params = uow.setup.parameters()
    return card_expiry.expiring_cards(app.card_expiry_reads(), app.clock.today(), params)[:MAX_WORKLIST]


def _(request: Request, msgid: str) -> str:
    return i18n.translations(language_of(request)).gettext(msgid)


def _order_numbered(app: App, text: str) -> str | None:
    """The sales order whose number is exactly ``text`` (any case): an order number opens the order."""
    if len(text) > 40:
        return None
    try:
        with app.uow() as uow:
            return uow.orders.get(text.upper()).sales_id
    except NotFound:
        return None


#: what the last card change on the customer page did (post-redirect-get: ?card=...)
CARD_NOTICES = ("default", "removed", "in_use", "not_found", "expired")


@router.get("/customers/{account}")
def customer(
    request: Request,
    user: Agent,
    account: str,
    card: Annotated[str, Query(max_length=20)] = "",
    orders: Annotated[str, Query(max_length=200, pattern=r"^[A-Za-z0-9,-]*$")] = "",
) -> Response:
    typed = flash.take(request)  # after a refused item: its error and the item typed
    page = customer_page(request.app.state.continuity, account)
    recent.remember(request, account)
    return render(
        request,
        "agent/customer.html",
        **page,
        error=None if typed.data.get("form") == "note" else typed.error,
        note_error=typed.error if typed.data.get("form") == "note" else None,
        note_text=typed.value("note"),
        note_saved=request.query_params.get("note") == "saved",
        item_id=typed.value("item_id"),
        card_notice=card if card in CARD_NOTICES else "",
        customer_notice=typed.data.get("customer", ""),  # after a new customer or a change was saved
        card_orders=orders.replace(",", ", "),
    )


@router.post("/customers/{account}/cards/{token}/default")
def make_default_card(request: Request, user: Agent, account: str, token: str) -> Response:
    """The agent makes this card the customer's default (audited)."""
    app = request.app.state.continuity
    try:
        customers.set_default_card(app.uow, app.clock, Actor.for_user(user), account, token)
    except NotFound as exc:
        return _back(account, "not_found" if exc.code == "card_not_found" else "", "")
    except CardExpired:
        return _back(account, "expired", "")
    return _back(account, "default", "")


@router.post("/customers/{account}/cards/{token}/remove")
def remove_card(request: Request, user: Agent, account: str, token: str) -> Response:
    """The agent removes the card: never offered again; refused while an open order still pays with it."""
    app = request.app.state.continuity
    try:
        customers.remove_card(app.uow, app.clock, Actor.for_user(user), account, token)
    except NotFound as exc:
        return _back(account, "not_found" if exc.code == "card_not_found" else "", "")
    except RuleViolation as exc:
        if exc.code != "card_in_use":
            raise
        paying = customers.orders_paying_with(app.uow, app.clock, account, token)
        return _back(account, "in_use", ",".join(paying))
    return _back(account, "removed", "")


def _back(account: str, notice: str, orders: str) -> Response:
    query = f"?card={notice}" + (f"&orders={orders}" if orders else "") if notice else ""
    return RedirectResponse(f"/customers/{quote(account)}{query}#cards-title", status_code=303)
