"""Setup → programs: the list, a new program, and the event editor.

Every change is one small form (works without JavaScript) and one call of
``catalog.save_program_doc``, which validates the whole program like an import: a refused change
saves nothing and is shown next to its fields (post-redirect-get: the change redirects back to the editor,
the errors and the values typed carried once in the flash). Events are kept numbered 1, 2, 3 … in shipping order;
moving, copying or deleting one renumbers the rest.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from continuity.bootstrap import App
from continuity.domain.audit import Actor
from continuity.domain.errors import DomainError
from continuity.domain.money import Money
from continuity.domain.program import Program
from continuity.domain.schedule import plan_occurrences, program_total
from continuity.domain.users import User
from continuity.entrypoints.api.deps import AppDep
from continuity.entrypoints.web import flash
from continuity.entrypoints.web.auth import Form, Manager
from continuity.entrypoints.web.routes.setup_forms import (
    FieldError,
    FormRefused,
    event_doc,
    flashed,
    program_header,
    refusal,
    unflashed,
)
from continuity.entrypoints.web.templating import render
from continuity.services import catalog, views
from continuity.services.setup_documents import ProgramDoc

router = APIRouter(include_in_schema=False)
PAGE = 50
NEW_ROWS, ADD_ROWS, MAX_ROWS = 5, 3, 50  # rows of the events tables (new program, add events); rows read at most
#: the fields of an events table's row: ``<name>-<row>`` (the new program's table leaves out the last three:
#: quantity 1, the item's price, no start date)
ROW_FIELDS = (
    "item_id",
    "action",
    "times_to_repeat",
    "interval_count",
    "interval_unit",
    "quantity",
    "price",
    "start_date",
)
SEVERAL_ITEMS = re.compile(r"[\s,;]+")


def program_url(program_id: str, done: str = "", anchor: str = "") -> str:
    return (
        f"/setup/programs/{quote(program_id, safe='')}"
        + (f"?done={done}" if done else "")
        + (f"#{anchor}" if anchor else "")
    )


# -- list and new ---------------------------------------------------------------------------------
@router.get("/setup/programs")
def program_list(request: Request, app: AppDep, user: Manager, after: str | None = None) -> Response:
    found = catalog.programs(app.uow, after, PAGE + 1)
    return render(
        request,
        "manager/programs.html",
        programs=found[:PAGE],
        next_after=found[PAGE - 1].program_id if len(found) > PAGE else None,
        section="programs",
    )


@router.get("/setup/programs/new")
def new_program_page(request: Request, app: AppDep, user: Manager) -> Response:
    typed = flash.take(request)  # after a refused Create: what was typed and why
    errors = unflashed(typed.data.get("errors"))
    values = {
        "order_start": "first_event",
        "return_action": "continue",
        "days_after_order": "0",
        "active": "on",
        "prompt_for_start_date": "on",
        **_row_defaults(NEW_ROWS),
    }
    return _new_page(request, app, dict(typed.values) if errors else values, errors)


@router.post("/setup/programs")
def create_program(request: Request, app: AppDep, user: Manager, form: Form) -> Response:
    errors: dict[str, FieldError] = {}
    header = _collect(errors, lambda: program_header(form))
    events = _collect_rows(errors, app, form, 1)
    if not errors and not events:
        errors["item_id-1"] = FieldError("Required.")
    if not errors:
        try:
            catalog.save_program_doc(
                app.uow,
                ProgramDoc.model_validate({**header, "events": events}),
                app.clock.today(),
                create=True,
                actor=Actor.for_user(user),
            )
            return RedirectResponse(program_url(header["program_id"], "created"), status_code=303)
        except (DomainError, ValidationError) as exc:
            errors = refusal(exc).errors
    return flash.redirect(request, "/setup/programs/new", values=form, data={"errors": flashed(errors)})


def _new_page(request: Request, app: App, values: dict[str, Any], errors: dict[str, Any]) -> Response:
    return render(
        request,
        "manager/program_new.html",
        values=values,
        errors=errors,
        rows=_rows_of(values, NEW_ROWS),
        **_choices(app),
        section="programs",
    )


# -- the editor -----------------------------------------------------------------------------------
@router.get("/setup/programs/{program_id}")
def program_page(request: Request, program_id: str, app: AppDep, user: Manager, done: str = "") -> Response:
    """The editor; after a refused change, with the form of that change as typed and its errors."""
    typed = flash.take(request)
    errors = unflashed(typed.data.get("errors"))
    program = catalog.program(app.uow, program_id)
    if not errors:
        return _editor(request, app, program, done=done)
    return _editor(request, app, program, str(typed.data.get("scope", "")), dict(typed.values), errors)


@router.post("/setup/programs/{program_id}")
def save_header(request: Request, program_id: str, app: AppDep, user: Manager, form: Form) -> Response:
    program = catalog.program(app.uow, program_id)
    return _change(
        request, app, user, program, "header", form, lambda doc: doc.update(program_header(form, program_id))
    )


@router.post("/setup/programs/{program_id}/events")
def add_events(request: Request, program_id: str, app: AppDep, user: Manager, form: Form) -> Response:
    """The rows of the Add events table (an item cell may hold several items, pasted): each a new event."""
    program = catalog.program(app.uow, program_id)

    def append(doc: dict[str, Any]) -> None:
        errors: dict[str, FieldError] = {}
        events = _collect_rows(errors, app, form, len(doc["events"]) + 1)
        if not errors and not events:
            errors["item_id-1"] = FieldError("Required.")
        if errors:
            raise FormRefused(errors)
        doc["events"].extend(events)

    return _change(request, app, user, program, "add", form, append, done="added", anchor="events")


@router.post("/setup/programs/{program_id}/events/{event_id}")
def save_event(request: Request, program_id: str, event_id: int, app: AppDep, user: Manager, form: Form) -> Response:
    program = catalog.program(app.uow, program_id)

    def replace(doc: dict[str, Any]) -> None:
        index = _index(doc, event_id)
        doc["events"][index] = event_doc(form, event_id, _currency_of(app, str(form.get("item_id", ""))))

    return _change(request, app, user, program, f"event-{event_id}", form, replace, anchor=f"event-{event_id}")


@router.post("/setup/programs/{program_id}/events/{event_id}/move")
def move_event(request: Request, program_id: str, event_id: int, app: AppDep, user: Manager, form: Form) -> Response:
    program = catalog.program(app.uow, program_id)
    step = -1 if form.get("direction") == "up" else 1

    def move(doc: dict[str, Any]) -> None:
        index = _index(doc, event_id)
        if 0 <= index + step < len(doc["events"]):
            events = doc["events"]
            events[index], events[index + step] = events[index + step], events[index]

    target = min(max(event_id + step, 1), len(program.events))
    return _change(request, app, user, program, "", form, move, done="moved", anchor=f"event-{target}")


@router.post("/setup/programs/{program_id}/events/{event_id}/copy")
def copy_event(request: Request, program_id: str, event_id: int, app: AppDep, user: Manager, form: Form) -> Response:
    program = catalog.program(app.uow, program_id)

    def duplicate(doc: dict[str, Any]) -> None:
        index = _index(doc, event_id)
        doc["events"].insert(index + 1, copy.deepcopy(doc["events"][index]))

    return _change(request, app, user, program, "", form, duplicate, done="copied", anchor=f"event-{event_id + 1}")


@router.post("/setup/programs/{program_id}/events/{event_id}/delete")
def delete_event(request: Request, program_id: str, event_id: int, app: AppDep, user: Manager, form: Form) -> Response:
    program = catalog.program(app.uow, program_id)
    return _change(
        request,
        app,
        user,
        program,
        "",
        form,
        lambda doc: doc["events"].pop(_index(doc, event_id)),
        done="deleted",
        anchor="events",
    )


def _change(
    request: Request,
    app: App,
    user: User,
    program: Program,
    scope: str,
    form: dict[str, Any],
    edit: Any,
    done: str = "saved",
    anchor: str = "",
) -> Response:
    """Apply one edit to the program's document and save it; on a refusal show the editor again."""
    doc = _document(program)
    try:
        edit(doc)
        for number, event in enumerate(doc["events"], start=1):
            event["event_id"] = number
        catalog.save_program_doc(
            app.uow, ProgramDoc(**doc), app.clock.today(), create=False, actor=Actor.for_user(user)
        )
    except (FormRefused, DomainError, ValidationError) as exc:
        refused = exc if isinstance(exc, FormRefused) else refusal(exc)
        data = {"errors": flashed(refused.errors), "scope": scope}
        return flash.redirect(request, program_url(program.program_id, "", anchor), values=form, data=data)
    return RedirectResponse(program_url(program.program_id, done, anchor), status_code=303)


