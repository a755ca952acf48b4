"""The payment review page for agents (GET /payment-review): the worklist of services.payment_review and,
per installment, Retry now, Change card and retry, Waive (with a reason) and Settle (a manual payment); the
order's Cancel goes to the servicing cancel (its preview first). Each POST answers 303 to the page, which
confirms it (``?done=…&order=…``); a refusal comes back once with its error in the agent's language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from continuity.domain.audit import Actor
from continuity.domain.errors import DomainError
from continuity.domain.money import Money
from continuity.entrypoints.web import flash
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.messages import error_text
from continuity.entrypoints.web.templating import render
from continuity.services import payment_entry, payment_review

router = APIRouter(include_in_schema=False)
PAGE = "/payment-review"
BASE = PAGE + "/{sales_id}/{line_no}/{seq}"
DONE = ("retried", "looked_up", "card_changed", "waived", "paid_manually")


@router.get(PAGE)
def review(request: Request, user: Agent) -> Response:
    app = request.app.state.continuity
    items = payment_review.worklist(app.job_deps(), app.payment_review_reads(), app.clock.today())
    typed, query = flash.take(request), request.query_params
    return render(
        request,
        "agent/payment_review.html",
        items=[_shown(i) for i in items],
        methods=payment_review.MANUAL_METHODS,
        takes_cards=payment_entry.takes_card_numbers(app.gateway),
        done=query.get("done") if query.get("done") in DONE else None,
        done_order=query.get("order", "")[:60],
        outcome=query.get("outcome", "")[:20],
        error=typed.error,
    )


def _shown(item: payment_review.ReviewItem) -> dict[str, Any]:
    amount = Money(Decimal(item["amount"]), item["currency"]) if item["amount"] and item["currency"] else None
    sales_id = item["sales_id"]  # a child order's own charge (PARENT-LINE-SEQ) is serviced on its parent
    parent = sales_id.rsplit("-", 2)[0] if sales_id.count("-") >= 3 else sales_id
    return {**item, "money": amount, "parent": parent, "key": f"{item['sales_id']}-{item['line_no']}-{item['seq']}"}


@router.post(BASE + "/{action}")
async def act(request: Request, user: Agent, sales_id: str, line_no: int, seq: int, action: str) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "")[:500] for k in ("reason", "method", "reference", "card_number", "expiry")}
    return await run_in_threadpool(_act, request, user, sales_id, line_no, seq, action, values)


def _act(
    request: Request, user: Any, sales_id: str, line_no: int, seq: int, action: str, v: dict[str, str]
) -> Response:
    app, actor = request.app.state.continuity, Actor.for_user(user)
    deps = app.job_deps()
    try:
        if action == "retry":
            done = payment_review.retry_now(deps, sales_id, line_no, seq, actor)
        elif action == "change-card":
            done = payment_review.change_card_and_retry(
                deps, sales_id, line_no, seq, actor, v["card_number"].strip(), v["expiry"].strip()
            )
        elif action == "waive":
            done = payment_review.waive(deps, sales_id, line_no, seq, v["reason"], actor)
        elif action == "settle":
            done = payment_review.settle_manually(deps, sales_id, line_no, seq, v["method"], v["reference"], actor)
        else:
            return RedirectResponse(PAGE, 303)
    except DomainError as exc:  # never the card number back in the flash
        return flash.redirect(request, PAGE, error=error_text(request, exc))
    query = {"done": done["action"], "order": done["sales_id"], "outcome": done["outcome"]}
    return RedirectResponse(f"{PAGE}?{urlencode(query)}", 303)
