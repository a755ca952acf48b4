"""Servicing a parent continuity order: /continuity-orders/{sales_id}/skip, /reschedule, /substitute,
/change-card, /pause, /resume, /cancel (each with `"preview": true`), /history, /projection,
/occurrences/{seq}/explanation; and /programs/{program_id}/history."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from continuity.bootstrap import App
from continuity.domain.audit import Actor
from continuity.domain.users import User
from continuity.entrypoints import wording
from continuity.entrypoints.api.deps import Agent, AppDep, Manager
from continuity.entrypoints.api.routes import READ, WRITE, ProgramId, SalesId, errors
from continuity.entrypoints.api.schemas_servicing import (
    CancelIn,
    ChangeCardIn,
    ChangeIn,
    ChangeOut,
    ExplanationOut,
    HistoryEntryOut,
    PauseIn,
    ProjectionOut,
    RescheduleIn,
    ResumeIn,
    SkipIn,
    SubstituteIn,
)
from continuity.services import history, servicing
from continuity.services.projection import DEFAULT_COUNT, order_projection
from continuity.services.servicing import Change

router = APIRouter(tags=["servicing"])
BASE = "/continuity-orders/{sales_id}"
Count = Annotated[int, Query(ge=1, le=100, description="How many shipments and charges.")]
SeqPath = Annotated[int, Path(ge=1, le=100000, description="The occurrence's sequence number.")]
CHANGE_ERRORS = errors(*WRITE, 402)


def _run(app: App, user: User, sales_id: str, body: ChangeIn, change: Change) -> dict[str, Any]:
    """The change with what every change's body has (reason, line_no), previewed or applied as it says."""
    change = replace(change, reason=body.reason, line_no=body.line_no)
    if body.preview:
        return wording.change_json(servicing.preview(app.uow, app.clock, sales_id, change))
    return wording.change_json(servicing.apply(app.uow, app.gateway, app.clock, sales_id, change, Actor.for_user(user)))


@router.post(BASE + "/skip", response_model=ChangeOut, responses=CHANGE_ERRORS)
def skip(sales_id: SalesId, body: SkipIn, app: AppDep, user: Agent) -> dict[str, Any]:
    """Skip one pending occurrence: it never ships (installments are shared out again)."""
    return _run(app, user, sales_id, body, Change("skip", seq=body.seq))


@router.post(BASE + "/reschedule", response_model=ChangeOut, responses=CHANGE_ERRORS)
def reschedule(sales_id: SalesId, body: RescheduleIn, app: AppDep, user: Agent) -> dict[str, Any]:
    """Move one occurrence (or, with `following`, it and all later ones) to `date` or by `days`."""
    change = Change("reschedule", seq=body.seq, new_date=body.date_, days=body.days, following=body.following)
    return _run(app, user, sales_id, body, change)


@router.post(BASE + "/substitute", response_model=ChangeOut, responses=CHANGE_ERRORS)
def substitute(sales_id: SalesId, body: SubstituteIn, app: AppDep, user: Agent) -> dict[str, Any]:
    """Ship another item, at its price, for one pending occurrence."""
    change = Change("substitute", seq=body.seq, item_id=body.item_id)
    return _run(app, user, sales_id, body, change)


@router.post(BASE + "/change-card", response_model=ChangeOut, responses=CHANGE_ERRORS)
def change_card(sales_id: SalesId, body: ChangeCardIn, app: AppDep, user: Agent) -> dict[str, Any]:
    """Charge a new card (tokenized by the gateway) from now on; declined installments are retried by the next
    process-payments; charges with an unknown outcome are looked up under their own key first."""
    change = Change("change_card", card_number=body.card_number, expiry=body.expiry, payment_method=body.payment_method)
    return _run(app, user, sales_id, body, change)


@router.post(BASE + "/pause", response_model=ChangeOut, responses=CHANGE_ERRORS)
def pause(sales_id: SalesId, body: PauseIn, app: AppDep, user: Agent) -> dict[str, Any]:
    """Pause from a day: the occurrences shipping from then on are held until the order is resumed; the
    earlier pending ones still ship."""
    return _run(app, user, sales_id, body, Change("pause", on=body.from_))


@router.post(BASE + "/resume", response_model=ChangeOut, responses=CHANGE_ERRORS)
def resume(sales_id: SalesId, body: ResumeIn, app: AppDep, user: Agent) -> dict[str, Any]:
    """Resume a paused order: pending occurrences from the pause on move by its length."""
    return _run(app, user, sales_id, body, Change("resume", on=body.on))


@router.post(BASE + "/cancel", response_model=ChangeOut, responses=CHANGE_ERRORS)
def cancel(sales_id: SalesId, body: CancelIn, app: AppDep, user: Agent) -> dict[str, Any]:
    """Cancel from a day: pending occurrences and unpaid installments are cancelled, what was paid and not
    shipped is refunded; close-orders then closes the order."""
    return _run(app, user, sales_id, body, Change("cancel", on=body.from_))


@router.get(BASE + "/projection", response_model=ProjectionOut, responses=errors(*READ))
def projection(sales_id: SalesId, app: AppDep, _: Agent, count: Count = DEFAULT_COUNT) -> dict[str, Any]:
    """The next shipments and charges, as the batch jobs will make them."""
    return wording.projection_json(order_projection(app.uow, app.clock.today(), sales_id, count))


@router.get(BASE + "/history", response_model=list[HistoryEntryOut], responses=errors(*READ))
def order_history(sales_id: SalesId, app: AppDep, _: Agent) -> list[history.HistoryEntry]:
    """Every change to the order, newest first: audit trail, child orders created, payment attempts."""
    return history.order_history(app.uow, sales_id)


@router.get(BASE + "/occurrences/{seq}/explanation", response_model=ExplanationOut, responses=errors(*READ))
def explanation(sales_id: SalesId, seq: SeqPath, app: AppDep, _: Agent) -> dict[str, Any]:
    """Why the occurrence ships on its date: one sentence, plus its code and parameters (for translation)."""
    return wording.explanation_json(history.explain(app.uow, sales_id, seq))


@router.get("/programs/{program_id}/history", response_model=list[HistoryEntryOut], responses=errors(*READ))
def program_history(program_id: ProgramId, app: AppDep, _: Manager) -> list[history.HistoryEntry]:
    """Every change to the program (setup, jobs), newest first."""
    return history.program_history(app.uow, program_id)