def _editor(
    request: Request,
    app: App,
    program: Program,
    scope: str = "",
    form: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    done: str = "",
) -> Response:
    events = [(e, _event_values(e)) for e in program.sorted_events()]
    prices = _prices(app)
    add_values = form if scope == "add" and form is not None else _row_defaults(ADD_ROWS)
    header = _header_values(program)
    if scope == "header" and form is not None:
        header = form
    return render(
        request,
        "manager/program_edit.html",
        program=program,
        header=header,
        events=events,
        scope=scope,
        form=form or {},
        errors=errors or {},
        done=done,
        add_values=add_values,
        add_rows=_rows_of(add_values, ADD_ROWS),
        costs=program_costs(program, prices, app.clock.today()),
        names={item: name for item, (name, _) in prices.items()},
        **_choices(app),
        section="programs",
    )


# -- documents and form values --------------------------------------------------------------------
def _document(program: Program) -> dict[str, Any]:
    """The program as the ProgramDoc the services validate (the same shape the API sends)."""
    view = views.program_view(program)
    doc: dict[str, Any] = {k: v for k, v in view.items() if k != "current_event"}
    doc["events"] = [{k: v for k, v in e.items() if k != "currency" or v is not None} for e in view["events"]]
    return doc


def _index(doc: dict[str, Any], event_id: int) -> int:
    for index, event in enumerate(doc["events"]):
        if event["event_id"] == event_id:
            return index
    raise FormRefused({"": FieldError("This event no longer exists; the page was out of date.")})


