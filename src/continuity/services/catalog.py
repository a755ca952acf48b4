"""Setup data one object at a time (the API): products, programs, payment schedules, parameters.

Reuses the setup documents and save_program, so a program saved here is validated exactly like an
imported one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TypeVar

from continuity.domain.audit import SYSTEM, Actor
from continuity.domain.calendar import add_months
from continuity.domain.errors import NotFound, RuleViolation, ValidationFailed
from continuity.domain.money import Money
from continuity.domain.program import ContinuityParameters, PaymentSchedule, Product, Program
from continuity.domain.schedule import plan_installments, plan_occurrences
from continuity.services import setup as setup_service
from continuity.services.ports import UnitOfWork, UowFactory
from continuity.services.setup import save_program
from continuity.services.setup_documents import ParametersDoc, PaymentScheduleDoc, ProductDoc, ProgramDoc

#: A program's whole plan (and a payment schedule's installments) must end within this many years.
MAX_PLAN_YEARS = 100

T = TypeVar("T")


# -- products -----------------------------------------------------------------------------------
def save_product(uow_factory: UowFactory, doc: ProductDoc, create: bool, actor: Actor = SYSTEM) -> Product:
    """Create (``create``) or replace a product; a parent product's program must exist."""
    product = doc.to_domain()
    with uow_factory() as uow:
        _check_exists(uow.setup.item_ids(), product.item_id, create, "product", "item_unknown")
        if not create:  # a document that leaves them out keeps the tax group and the shipping charge
            old = uow.setup.product(product.item_id)
            product.tax_group = product.tax_group if "tax_group" in doc.model_fields_set else old.tax_group
            product.shipping = product.shipping if "shipping_charge" in doc.model_fields_set else old.shipping
        if product.continuity_program_id:
            uow.setup.program(product.continuity_program_id)
            if any(product.item_id in {e.item_id for e in p.events} for p in uow.setup.programs()):
                raise ValidationFailed(
                    f"item {product.item_id} is shipped by a program, so it cannot be a parent (continuity) item",
                    "item_is_event",
                )
        setup_service.save_product(uow, product, actor)
        uow.commit()
    return product


def products(uow_factory: UowFactory, after: str | None, limit: int) -> list[Product]:
    with uow_factory() as uow:
        return _page(uow.setup.products(), lambda p: p.item_id, after, limit)


def product(uow_factory: UowFactory, item_id: str) -> Product:
    with uow_factory() as uow:
        return uow.setup.product(item_id)


# -- programs -----------------------------------------------------------------------------------
def save_program_doc(
    uow_factory: UowFactory, doc: ProgramDoc, as_of: date, create: bool, actor: Actor = SYSTEM
) -> Program:
    """Create or replace a program with its events (validated like an import)."""
    program = doc.to_domain()
    with uow_factory() as uow:
        known = {p.program_id for p in uow.setup.programs()}
        _check_exists(known, program.program_id, create, "program", "program_not_found")
        if not create and "shipping_charge" not in doc.model_fields_set:  # left out: kept
            program.shipping = uow.setup.program(program.program_id).shipping
        save_program(uow, program, as_of, actor)
        _check_plan_length(uow, program, as_of)
        uow.commit()
    return program


def _check_plan_length(uow: UnitOfWork, program: Program, as_of: date) -> None:
    prices = {p.item_id: p.price for p in uow.setup.products()}
    limit = add_months(as_of, 12 * MAX_PLAN_YEARS)
    try:
        plan = plan_occurrences(program, prices, as_of, program.shippable_events()[0].event_id)
        too_long = bool(plan) and plan[-1].ship_date > limit
    except (OverflowError, ValueError):
        too_long = True
    if too_long:
        raise ValidationFailed(
            f"program {program.program_id} would ship for more than {MAX_PLAN_YEARS} years", "program_too_long"
        )


def programs(uow_factory: UowFactory, after: str | None, limit: int) -> list[Program]:
    with uow_factory() as uow:
        return _page(uow.setup.programs(), lambda p: p.program_id, after, limit)


def program(uow_factory: UowFactory, program_id: str) -> Program:
    with uow_factory() as uow:
        return uow.setup.program(program_id)


# -- payment schedules ----------------------------------------------------------------------------
def save_payment_schedule(
    uow_factory: UowFactory, doc: PaymentScheduleDoc, as_of: date, create: bool, actor: Actor = SYSTEM
) -> PaymentSchedule:
    schedule = doc.to_domain()
    schedule.validate()
    try:
        last = plan_installments(Money.from_minor(schedule.number_of_payments, "EUR"), schedule, as_of)[-1]
        too_long = last.due_date > add_months(as_of, 12 * MAX_PLAN_YEARS)
    except (OverflowError, ValueError):
        too_long = True
    if too_long:
        raise ValidationFailed(
            f"payment schedule {schedule.payment_schedule_id} would run for more than {MAX_PLAN_YEARS} years",
            "payment_schedule_too_long",
        )
    with uow_factory() as uow:
        known = {s.payment_schedule_id for s in uow.setup.payment_schedules()}
        _check_exists(known, schedule.payment_schedule_id, create, "payment schedule", "payment_schedule_not_found")
        setup_service.save_payment_schedule(uow, schedule, actor)
        uow.commit()
    return schedule


def payment_schedules(uow_factory: UowFactory, after: str | None, limit: int) -> list[PaymentSchedule]:
    with uow_factory() as uow:
        return _page(uow.setup.payment_schedules(), lambda s: s.payment_schedule_id, after, limit)


def payment_schedule(uow_factory: UowFactory, schedule_id: str) -> PaymentSchedule:
    with uow_factory() as uow:
        return uow.setup.payment_schedule(schedule_id)


# -- parameters ---------------------------------------------------------------------------------
def parameters(uow_factory: UowFactory) -> ContinuityParameters:
    with uow_factory() as uow:
        return uow.setup.parameters()


def save_parameters(uow_factory: UowFactory, doc: ParametersDoc, actor: Actor = SYSTEM) -> ContinuityParameters:
    params = doc.to_domain()
    params.validate()
    with uow_factory() as uow:
        setup_service.save_parameters(uow, params, actor)
        uow.commit()
    return params


def _page(items: Iterable[T], key: Callable[[T], str], after: str | None, limit: int) -> list[T]:
    """The first ``limit`` items whose key sorts after the cursor ``after`` (items come in key order)."""
    return [i for i in items if after is None or key(i) > after][:limit]


def _check_exists(known: set[str], key: str, create: bool, what: str, not_found_code: str) -> None:
    if create and key in known:
        raise RuleViolation(f"{what} {key!r} exists already; change it with PUT", f"{what.replace(' ', '_')}_exists")
    if not create and key not in known:
        raise NotFound(f"no {what} {key!r}", not_found_code)
