"""Order holds: /hold-codes (the set-up codes), /sales-orders/{sales_id}/hold and /clear-hold."""

from __future__ import annotations

from fastapi import APIRouter

from continuity.domain.audit import Actor
from continuity.entrypoints.api.deps import Agent, AppDep, Manager
from continuity.entrypoints.api.routes import READ, WRITE, SalesId, errors
from continuity.entrypoints.api.schemas_holds import ClearHoldIn, HoldCodeIn, HoldCodeOut, HoldIn, HoldOut
from continuity.services import holds

router = APIRouter(tags=["holds"])


@router.get("/hold-codes", response_model=list[HoldCodeOut], responses=errors(*READ))
def list_hold_codes(app: AppDep, _: Agent) -> list[holds.HoldCodeView]:
    """Every hold code: `manual` ones are put on and cleared by an agent or a manager, `payment` ones by
    the payments."""
    return holds.hold_codes(app.uow)


@router.post("/hold-codes", status_code=201, response_model=HoldCodeOut, responses=errors(*WRITE))
def add_hold_code(body: HoldCodeIn, app: AppDep, _: Manager) -> holds.HoldCodeView:
    """Set up a new manual hold code."""
    return holds.add_hold_code(app.uow, body.code, body.description)


@router.post("/sales-orders/{sales_id}/hold", response_model=HoldOut, responses=errors(*WRITE))
def hold(sales_id: SalesId, body: HoldIn, app: AppDep, user: Agent) -> holds.HoldView:
    """Put an open or released order on hold with a manual hold code and a note (audited). A held parent's
    new child orders are made on hold with its code; a held order is not charged."""
    return holds.put_on_hold(app.uow, app.clock, sales_id, body.code, body.note, Actor.for_user(user))


@router.post("/sales-orders/{sales_id}/clear-hold", response_model=HoldOut, responses=errors(*WRITE))
def clear_hold(sales_id: SalesId, body: ClearHoldIn, app: AppDep, user: Agent) -> holds.HoldView:
    """Clear an order's manual hold with a note (audited): the order is open again, and so are a parent's
    children held with the same code. A payment hold is cleared by the payment, never here (409)."""
    return holds.clear_hold(app.uow, app.clock, sales_id, body.note, Actor.for_user(user))
