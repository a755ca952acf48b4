"""A new customer and a customer's changes (issue 18 item 2): name, phone, e-mail, language and up to five
addresses, on one form. "New customer" comes from the search page (prefilled with what was searched),
"Edit" from the customer page. Every POST answers 303: a refusal goes back to the form with the error and
what was typed (flash); a save goes to the customer page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from continuity.domain.audit import Actor
from continuity.domain.customer import LANGUAGES, MAX_ADDRESSES, PURPOSES, Address, Customer
from continuity.domain.errors import DomainError
from continuity.entrypoints.web import flash
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.messages import error_text
from continuity.entrypoints.web.session import language_of
from continuity.entrypoints.web.templating import render
from continuity.services import customers

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "phone", "email", "language")
ADDRESS_FIELDS = ("purpose", "street", "city", "postal_code", "country")
#: a new customer's first address is most likely in the country of the language they speak
COUNTRY_OF = {"nb": "NO", "sv": "SE", "nl": "NL", "it": "IT", "fr": "FR", "en": ""}
_PHONE = re.compile(r"[+\d][\d\s()./-]{3,}")


@router.get("/customers/new")
def new_customer(request: Request, user: Agent, q: Annotated[str, Query(max_length=100)] = "") -> Response:
    typed = flash.take(request)
    lang = language_of(request)
    values = typed.values or {**prefilled(q.strip()), "language": lang, "country_0": COUNTRY_OF.get(lang, "")}
    return _form(request, None, values, typed.error)


@router.post("/customers/new")
async def create_customer(request: Request, user: Agent) -> Response:
    values = _typed(await request.form())
    try:
        app = _app(request)
        created = await run_in_threadpool(
            customers.register_customer, app.uow, app.clock, Actor.for_user(user), customer_of("", values)
        )
    except DomainError as exc:
        return flash.redirect(request, "/customers/new", error=error_text(request, exc), values=values)
    return flash.redirect(request, f"/customers/{quote(created.account)}", data={"customer": "created"})


@router.get("/customers/{account}/edit")
def edit_customer(request: Request, user: Agent, account: str) -> Response:
    customer = customers.customer(_app(request).uow, account)
    typed = flash.take(request)
    return _form(request, customer, typed.values or values_of(customer), typed.error)


@router.post("/customers/{account}/edit")
async def save_customer(request: Request, user: Agent, account: str) -> Response:
    values = _typed(await request.form())
    try:
        app = _app(request)
        changed = customer_of(account, values)
        await run_in_threadpool(customers.update_customer, app.uow, app.clock, Actor.for_user(user), changed)
    except DomainError as exc:
        here = f"/customers/{quote(account)}/edit"
        return flash.redirect(request, here, error=error_text(request, exc), values=values)
    return flash.redirect(request, f"/customers/{quote(account)}", data={"customer": "saved"})


def prefilled(text: str) -> dict[str, str]:
    """What was searched, in the field it belongs to: an e-mail, a phone number, else the name."""
    if "@" in text:
        return {"email": text}
    if _PHONE.fullmatch(text):
        return {"phone": text}
    return {"name": text} if text else {}


def values_of(customer: Customer) -> dict[str, str]:
    values = {name: getattr(customer, name) for name in FIELDS}
    for n, address in enumerate(customer.addresses):
        values.update({f"{name}_{n}": getattr(address, name) for name in ADDRESS_FIELDS})
    return values


def customer_of(account: str, values: Mapping[str, str]) -> Customer:
    """The customer the form describes; an address row left wholly empty is no address."""
    addresses = []
    for n in range(MAX_ADDRESSES):
        row = {name: values.get(f"{name}_{n}", "").strip() for name in ADDRESS_FIELDS}
        if any(row[name] for name in ("street", "city", "postal_code")):
            row["country"] = row["country"].upper()
            addresses.append(Address(**row))
    fields = {name: values.get(name, "").strip() for name in FIELDS}
    return Customer(account, addresses=addresses, **fields)


def _typed(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's text fields that belong to a customer, each bounded (the domain says what is too long)."""
    names = [*FIELDS, *(f"{name}_{n}" for n in range(MAX_ADDRESSES) for name in ADDRESS_FIELDS)]
    return {name: str(form.get(name) or "")[:400] for name in names if isinstance(form.get(name), str)}


def _form(request: Request, customer: Customer | None, values: dict[str, str], error: str | None) -> Response:
    filled = [n for n in range(MAX_ADDRESSES) if any(values.get(f"{f}_{n}") for f in ("street", "city"))]
    rows = min(MAX_ADDRESSES, max(filled, default=-1) + 2)
    if customer is not None and f"country_{rows - 1}" not in values and customer.addresses:
        values = {**values, f"country_{rows - 1}": customer.addresses[0].country}
    return render(
        request,
        "customers/form.html",
        customer=customer,
        values=values,
        rows=rows,
        purposes=PURPOSES,
        customer_languages=LANGUAGES,
        error=error,
    )


def _app(request: Request) -> Any:
    return request.app.state.continuity
