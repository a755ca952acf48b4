"""Holds on the order page: an agent or a manager puts an open or released order on hold with a manual hold
code and a note, and clears a manual hold with a note (services.holds; both in the order's history).

POST /orders/{id}/hold and /orders/{id}/clear-hold answer 303 to the order page, which confirms it
(``?hold=held`` or ``?hold=cleared``); a refusal goes back to it with the error in the agent's language
and the note typed, once, in the flash. The order page includes templates/agent/_hold.html, which reads
``hold_view(request, order)`` (a template global set here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from continuity.domain.audit import Actor
from continuity.domain.errors import DomainError
from continuity.domain.holds import HoldKind
from continuity.domain.sales_order import HOLDABLE, OrderStatus
from continuity.entrypoints.web import flash, i18n
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.messages import HOLD_CODE_TEXTS, error_text
from continuity.entrypoints.web.session import language_of
from continuity.entrypoints.web.templating import env
from continuity.services import holds

router = APIRouter(include_in_schema=False)
NOTE_MAX = 500
DONE = ("held", "cleared")  # the order page's confirmation after a hold or its clearing (_hold.html)


def code_text(request: Request, code: holds.HoldCodeView | None, fallback: str = "") -> str:
    """A hold code in the agent's language: a built-in one from the catalogs, one a manager added by its
    description (as typed)."""
    if code is None:
        return fallback
    msgid = HOLD_CODE_TEXTS.get(code["code"])
    if msgid is None:
        return code["description"]
    return i18n.translations(language_of(request)).gettext(msgid)


def hold_view(request: Request, order: dict[str, Any]) -> dict[str, Any]:
    """What the order page's hold section shows: the code of the hold, whether it may be cleared by hand or
    the order put on hold, the manual codes to pick from, and the last hold's confirmation or error."""
    app = request.app.state.continuity
    codes = {c["code"]: c for c in holds.hold_codes(app.uow)}
    current = codes.get(order.get("hold_code") or "")
    typed = flash.take(request)
    on_hold = order["status"] == OrderStatus.ON_HOLD
    return {
        "code": code_text(request, current, order.get("hold_code") or ""),
        "on_hold": on_hold,
        "can_clear": on_hold and current is not None and current["kind"] == HoldKind.MANUAL,
        "can_hold": order["status"] in HOLDABLE,
        "codes": [
            {"code": c["code"], "text": code_text(request, c)} for c in codes.values() if c["kind"] == HoldKind.MANUAL
        ],
        "done": request.query_params.get("hold") if request.query_params.get("hold") in DONE else None,
        "error": typed.error,
        "note": typed.value("note"),
        "picked": typed.value("code"),
    }


@router.post("/orders/{sales_id}/hold")
async def hold(request: Request, user: Agent, sales_id: str) -> Response:
    form = await request.form()
    code, note = str(form.get("code") or "")[:40], str(form.get("note") or "")[: NOTE_MAX + 1]
    app = request.app.state.continuity

    def put() -> None:
        holds.put_on_hold(app.uow, app.clock, sales_id, code, note, Actor.for_user(user))

    return await run_in_threadpool(_done, request, sales_id, put, "held", {"code": code, "note": note})


@router.post("/orders/{sales_id}/clear-hold")
async def clear_hold(request: Request, user: Agent, sales_id: str) -> Response:
    form = await request.form()
    note = str(form.get("note") or "")[: NOTE_MAX + 1]
    app = request.app.state.continuity

    def clear() -> None:
        holds.clear_hold(app.uow, app.clock, sales_id, note, Actor.for_user(user))

    return await run_in_threadpool(_done, request, sales_id, clear, "cleared", {"note": note})


def _done(request: Request, sales_id: str, change: Any, done: str, typed: dict[str, str]) -> Response:
    page = f"/orders/{sales_id}"
    try:
        change()
    except DomainError as exc:
        if exc.code == "sales_order_not_found":
            raise
        return flash.redirect(request, page, error=error_text(request, exc), values=typed)
    return RedirectResponse(f"{page}?hold={done}#hold-title", 303)


env.globals["hold_view"] = hold_view
