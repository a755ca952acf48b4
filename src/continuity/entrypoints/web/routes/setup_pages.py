"""Setup pages for managers: continuity parameters, payment schedules, products and parent products
(programs and their event editor are in program_editor). Everything is saved through
services/catalog.py; a refused form saves nothing and redirects (303) back to its page, which shows why next
to the fields, with what was typed (post-redirect-get: the errors and values travel once in the flash)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from continuity.domain.audit import Actor
from continuity.domain.errors import DomainError
from continuity.entrypoints.api.deps import AppDep
from continuity.entrypoints.web import flash
from continuity.entrypoints.web.auth import Form, Manager
from continuity.entrypoints.web.routes import program_editor
from continuity.entrypoints.web.routes.setup_forms import (
    FieldError,
    FormRefused,
    flashed,
    parameters_doc,
    payment_schedule_doc,
    product_doc,
    refusal,
    unflashed,
)
from continuity.entrypoints.web.templating import render
from continuity.services import catalog, setup
from continuity.services.setup_documents import PaymentScheduleDoc, ProductDoc

router = APIRouter(include_in_schema=False)
router.include_router(program_editor.router)
PAGE = 50


def _saving(request: Request, save: Callable[[], Any], done_url: str, form_url: str, form: dict[str, Any]) -> Response:
    """Run one save; redirect (303) on success to ``done_url``, else to the form's page ``form_url`` with the
    errors and the values typed in the flash (``typed`` reads them back there)."""
    try:
        save()
    except FormRefused as refused:
        errors = refused.errors
    except (DomainError, ValidationError) as exc:
        errors = refusal(exc).errors
    else:
        return RedirectResponse(done_url, status_code=303)
    return flash.redirect(request, form_url, values=form, data={"errors": flashed(errors)})


def typed(request: Request, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, FieldError]]:
    """A form page's values and errors: after a refused save, what was typed and why it was refused."""
    found = flash.take(request)
    errors = unflashed(found.data.get("errors"))
    return (dict(found.values) if errors else values), errors


@router.get("/setup")
def setup_home(request: Request, app: AppDep, user: Manager) -> Response:
    products = catalog.products(app.uow, None, 100_000)
    return render(
        request,
        "manager/setup.html",
        section="home",
        parameters=catalog.parameters(app.uow),
        schedule_count=len(catalog.payment_schedules(app.uow, None, 100_000)),
        program_count=len(catalog.programs(app.uow, None, 100_000)),
        product_count=len(products),
        parent_count=sum(p.is_parent for p in products),
    )


# -- parameters -----------------------------------------------------------------------------------
@router.get("/setup/parameters")
def parameters_page(request: Request, app: AppDep, user: Manager, done: str = "") -> Response:
    values, errors = typed(
        request,
        {
            k: ("on" if v is True else "" if v is False else str(v))
            for k, v in vars(catalog.parameters(app.uow)).items()
        },
    )
    return render(request, "manager/parameters.html", section="parameters", values=values, errors=errors, done=done)


@router.post("/setup/parameters")
def save_parameters(request: Request, app: AppDep, user: Manager, form: Form) -> Response:
    def save() -> None:
        # the form's parameters; the others (the dunning schedule) keep their values
        setup.change_parameters(app.uow, parameters_doc(form), actor=Actor.for_user(user))

    return _saving(request, save, "/setup/parameters?done=saved", "/setup/parameters", form)


# -- payment schedules ------------------------------------------------------------------------------
@router.get("/setup/payment-schedules")
def schedule_list(request: Request, app: AppDep, user: Manager, after: str | None = None, done: str = "") -> Response:
    found = catalog.payment_schedules(app.uow, after, PAGE + 1)
    return render(
        request,
        "manager/schedules.html",
        section="schedules",
        schedules=found[:PAGE],
        done=done,
        next_after=found[PAGE - 1].payment_schedule_id if len(found) > PAGE else None,
    )


@router.get("/setup/payment-schedules/new")
def new_schedule_page(request: Request, user: Manager) -> Response:
    values, errors = typed(request, {"number_of_payments": "3", "interval_count": "1", "interval_unit": "months"})
    return render(
        request, "manager/schedule_form.html", section="schedules", schedule_id=None, values=values, errors=errors
    )


