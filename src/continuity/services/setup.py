"""Setting up: parameters, payment schedules, products and programs (validated together)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError

from continuity.domain.audit import SYSTEM, Actor, AuditEntry, Entity
from continuity.domain.errors import NotFound, ValidationFailed
from continuity.domain.program import ContinuityParameters, PaymentSchedule, Product, Program, check_currencies
from continuity.domain.tax import TaxRate, rate_text
from continuity.services.ports import UnitOfWork, UowFactory
from continuity.services.setup_documents import ParametersDoc, SetupDoc, explain, where

T = TypeVar("T")


def import_setup(uow_factory: UowFactory, doc: SetupDoc, as_of: date, actor: Actor = SYSTEM) -> dict[str, int]:
    """Save everything in the document in one transaction, or nothing when any part is invalid."""
    with uow_factory() as uow:
        counts = apply_setup(uow, doc, as_of, actor)
        uow.commit()
    return counts


def apply_setup(uow: UnitOfWork, doc: SetupDoc, as_of: date, actor: Actor = SYSTEM) -> dict[str, int]:
    if doc.parameters:
        params = doc.parameters.apply_to(uow.setup.parameters())  # only what the document names
        params.validate()
        save_parameters(uow, params, actor)
    for sched in doc.payment_schedules:
        schedule = sched.to_domain()
        schedule.validate()
        save_payment_schedule(uow, schedule, actor)
    parents: list[tuple[Product, str | None]] = []
    products_before = {p.item_id: p for p in uow.setup.products()}
    for product_doc in doc.products:
        domain = product_doc.to_domain()
        parents.append((domain, domain.continuity_program_id))
        domain.continuity_program_id = None  # linked after the programs exist
        uow.setup.save_product(domain)
    for program_doc in doc.programs:
        save_program(uow, program_doc.to_domain(), as_of, actor)
    for product, program_id in parents:
        if program_id:
            uow.setup.program(program_id)
            product.continuity_program_id = program_id
            uow.setup.save_product(product)
        old = products_before.get(product.item_id)
        record(
            uow,
            actor,
            Entity.PRODUCT,
            product.item_id,
            _view(old),
            _view(product),
            program_id=product.continuity_program_id,
        )
    check_program_currencies(uow, {p.program_id for p in doc.programs}, {p.item_id for p in doc.products})
    for rate_doc in doc.tax_rates:
        save_tax_rate(uow, rate_doc.to_domain(), actor)
    return {
        "parameters": int(doc.parameters is not None),
        "payment_schedules": len(doc.payment_schedules),
        "products": len(doc.products),
        "programs": len(doc.programs),
        "tax_rates": len(doc.tax_rates),
    }


def save_program(uow: UnitOfWork, program: Program, as_of: date, actor: Actor = SYSTEM) -> None:
    products = {p.item_id: p for p in uow.setup.products()}
    program.take_item_currencies({i: p.price.currency for i, p in products.items()})
    program.validate(set(products))
    check_currencies(program, products)
    if program.payment_schedule_id:
        uow.setup.payment_schedule(program.payment_schedule_id)
    if any(uow.setup.product(e.item_id).is_parent for e in program.events):
        raise ValidationFailed("a program cannot ship a parent (continuity) item", "item_is_parent")
    program.current_event = program.current_event_on(as_of)
    before = _existing(lambda: uow.setup.program(program.program_id))
    uow.setup.save_program(program)
    record(uow, actor, Entity.PROGRAM, program.program_id, _view(before), _view(program), program_id=program.program_id)


def change_parameters(
    uow_factory: UowFactory, changes: Mapping[str, object], actor: Actor = SYSTEM
) -> ContinuityParameters:
    """Change only the parameters named in ``changes``; the others keep their values (one transaction)."""
    try:
        doc = ParametersDoc.model_validate(changes)
    except ValidationError as exc:
        raise ValidationFailed(explain(exc), "parameters_invalid", where(exc)) from None
    with uow_factory() as uow:
        params = doc.apply_to(uow.setup.parameters())
        params.validate()
        save_parameters(uow, params, actor)
        uow.commit()
    return params


def save_parameters(uow: UnitOfWork, params: ContinuityParameters, actor: Actor = SYSTEM) -> None:
    before = uow.setup.parameters()
    uow.setup.save_parameters(params)
    record(uow, actor, Entity.PARAMETERS, "continuity", _view(before), _view(params))


def save_tax_rate(uow: UnitOfWork, rate: TaxRate, actor: Actor = SYSTEM) -> None:
    """A row of the rate table (that day's row changed if there is one), audited."""
    rate.validate()
    before = uow.setup.save_tax_rate(rate)
    key = f"{rate.tax_group}:{rate.region}:{rate.valid_from.isoformat()}"
    record(uow, actor, Entity.TAX_RATE, key, _rate(before), _rate(rate))


def _rate(rate: TaxRate | None) -> dict[str, Any] | None:
    return None if rate is None else {"rate": rate_text(rate.rate_ppm)}


def save_product(uow: UnitOfWork, product: Product, actor: Actor = SYSTEM) -> None:
    before = _existing(lambda: uow.setup.product(product.item_id))
    uow.setup.save_product(product)
    check_program_currencies(uow, set(), {product.item_id})  # refused: the caller does not commit
    record(
        uow,
        actor,
        Entity.PRODUCT,
        product.item_id,
        _view(before),
        _view(product),
        program_id=product.continuity_program_id,
    )


def check_program_currencies(uow: UnitOfWork, program_ids: set[str], item_ids: set[str]) -> None:
    """check_currencies for the saved programs ``program_ids`` and every program that ships one of the
    products ``item_ids`` or has one as its parent item (called before the commit: a refusal saves nothing)."""
    products = {p.item_id: p for p in uow.setup.products()}
    parents_of = {products[i].continuity_program_id for i in item_ids if i in products}
    for program in uow.setup.programs():
        if (
            program.program_id in program_ids
            or program.program_id in parents_of
            or any(e.item_id in item_ids for e in program.events)
        ):
            check_currencies(program, products)


def save_payment_schedule(uow: UnitOfWork, schedule: PaymentSchedule, actor: Actor = SYSTEM) -> None:
    before = _existing(lambda: uow.setup.payment_schedule(schedule.payment_schedule_id))
    uow.setup.save_payment_schedule(schedule)
    record(uow, actor, Entity.PAYMENT_SCHEDULE, schedule.payment_schedule_id, _view(before), _view(schedule))


def record(
    uow: UnitOfWork,
    actor: Actor,
    entity: Entity,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str = "",
    program_id: str | None = None,
) -> None:
    """One audit entry for a setup change (nothing when nothing changed)."""
    if before == after:
        return
    action = "created" if before is None else "changed"
    uow.audit.add(AuditEntry(actor, entity, key, action, before, after, reason, program_id=program_id))


def _existing(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except NotFound:
        return None


def _view(obj: Program | PaymentSchedule | Product | ContinuityParameters | None) -> dict[str, Any] | None:
    """A setup object as plain JSON-ready values (dates and money as text)."""
    if obj is None:
        return None
    from continuity.services import views

    if isinstance(obj, Program):
        return dict(views.program_view(obj))
    if isinstance(obj, PaymentSchedule):
        return dict(views.schedule_view(obj))
    if isinstance(obj, Product):
        return dict(views.product_view(obj))
    return {k: v for k, v in vars(obj).items()}
