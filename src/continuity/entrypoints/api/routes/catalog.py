"""Setup: /products, /programs, /payment-schedules, /parameters/continuity.

Agents may read the catalog (they take the orders); changing it takes a manager.
"""

from __future__ import annotations

from fastapi import APIRouter

from continuity.domain.audit import Actor
from continuity.entrypoints.api.deps import Agent, AppDep, Cursor, Limit, Manager, PageView, decode_cursor, is_id, page
from continuity.entrypoints.api.routes import READ, WRITE, ItemId, ProgramId, ScheduleId, errors
from continuity.entrypoints.api.schemas import (
    Page,
    ParametersIn,
    ParametersOut,
    ParametersPatch,
    PaymentScheduleFields,
    PaymentScheduleIn,
    PaymentScheduleOut,
    ProductFields,
    ProductIn,
    ProductOut,
    ProgramFields,
    ProgramIn,
    ProgramOut,
)
from continuity.services import catalog, setup, views
from continuity.services.setup_documents import ParametersDoc, PaymentScheduleDoc, ProductDoc, ProgramDoc

router = APIRouter(tags=["setup"])
ParametersJson = dict[
    str, int | bool | tuple[int, ...]
]  # schemas.ParametersOut: the fields of domain.program.ContinuityParameters


# -- products -------------------------------------------------------------------------------------
@router.get("/products", response_model=Page[ProductOut], responses=errors(*READ))
def list_products(app: AppDep, _: Agent, limit: Limit = 50, cursor: Cursor = None) -> PageView[views.ProductView]:
    found = catalog.products(app.uow, decode_cursor(cursor, is_id), limit + 1)
    return page(found, limit, lambda p: p.item_id, views.product_view)


@router.get("/products/{item_id}", response_model=ProductOut, responses=errors(*READ))
def get_product(item_id: ItemId, app: AppDep, _: Agent) -> views.ProductView:
    return views.product_view(catalog.product(app.uow, item_id))


@router.post("/products", status_code=201, response_model=ProductOut, responses=errors(*WRITE))
def create_product(body: ProductIn, app: AppDep, user: Manager) -> views.ProductView:
    """A product; with `continuity_program_id` it is a parent (continuity) item."""
    return views.product_view(
        catalog.save_product(app.uow, ProductDoc(**body.model_dump()), create=True, actor=Actor.for_user(user))
    )


@router.put("/products/{item_id}", response_model=ProductOut, responses=errors(*WRITE))
def replace_product(item_id: ItemId, body: ProductFields, app: AppDep, user: Manager) -> views.ProductView:
    doc = ProductDoc(item_id=item_id, **body.model_dump())
    return views.product_view(catalog.save_product(app.uow, doc, create=False, actor=Actor.for_user(user)))


# -- programs -------------------------------------------------------------------------------------
@router.get("/programs", response_model=Page[ProgramOut], responses=errors(*READ))
def list_programs(app: AppDep, _: Agent, limit: Limit = 50, cursor: Cursor = None) -> PageView[views.ProgramView]:
    found = catalog.programs(app.uow, decode_cursor(cursor, is_id), limit + 1)
    return page(found, limit, lambda p: p.program_id, views.program_view)


@router.get("/programs/{program_id}", response_model=ProgramOut, responses=errors(*READ))
def get_program(program_id: ProgramId, app: AppDep, _: Agent) -> views.ProgramView:
    return views.program_view(catalog.program(app.uow, program_id))


@router.post("/programs", status_code=201, response_model=ProgramOut, responses=errors(*WRITE))
def create_program(body: ProgramIn, app: AppDep, user: Manager) -> views.ProgramView:
    """A continuity program with its events (validated like `programs import`)."""
    program = catalog.save_program_doc(
        app.uow, ProgramDoc(**body.model_dump()), app.clock.today(), create=True, actor=Actor.for_user(user)
    )
    return views.program_view(program)


@router.put("/programs/{program_id}", response_model=ProgramOut, responses=errors(*WRITE))
def replace_program(program_id: ProgramId, body: ProgramFields, app: AppDep, user: Manager) -> views.ProgramView:
    """Replace a program and its events; `continuity-update` pushes the change into open orders."""
    doc = ProgramDoc(program_id=program_id, **body.model_dump())
    return views.program_view(
        catalog.save_program_doc(app.uow, doc, app.clock.today(), create=False, actor=Actor.for_user(user))
    )


# -- payment schedules ----------------------------------------------------------------------------
@router.get("/payment-schedules", response_model=Page[PaymentScheduleOut], responses=errors(*READ))
def list_payment_schedules(
    app: AppDep, _: Agent, limit: Limit = 50, cursor: Cursor = None
) -> PageView[views.ScheduleView]:
    found = catalog.payment_schedules(app.uow, decode_cursor(cursor, is_id), limit + 1)
    return page(found, limit, lambda s: s.payment_schedule_id, views.schedule_view)


@router.get("/payment-schedules/{payment_schedule_id}", response_model=PaymentScheduleOut, responses=errors(*READ))
def get_payment_schedule(payment_schedule_id: ScheduleId, app: AppDep, _: Agent) -> views.ScheduleView:
    return views.schedule_view(catalog.payment_schedule(app.uow, payment_schedule_id))


@router.post("/payment-schedules", status_code=201, response_model=PaymentScheduleOut, responses=errors(*WRITE))
def create_payment_schedule(body: PaymentScheduleIn, app: AppDep, user: Manager) -> views.ScheduleView:
    doc = PaymentScheduleDoc(**body.model_dump())
    return views.schedule_view(
        catalog.save_payment_schedule(app.uow, doc, app.clock.today(), create=True, actor=Actor.for_user(user))
    )


@router.put("/payment-schedules/{payment_schedule_id}", response_model=PaymentScheduleOut, responses=errors(*WRITE))
def replace_payment_schedule(
    payment_schedule_id: ScheduleId, body: PaymentScheduleFields, app: AppDep, user: Manager
) -> views.ScheduleView:
    doc = PaymentScheduleDoc(payment_schedule_id=payment_schedule_id, **body.model_dump())
    return views.schedule_view(
        catalog.save_payment_schedule(app.uow, doc, app.clock.today(), create=False, actor=Actor.for_user(user))
    )


# -- parameters -----------------------------------------------------------------------------------
@router.get("/parameters/continuity", response_model=ParametersOut, responses=errors(401, 403, 500))
def get_parameters(app: AppDep, _: Manager) -> ParametersJson:
    return vars(catalog.parameters(app.uow))


@router.put("/parameters/continuity", response_model=ParametersOut, responses=errors(400, 401, 403, 413, 422, 500))
def put_parameters(body: ParametersIn, app: AppDep, user: Manager) -> ParametersJson:
    """Replace the whole document: every parameter is required (a missing one → 422 naming it)."""
    return vars(catalog.save_parameters(app.uow, ParametersDoc(**body.model_dump()), actor=Actor.for_user(user)))


@router.patch("/parameters/continuity", response_model=ParametersOut, responses=errors(400, 401, 403, 413, 422, 500))
def patch_parameters(body: ParametersPatch, app: AppDep, user: Manager) -> ParametersJson:
    """Change only the parameters named in the body; the others keep their values."""
    return vars(setup.change_parameters(app.uow, body.model_dump(exclude_unset=True), actor=Actor.for_user(user)))