@router.get("/setup/payment-schedules/{schedule_id}")
def schedule_page(request: Request, schedule_id: str, app: AppDep, user: Manager) -> Response:
    s = catalog.payment_schedule(app.uow, schedule_id)
    values, errors = typed(
        request,
        {
            "payment_schedule_id": s.payment_schedule_id,
            "description": s.description,
            "number_of_payments": str(s.number_of_payments),
            "interval_count": str(s.interval.count),
            "interval_unit": s.interval.unit,
        },
    )
    return render(
        request,
        "manager/schedule_form.html",
        section="schedules",
        schedule_id=schedule_id,
        values=values,
        errors=errors,
    )


@router.post("/setup/payment-schedules")
def create_schedule(request: Request, app: AppDep, user: Manager, form: Form) -> Response:
    return _save_schedule(request, app, user, form, None)


@router.post("/setup/payment-schedules/{schedule_id}")
def replace_schedule(request: Request, schedule_id: str, app: AppDep, user: Manager, form: Form) -> Response:
    catalog.payment_schedule(app.uow, schedule_id)
    return _save_schedule(request, app, user, form, schedule_id)


def _save_schedule(request: Request, app: Any, user: Any, form: dict[str, Any], schedule_id: str | None) -> Response:
    def save() -> None:
        doc = PaymentScheduleDoc(**payment_schedule_doc(form, schedule_id))
        catalog.save_payment_schedule(
            app.uow, doc, app.clock.today(), create=schedule_id is None, actor=Actor.for_user(user)
        )

    form_url = f"/setup/payment-schedules/{schedule_id}" if schedule_id else "/setup/payment-schedules/new"
    return _saving(request, save, "/setup/payment-schedules?done=saved", form_url, form)


# -- products and parent products -------------------------------------------------------------------
@router.get("/setup/products")
def product_list(
    request: Request, app: AppDep, user: Manager, after: str | None = None, parents: bool = False, done: str = ""
) -> Response:
    found = [p for p in catalog.products(app.uow, after, 100_000) if p.is_parent or not parents][: PAGE + 1]
    return render(
        request,
        "manager/products.html",
        section="products",
        products=found[:PAGE],
        parents=parents,
        next_after=found[PAGE - 1].item_id if len(found) > PAGE else None,
        done=done,
    )


@router.get("/setup/products/new")
def new_product_page(request: Request, app: AppDep, user: Manager, program: str = "") -> Response:
    return _product_form(
        request, app, None, *typed(request, {"currency": "EUR", "price": "0.00", "continuity_program_id": program})
    )


@router.get("/setup/products/{item_id}")
def product_page(request: Request, item_id: str, app: AppDep, user: Manager) -> Response:
    p = catalog.product(app.uow, item_id)
    values = {
        "item_id": p.item_id,
        "name": p.name,
        "price": str(p.price.amount),
        "currency": p.price.currency,
        "continuity_program_id": p.continuity_program_id or "",
    }
    return _product_form(request, app, item_id, *typed(request, values))


@router.post("/setup/products")
def create_product(request: Request, app: AppDep, user: Manager, form: Form) -> Response:
    return _save_product(request, app, user, form, None)


@router.post("/setup/products/{item_id}")
def replace_product(request: Request, item_id: str, app: AppDep, user: Manager, form: Form) -> Response:
    catalog.product(app.uow, item_id)
    return _save_product(request, app, user, form, item_id)


def _save_product(request: Request, app: Any, user: Any, form: dict[str, Any], item_id: str | None) -> Response:
    def save() -> None:
        catalog.save_product(
            app.uow, ProductDoc(**product_doc(form, item_id)), create=item_id is None, actor=Actor.for_user(user)
        )

    parents = "&parents=1" if form.get("continuity_program_id") else ""
    form_url = f"/setup/products/{item_id}" if item_id else "/setup/products/new"
    return _saving(request, save, f"/setup/products?done=saved{parents}", form_url, form)


def _product_form(
    request: Request,
    app: Any,
    item_id: str | None,
    values: dict[str, Any],
    errors: dict[str, Any],
) -> Response:
    return render(
        request,
        "manager/product_form.html",
        section="products",
        item_id=item_id,
        values=values,
        errors=errors,
        programs=catalog.programs(app.uow, None, 100_000),
    )
