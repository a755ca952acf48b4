"""Setting up: parameters, payment schedules, products and programs (validated together)."""
from __future__ import annotations

from datetime import date

from continuity.domain.errors import ValidationFailed
from continuity.domain.program import Program
from continuity.services.order_entry import UowFactory
from continuity.services.setup_documents import SetupDoc


def import_setup(uow_factory: UowFactory, doc: SetupDoc, as_of: date) -> dict[str, int]:
    """Save everything in the document in one transaction, or nothing when any part is invalid."""
    with uow_factory() as uow:
        counts = apply_setup(uow, doc, as_of)
        uow.commit()
    return counts


def apply_setup(uow, doc: SetupDoc, as_of: date) -> dict[str, int]:  # type: ignore[no-untyped-def]
    if doc.parameters:
        params = doc.parameters.to_domain()
        params.validate()
        uow.setup.save_parameters(params)
    for sched in doc.payment_schedules:
        schedule = sched.to_domain()
        schedule.validate()
        uow.setup.save_payment_schedule(schedule)
    parents = []
    for product in doc.products:
        domain = product.to_domain()
        parents.append((domain, domain.continuity_program_id))
        domain.continuity_program_id = None  # linked after the programs exist
        uow.setup.save_product(domain)
    for program_doc in doc.programs:
        save_program(uow, program_doc.to_domain(), as_of)
    for product, program_id in parents:
        if program_id:
            uow.setup.program(program_id)
            product.continuity_program_id = program_id
            uow.setup.save_product(product)
    return {"parameters": int(doc.parameters is not None), "payment_schedules": len(doc.payment_schedules),
            "products": len(doc.products), "programs": len(doc.programs)}


def save_program(uow, program: Program, as_of: date) -> None:  # type: ignore[no-untyped-def]
    program.validate(uow.setup.item_ids())
    if program.payment_schedule_id:
        uow.setup.payment_schedule(program.payment_schedule_id)
    if any(uow.setup.product(e.item_id).is_parent for e in program.events):
        raise ValidationFailed("a program cannot ship a parent (continuity) item", "item_is_parent")
    program.current_event = program.current_event_on(as_of)
    uow.setup.save_program(program)
