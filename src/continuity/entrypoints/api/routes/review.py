"""The payment review: GET /payment-review, and per installment …/retry, …/change-card, …/waive, …/settle;
/payment-review/{sales_id}/cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from continuity.domain.audit import Actor
from continuity.entrypoints.api.deps import Agent, AppDep
from continuity.entrypoints.api.routes import READ, WRITE, SalesId, errors
from continuity.entrypoints.api.schemas_holds import (
    ActionOut,
    ReviewCancelIn,
    ReviewCancelOut,
    ReviewChangeCardIn,
    ReviewItemOut,
    SettleIn,
    WaiveIn,
)
from continuity.services import payment_review

router = APIRouter(tags=["payment review"])
BASE = "/payment-review/{sales_id}/installments/{line_no}/{seq}"
LineNo = Annotated[int, Path(ge=0, le=1000, description="The installment's line (0: a child order's own charge).")]
Seq = Annotated[int, Path(ge=1, le=100000, description="The installment's number.")]


@router.get("/payment-review", response_model=list[ReviewItemOut], responses=errors(*READ))
def worklist(app: AppDep, _: Agent) -> list[payment_review.ReviewItem]:
    """Installments whose retries are used up, cards expiring before their next shipment, charges whose
    outcome is unknown for more than a day."""
    return payment_review.worklist(app.job_deps(), app.payment_review_reads(), app.clock.today())


@router.post(BASE + "/retry", response_model=ActionOut, responses=errors(*WRITE))
def retry(sales_id: SalesId, line_no: LineNo, seq: Seq, app: AppDep, user: Agent) -> payment_review.ActionView:
    """Charge the installment now, claimed as process-payments claims it (never both at once); an unknown
    outcome is looked up under its own key."""
    return payment_review.retry_now(app.job_deps(), sales_id, line_no, seq, Actor.for_user(user))


@router.post(BASE + "/change-card", response_model=ActionOut, responses=errors(*WRITE, 402))
def change_card(
    sales_id: SalesId, line_no: LineNo, seq: Seq, body: ReviewChangeCardIn, app: AppDep, user: Agent
) -> payment_review.ActionView:
    """Change the continuity order's card, then retry the installment on it."""
    return payment_review.change_card_and_retry(
        app.job_deps(), sales_id, line_no, seq, Actor.for_user(user), body.card_number, body.expiry, body.payment_method
    )


@router.post(BASE + "/waive", response_model=ActionOut, responses=errors(*WRITE))
def waive(
    sales_id: SalesId, line_no: LineNo, seq: Seq, body: WaiveIn, app: AppDep, user: Agent
) -> payment_review.ActionView:
    """Charge nothing more for the installment (cancelled, with the reason); its held children are released."""
    return payment_review.waive(app.job_deps(), sales_id, line_no, seq, body.reason, Actor.for_user(user))


@router.post(BASE + "/settle", response_model=ActionOut, responses=errors(*WRITE))
def settle(
    sales_id: SalesId, line_no: LineNo, seq: Seq, body: SettleIn, app: AppDep, user: Agent
) -> payment_review.ActionView:
    """A manual payment (bank transfer, cheque, cash) settles the installment: paid, no retry left for it,
    no date moves."""
    actor = Actor.for_user(user)
    return payment_review.settle_manually(app.job_deps(), sales_id, line_no, seq, body.method, body.reference, actor)


@router.post("/payment-review/{sales_id}/cancel", response_model=ReviewCancelOut, responses=errors(*WRITE, 402))
def cancel(sales_id: SalesId, body: ReviewCancelIn, app: AppDep, user: Agent) -> dict[str, object]:
    """Cancel the continuity order from today (the servicing cancel)."""
    result = payment_review.cancel_order(app.job_deps(), sales_id, body.reason, Actor.for_user(user))
    return {"sales_id": result["sales_id"], "applied": result["applied"]}