def _header_values(program: Program) -> dict[str, Any]:
    values: dict[str, Any] = {
        "program_id": program.program_id,
        "description": program.description,
        "order_start": program.order_start.value,
        "return_action": program.return_action.value,
        "payment_schedule_id": program.payment_schedule_id or "",
        "days_after_order": str(program.days_after_order),
        "shipping_kind": program.shipping.kind.value,
        "shipping_amount": str(Money.from_minor(program.shipping.amount_minor, "XXX").amount),
    }
    for flag in (
        "bill_up_front",
        "prompt_for_start_date",
        "prompt_for_payment_schedule",
        "consolidate_past_orders",
        "active",
    ):
        values[flag] = "on" if getattr(program, flag) else ""
    return values


def _event_values(event: Any) -> dict[str, Any]:
    return {
        "item_id": event.item_id,
        "quantity": str(event.quantity),
        "price": str(event.price.amount) if event.price is not None else "",
        "times_to_repeat": str(event.times_to_repeat),
        "interval_count": str(event.interval.count),
        "interval_unit": event.interval.unit,
        "start_date": event.start_date.isoformat() if event.start_date else "",
        "action": event.action.value,
    }


def _choices(app: App) -> dict[str, Any]:
    products = catalog.products(app.uow, None, 100_000)
    return {
        "items": [p for p in products if not p.is_parent],
        "schedules": catalog.payment_schedules(app.uow, None, 1000),
    }


