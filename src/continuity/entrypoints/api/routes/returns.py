"""/sales-orders/{sales_id}/returns and /credit-notes (a return of a shipped child order, its credit notes)
and /return-reasons (set-up data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from continuity.domain.audit import Actor
from continuity.domain.returns import ReturnReason
from continuity.entrypoints.api.deps import Agent, AppDep, Manager
from continuity.entrypoints.api.routes import READ, WRITE, SalesId, errors
from continuity.entrypoints.api.schemas_returns import (
    CreditNoteOut,
    ReturnIn,
    ReturnOut,
    ReturnReasonIn,
    ReturnReasonOut,
)
from continuity.services import returns
from continuity.services.returns import CreditNoteView, ReasonView, ReturnRequest, ReturnResult

router = APIRouter(tags=["returns"])
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9_]{1,20}$", examples=["DAMAGED"], description="A return reason.")]


@router.post("/sales-orders/{sales_id}/returns", status_code=201, response_model=ReturnOut, responses=errors(*WRITE))
def return_goods(sales_id: SalesId, body: ReturnIn, app: AppDep, user: Agent) -> ReturnResult:
    """Return goods of a shipped and invoiced child order: a credit note and a refund of what was captured
    (never more than was shipped or captured); the program's return action then continues, replaces (a new
    child order at no charge) or cancels the rest of the schedule."""
    request = ReturnRequest(sales_id, body.line_no, body.quantity, body.reason_code.upper(), body.note)
    return returns.return_goods(app.uow, app.gateway, app.clock, request, Actor.for_user(user))


@router.get("/sales-orders/{sales_id}/credit-notes", response_model=list[CreditNoteOut], responses=errors(*READ))
def credit_notes(sales_id: SalesId, app: AppDep, _: Agent) -> list[CreditNoteView]:
    """The credit notes of a child order, or of every child of a parent order, oldest first."""
    return returns.credit_note_views(app.uow, sales_id)


@router.get("/return-reasons", response_model=list[ReturnReasonOut], responses=errors(*READ))
def return_reasons(app: AppDep, _: Agent) -> list[ReasonView]:
    return [returns.reason_view(r) for r in returns.reasons(app.uow)]


@router.put("/return-reasons/{code}", response_model=ReturnReasonOut, responses=errors(*WRITE))
def save_return_reason(code: Code, body: ReturnReasonIn, app: AppDep, _: Manager) -> ReasonView:
    """Add a return reason or change it (``active`` false: no longer offered for new returns)."""
    reason = returns.save_reason(app.uow, ReturnReason(code.upper(), body.description, body.active))
    return returns.reason_view(reason)
