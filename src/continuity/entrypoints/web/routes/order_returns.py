"""Returns from the order page: a shipped and invoiced child order shows a Return form (line, quantity,
reason, note); POST /orders/{id}/return makes the return (services.returns.return_goods: a credit note,
the refund, the program's return action) and redirects (303) to the order page, which confirms it; a
refused return redirects back with the error (in the agent's language) and the values typed, once, in
the flash. The order page (agent/order.html) includes templates/returns/_returns.html, which reads
``returns_view(request, order)`` (a template global set here): the form and the order's credit notes
(a parent's: those of all its children)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from continuity.domain.audit import Actor
from continuity.domain.errors import DomainError, ValidationFailed
from continuity.domain.money import Money
from continuity.domain.users import User
from continuity.entrypoints.web import flash, i18n
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.session import language_of
from continuity.entrypoints.web.templating import env
from continuity.services import returns
from continuity.services.returns import ReturnRequest

router = APIRouter(include_in_schema=False)
FIELDS = ("line_no", "quantity", "reason_code", "note")


def N_(text: str) -> str:
    return text


#: The refusals of a return, by code, in the agent's words.
MESSAGES = {
    "return_quantity_invalid": N_("Type how many came back: a whole number, at least 1."),
    "return_quantity_exceeds_shipped": N_(
        "That is more than was shipped on this line and not returned before: at most %(returnable)s."
    ),
    "refund_exceeds_captured": N_("The refund would be more than this order was charged: at most %(refundable)s."),
    "return_not_invoiced": N_("Only a shipped and invoiced order can be returned."),
    "not_a_child_order": N_("Only a child order (one shipment) can be returned."),
    "line_not_found": N_("Choose a line of this order."),
    "return_reason_not_found": N_("Choose a return reason."),
    "return_reason_inactive": N_("That return reason is no longer used: choose another."),
    "card_missing": N_("The order has no card to refund to."),
    "payment_outcome_unknown": N_(
        "A charge of the parent order got no answer yet; run reconcile-payments before cancelling the rest."
    ),
}
#: What the confirmation and the list of credit notes say.
TEXTS = (
    N_("Return"),
    N_("Return goods"),
    N_("Returns and credit notes"),
    N_("Credit note"),
    N_("Returned"),
    N_("Schedule"),
    N_("Credit note %(credit_note)s made: %(amount)s refunded."),
    N_("Replacement order %(order)s"),
    N_("The rest of the schedule is cancelled."),
    N_("The refund got no answer from the card gateway yet; reconcile-payments resolves it. Do not refund again."),
    N_("The goods come back; the card is refunded what was charged for them."),
)
ACTIONS = {
    "continue": N_("The schedule continues."),
    "replace": N_("Shipped again at no charge."),
    "cancel_remaining": N_("The rest of the schedule is cancelled."),
}


@router.post("/orders/{sales_id}/return")
async def return_post(request: Request, user: Agent, sales_id: str) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "")[:200].strip() for k in FIELDS}
    return await run_in_threadpool(_return, request, user, sales_id, values)


def _return(request: Request, user: User, sales_id: str, values: dict[str, str]) -> Response:
    app = request.app.state.continuity
    try:
        req = ReturnRequest(
            sales_id,
            _whole(values["line_no"], "line_not_found"),
            _whole(values["quantity"]),
            values["reason_code"],
            values["note"],
        )
        result = returns.return_goods(app.uow, app.gateway, app.clock, req, Actor.for_user(user))
    except DomainError as exc:
        return flash.redirect(request, f"/orders/{sales_id}", error=_text(request, exc), values=values)
    return RedirectResponse(f"/orders/{sales_id}?returned={result['credit_note']}#returns", 303)


def _whole(text: str, code: str = "return_quantity_invalid") -> int:
    if not text.isdigit() or len(text) > 6:
        raise ValidationFailed(f"not a whole number: {text!r}", code)
    return int(text)


def _text(request: Request, exc: DomainError) -> str:
    msgid = MESSAGES.get(exc.code)
    if msgid is None:
        return exc.message
    text = i18n.translations(language_of(request)).gettext(msgid)
    params = {k: _amount(v, exc.params.get("currency")) for k, v in exc.params.items()}
    try:
        return text % params if "%(" in text else text
    except (KeyError, ValueError):
        return exc.message


def _amount(value: object, currency: object) -> object:
    if isinstance(value, str) and isinstance(currency, str) and "." in value:
        return f"{value} {currency}"
    return value


def returns_view(request: Request, order: dict[str, Any]) -> dict[str, Any]:
    """The order page's Returns card: the form (a shipped and invoiced child order), the credit notes."""
    app = request.app.state.continuity
    typed = flash.take(request)
    notes = returns.credit_note_views(app.uow, order["sales_id"])
    for n in notes:
        n["money"] = Money(Decimal(n["amount"]), n["currency"])  # type: ignore[typeddict-unknown-key]
    returnable = bool(order.get("parent_sales_id")) and order.get("status") == "invoiced"
    just = next((n for n in notes if n["credit_note"] == request.query_params.get("returned")), None)
    return {
        "returnable": returnable,
        "reasons": returns.reasons(app.uow, active_only=True) if returnable else [],
        "notes": notes,
        "just": just,
        "action_text": ACTIONS,
        "error": typed.error,
        "typed": typed.values
        or {"line_no": str(order["lines"][0]["line_no"]) if order["lines"] else "", "quantity": "1"},
    }


env.globals["returns_view"] = returns_view
