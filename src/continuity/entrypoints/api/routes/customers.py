"""/customers (create, get, search ?q=) and /cards (tokenize)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError

from continuity.domain.audit import Actor
from continuity.entrypoints.api.deps import Agent, AppDep, Cursor, Limit, PageView, decode_cursor, is_id, page
from continuity.entrypoints.api.routes import READ, WRITE, Account, errors
from continuity.entrypoints.api.schemas import (
    NO_CONTROL,
    CardIn,
    CardOut,
    CustomerChangeIn,
    CustomerIn,
    CustomerOut,
    Page,
    SavedCardOut,
)
from continuity.services import customers, payment_entry, views

router = APIRouter(tags=["customers"])
CardToken = Annotated[str, Path(min_length=1, max_length=80, pattern=NO_CONTROL)]


@router.get("/customers", response_model=Page[CustomerOut], responses=errors(*READ))
def search_customers(
    app: AppDep,
    _: Agent,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=NO_CONTROL,
            description="Name (any word), phone, e-mail, account or sales order; prefix match, '*' is a wildcard.",
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageView[views.CustomerView]:
    found = customers.search(app.uow, q, decode_cursor(cursor, is_id), limit + 1)
    return page(found, limit, lambda c: c.account, views.customer_view)


@router.post("/customers", status_code=201, response_model=CustomerOut, responses=errors(*WRITE))
def create_customer(body: CustomerIn, app: AppDep, _: Agent) -> views.CustomerView:
    return views.customer_view(customers.create_customer(app.uow, body.to_domain()))


@router.get("/customers/{account}", response_model=CustomerOut, responses=errors(*READ))
def get_customer(account: Account, app: AppDep, _: Agent) -> views.CustomerView:
    return views.customer_view(customers.customer(app.uow, account))


@router.put("/customers/{account}", response_model=CustomerOut, responses=errors(*WRITE))
def update_customer(account: Account, body: CustomerChangeIn, app: AppDep, user: Agent) -> views.CustomerView:
    """Replace the customer's name, contact details, language and addresses (the account, cards and orders
    stay); the same rules as a new customer; audited."""
    changed = customers.update_customer(app.uow, app.clock, Actor.for_user(user), body.to_domain(account))
    return views.customer_view(changed)


@router.get("/customers/{account}/cards", response_model=list[SavedCardOut], responses=errors(*READ))
def customer_cards(account: Account, app: AppDep, _: Agent) -> list[views.SavedCardView]:
    """One entry per physical card (same brand and last 4): the newest expiry, marked expired or declined;
    the older entries are listed under ``replaced`` (all are kept)."""
    return [views.saved_card_view(c) for c in customers.saved(app.uow, account, app.clock.today())]


@router.post("/customers/{account}/cards/{token}/default", response_model=SavedCardOut, responses=errors(*WRITE))
def make_default_card(account: Account, token: CardToken, app: AppDep, user: Agent) -> views.SavedCardView:
    """Make the card (the token of any of its entries) the customer's default; audited."""
    saved = customers.set_default_card(app.uow, app.clock, Actor.for_user(user), account, token)
    return views.saved_card_view(saved)


@router.delete("/customers/{account}/cards/{token}", response_model=SavedCardOut, responses=errors(*WRITE))
def remove_card(account: Account, token: CardToken, app: AppDep, user: Agent) -> views.SavedCardView:
    """Remove the card (all its entries): it is never offered again; the rows stay for the orders that paid
    with it. 409 ``card_in_use`` while an open continuity line pays with it: change that line's card first.
    Answers the card as it was before removal; audited."""
    saved = customers.remove_card(app.uow, app.clock, Actor.for_user(user), account, token)
    return views.saved_card_view(saved)


@router.post("/cards", status_code=201, response_model=CardOut, responses=errors(*WRITE, 402))
def tokenize_card(body: CardIn, app: AppDep, _: Agent) -> views.CardView:
    """Save a card at the gateway: only the token (Stripe: the PaymentMethod id), brand, last 4 and expiry
    are kept. Test gateway: send card_number and expiry (never stored, echoed or logged); stripe: send
    payment_method, the card having been entered at Stripe."""
    if body.payment_method is not None:
        card = payment_entry.save_payment_method(app.uow, app.gateway, app.clock, body.customer, body.payment_method)
    elif not payment_entry.takes_card_numbers(app.gateway):
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "card_number"),
                    "type": "card_number_not_accepted",
                    "msg": "not accepted with the stripe gateway: the card is entered at Stripe (Stripe.js); send "
                    "payment_method, the PaymentMethod id (pm_…) it returns",
                }
            ]
        )
    else:
        card = payment_entry.tokenize_card(
            app.uow, app.gateway, app.clock, body.customer, body.card_number or "", body.expiry or "", body.holder
        )
    return views.card_view(card)