def _currency_of(app: App, item_id: str) -> str:
    try:
        return catalog.product(app.uow, item_id.strip()).price.currency
    except DomainError:
        return "EUR"  # an unknown item is refused by the program's validation, next to the field


def _collect(errors: dict[str, FieldError], read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return read()
    except FormRefused as refused:
        errors.update(refused.errors)
        return {}


# -- the events tables (several events in one form) ----------------------------------------------
def _rows_of(values: Mapping[str, Any], least: int) -> int:
    """How many rows a table shows: ``least``, or as many as the values typed (after a refusal)."""
    typed = [int(k.rsplit("-", 1)[1]) for k in values if k.startswith("item_id-") and k.rsplit("-", 1)[1].isdigit()]
    return min(max([least, *typed]), MAX_ROWS)


def _row_defaults(rows: int) -> dict[str, str]:
    defaults = {
        "item_id": "",
        "action": "normal",
        "times_to_repeat": "1",
        "interval_count": "30",
        "interval_unit": "days",
        "quantity": "1",
        "price": "",
        "start_date": "",
    }
    return {f"{name}-{k}": value for k in range(1, rows + 1) for name, value in defaults.items()}


def _collect_rows(
    errors: dict[str, FieldError], app: App, form: Mapping[str, Any], first_id: int
) -> list[dict[str, Any]]:
    """The events typed as rows (``<field>-<row>``), numbered from ``first_id``; a row without an item is left
    out, an item cell holding several item numbers (pasted) gives one event per item with the row's settings.
    A refused cell's error is keyed ``<field>-<row>``."""
    events: list[dict[str, Any]] = []
    for k in range(1, MAX_ROWS + 1):
        if f"item_id-{k}" not in form:
            break
        row = {name: str(form[f"{name}-{k}"]) for name in ROW_FIELDS if f"{name}-{k}" in form}
        for item in filter(None, SEVERAL_ITEMS.split(row.get("item_id", "").strip())):
            currency = _product_currency(app, item)
            if currency is None:
                errors[f"item_id-{k}"] = FieldError("No product with this item number.")
                continue
            try:
                events.append(event_doc({**row, "item_id": item}, first_id + len(events), currency))
            except FormRefused as refused:
                errors.update({f"{name}-{k}": error for name, error in refused.errors.items()})
    return events


def _product_currency(app: App, item_id: str) -> str | None:
    try:
        return catalog.product(app.uow, item_id).price.currency
    except DomainError:
        return None


# -- what the program costs -----------------------------------------------------------------------
def _prices(app: App) -> dict[str, tuple[str, Money]]:
    """Each item's name and price."""
    return {p.item_id: (p.name, p.price) for p in catalog.products(app.uow, None, 100_000)}


def program_costs(program: Program, prices: Mapping[str, tuple[str, Money]], start: date) -> dict[str, Any]:
    """What an order of the whole program costs (from its first event): per event its price per shipment
    (the event's price, else the item's, times the quantity), its shipments and their sum; and the total."""
    known = {item: price for item, (_, price) in prices.items()}
    if not program.shippable_events() or any(e.item_id not in known for e in program.events):
        return {"events": {}, "total": None, "shipments": 0}
    plan = plan_occurrences(program, known, start, program.shippable_events()[0].event_id)
    events: dict[int, dict[str, Any]] = {}
    for e in program.events:
        shipped = [o for o in plan if o.event_id == e.event_id]
        each = (e.price or known[e.item_id]) * e.quantity
        events[e.event_id] = {"each": each, "shipments": len(shipped), "sum": each * len(shipped)}
    currency = plan[0].price.currency if plan else "EUR"
    return {"events": events, "total": program_total(plan, currency), "shipments": len(plan)}
