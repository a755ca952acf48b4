"""Servicing a continuity order from its page: skip, reschedule, substitute, change card, pause, resume and
cancel — each previewed before it is saved, and all of it without JavaScript:

GET /orders/{id}/service/{kind} shows the form → POST with ``action=preview`` redirects (303) to
GET /orders/{id}/service/{kind}?action=preview&… (the values typed, as a query: a refresh shows the same
preview), which shows the next shipments and charges before and after side by side, the same values in
hidden fields and a Save button → POST with ``action=save`` applies the change (services.servicing.apply:
one transaction) and redirects (303) to the order page, which confirms it. A refused Save redirects back to
the form, the error (in the agent's language) and the values typed carried once in the flash; nothing is
saved. Save first previews again: when the order changed since the preview (a job ran), it redirects to the
new preview, with a notice, instead of saving something the caller was not told.

Change card: the preview needs no card number (it shows which declined or unknown charges the new card
settles), so the number is posted once, with Save, straight to the gateway's tokenizer inside
``servicing.apply``; it is never put in a hidden field, rendered back, or logged.

The order page (W1's agent/order.html) includes templates/servicing/_order_panel.html and _why.html; they
read ``servicing_view(request, order)`` (a template global set here): the actions, the confirmation of the
last save, the projection of the next shipments and charges, and "Why this date?" per occurrence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, is_dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from continuity.bootstrap import App
from continuity.domain.audit import Actor
from continuity.domain.calendar import Interval
from continuity.domain.card import Card, SavedCard, physical_card, saved_cards
from continuity.domain.errors import DomainError, ValidationFailed
from continuity.domain.free_text import mask_card_numbers
from continuity.domain.money import Money
from continuity.domain.payments import PaymentStatus
from continuity.domain.program import Product
from continuity.domain.servicing import Why
from continuity.domain.users import User
from continuity.entrypoints.web import flash, i18n
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.messages import error_text
from continuity.entrypoints.web.session import language_of
from continuity.entrypoints.web.templating import env, format_day, render
from continuity.services import history, payment_entry, servicing
from continuity.services.history import ExplainedOccurrence
from continuity.services.projection import (
    ChargeFor,
    ChargeSubject,
    ProjectedShipment,
    Projection,
    load,
    order_projection,
)
from continuity.services.servicing import ChangeResult

router = APIRouter(include_in_schema=False)
MAX_FIELD = 200
ALL = 100  # shipments read for the list of occurrences a change can pick
SHOWN = 12  # next shipments and charges shown in a preview (before and after) and on the order page


def N_(text: str) -> str:
    return text


#: URL slug → service kind, in the order the buttons appear.
KINDS = {
    "skip": "skip",
    "reschedule": "reschedule",
    "substitute": "substitute",
    "change-card": "change_card",
    "pause": "pause",
    "resume": "resume",
    "cancel": "cancel",
}
SLUG = {kind: slug for slug, kind in KINDS.items()}
TITLES = {
    "skip": N_("Skip a shipment"),
    "reschedule": N_("Reschedule"),
    "substitute": N_("Substitute the item"),
    "change_card": N_("Change card"),
    "pause": N_("Pause"),
    "resume": N_("Resume"),
    "cancel": N_("Cancel the order"),
}
SAVED = {
    "skip": N_("The shipment was skipped."),
    "reschedule": N_("The shipment was rescheduled."),
    "substitute": N_("The item was substituted."),
    "change_card": N_("The new card was saved."),
    "pause": N_("The order is paused."),
    "resume": N_("The order was resumed."),
    "cancel": N_("The order was cancelled."),
}
#: Errors of the servicing rules, by their stable code (the service's English message is the fallback).
ERRORS = {
    "date_invalid": N_("Type a valid date, for example 2027-01-31."),
    "days_invalid": N_("The number of days must be a whole number, for example 7 or -3."),
    "seq_required": N_("Pick the shipment to change."),
    "line_invalid": N_("There is no such continuity line on this order."),
    "change_incomplete": N_("Fill in every field of this change."),
    "order_not_serviceable": N_("Only an open or held order can be changed."),
    "line_not_serviceable": N_("This continuity line can no longer be changed."),
    "order_cancelled": N_("The order is cancelled: it cannot be changed any more."),
    "order_paused": N_("The order is paused: resume it first."),
    "order_not_paused": N_("The order is not paused."),
    "occurrence_not_found": N_("The order has no such shipment."),
    "occurrence_not_pending": N_(
        "That shipment has already been created or shipped: only a pending shipment can be changed."
    ),
    "reschedule_invalid": N_("Give a new date that differs from the current one, or a number of days."),
    "reschedule_out_of_order": N_(
        "The new date must stay between the shipment before and the one after; tick "
        "“and all later shipments” to move those too."
    ),
    "date_in_past": N_("The date is in the past: pick today or a later day."),
    "substitute_invalid": N_("That shipment already ships this item."),
    "item_is_parent": N_("A continuity item cannot be shipped as a substitute: pick a single item."),
    "pause_too_late": N_("A shipment is due before that day: pause from an earlier day, or skip that shipment."),
    "nothing_pending": N_("Nothing is left to ship on this order."),
    "payment_outcome_unknown": N_(
        "A charge of this order got no answer from the card company yet: the "
        "reconcile-payments job resolves it. Try again after it."
    ),
    "card_missing": N_("The order has no card to refund to."),
    "concurrent_change": N_("The order changed meanwhile (a batch job ran): look at it again and repeat the change."),
    "card_number_invalid": N_("The card number is not valid. Check the digits with the caller and type it again."),
    "card_expiry_invalid": N_("The expiry date is not valid: type it as MM/YY, for example 12/30."),
    "card_expired": N_("The card has expired. Ask the caller for another card."),
    "continuity_order_not_found": N_("This is not a continuity order."),
}
CHANGED = N_(
    "The order changed since the preview (a batch job ran). Here is the new preview: check it with "
    "the caller and save again."
)
#: "Why this date?": the sentence of each explanation code, with the service's parameters.
WHY = {
    Why.START: N_(
        "Ships on %(date)s: the order's start date %(start_date)s plus %(days)s day(s) after the order "
        "(program %(program_id)s)."
    ),
    Why.INTERVAL: N_(
        "Ships on %(date)s: %(interval)s after the previous shipment on %(previous)s (event "
        "%(event_id)s of program %(program_id)s)."
    ),
    Why.MONTH_END: N_(
        "Ships on %(date)s: %(interval)s after the previous shipment on %(previous)s; that month has "
        "no day %(day)s, so it ships on the month's last day."
    ),
    Why.MONTH_DAY: N_(
        "Ships on %(date)s: %(interval)s after the previous shipment on %(previous)s, back on day "
        "%(day)s of the month like %(anchor)s."
    ),
    Why.RESCHEDULED: N_("Ships on %(date)s: rescheduled from %(from)s."),
    Why.SHIFTED: N_(
        "Ships on %(date)s: moved %(days)s day(s) from %(from)s when shipment %(first_seq)s and the "
        "later ones were rescheduled."
    ),
    Why.PAUSED: N_(
        "Ships on %(date)s: moved %(days)s day(s) from %(from)s because the order was paused from "
        "%(pause_from)s and resumed on %(resume_on)s."
    ),
    Why.PAUSE_OPEN: N_(
        "On hold: the order is paused from %(pause_from)s; it would ship on %(date)s and moves by "
        "the length of the pause when the order is resumed."
    ),
    Why.SKIPPED: N_("Skipped: it will not ship (it was planned for %(date)s)."),
    Why.CANCELLED: N_("Cancelled: it will not ship (it was planned for %(date)s)."),
    Why.PLANNED: N_("Ships on %(date)s as planned by the program."),
}
DATE_PARAMS = ("date", "start_date", "previous", "anchor", "from", "pause_from", "resume_on")
#: What a projected charge is for, by the service's code.
CHARGE_TEXTS = {
    ChargeFor.SHIPMENT: N_("shipment %(seq)s (%(item)s)"),
    ChargeFor.SHIPMENTS: N_("shipments %(seqs)s (%(items)s) in one child order"),
    ChargeFor.INSTALLMENT: N_("installment %(seq)s of %(count)s"),
    ChargeFor.CHILD_ORDER: N_("child order %(order)s"),
}


@dataclass(frozen=True)
class Values:
    """What the agent typed, as text: rendered back into the form and carried in the preview's hidden fields.
    The card number and expiry are not part of it."""

    line: str = ""
    seq: str = ""
    how: str = "date"  # reschedule: "date" or "days"
    new_date: str = ""
    days: str = ""
    following: str = ""  # "1" when the later shipments move too
    item_id: str = ""
    on: str = ""
    reason: str = ""


FIELDS = tuple(f.name for f in fields(Values))


def values_from(source: Any) -> Values:
    defaults = Values()
    return Values(**{name: str(source.get(name) or getattr(defaults, name))[:MAX_FIELD].strip() for name in FIELDS})


class InputError(ValidationFailed):
    def __init__(self, code: str) -> None:
        super().__init__(ERRORS[code], code)


def _date(text: str, required: bool = True) -> date | None:
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("date_invalid") from None


def _int(text: str, code: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(code) from None


def to_change(
    kind: str, v: Values, card_number: str | None = None, expiry: str | None = None, payment_method: str | None = None
) -> servicing.Change:
    """The service's Change for the typed values (input errors raise InputError)."""
    line_no = _int(v.line, "line_invalid") if v.line else None
    change = servicing.Change(kind, reason=v.reason, line_no=line_no)
    if kind in ("skip", "reschedule", "substitute"):
        if not v.seq:
            raise InputError("seq_required")
        change = replace(change, seq=_int(v.seq, "seq_required"))
    if kind == "reschedule":
        by_days = v.how == "days"
        return replace(
            change,
            new_date=None if by_days else _date(v.new_date),
            days=_int(v.days, "days_invalid") if by_days else None,
            following=v.following == "1",
        )
    if kind == "substitute":
        return replace(change, item_id=v.item_id or None)
    if kind in ("pause", "resume"):
        return replace(change, on=_date(v.on))
    if kind == "cancel":
        return replace(change, on=_date(v.on, required=False))
    if kind == "change_card":
        return replace(change, card_number=card_number, expiry=expiry, payment_method=payment_method or None)
    return change


def _kind(slug: str) -> str:
    if slug not in KINDS:
        raise HTTPException(404)
    return KINDS[slug]


def _text(request: Request, exc: DomainError) -> str:
    msgid = ERRORS.get(exc.code)
    if msgid is None:
        return error_text(request, exc)
    return i18n.translations(language_of(request)).gettext(msgid)


# -- routes -----------------------------------------------------------------------------------------
@router.get("/orders/{sales_id}/service/{slug}")
def service_form(request: Request, user: Agent, sales_id: str, slug: str) -> Response:
    """The form; with ``action=preview`` (where a Preview leads) the preview of the values in the query;
    after a refused Save, the form (change card: its preview) with the error and the values typed."""
    app, kind = request.app.state.continuity, _kind(slug)
    typed, query = flash.take(request), request.query_params
    if typed.values:
        values = values_from(typed.values)
    elif query.get("action") in ("preview", "edit"):
        values = values_from(query)
    else:
        values = _defaults(app, sales_id, kind, query)
    context = _form_context(app, sales_id, kind, values)
    notice = typed.data.get("notice")
    if kind == "change_card":  # nothing to type before its preview: the number is asked for on Save
        return _preview_page(request, app, context, notice=notice, error=typed.error)
    if query.get("action") == "preview" and not typed.error:
        return _preview_page(request, app, context, notice=notice)
    return render(request, "servicing/form.html", **context, error=typed.error)


def _page_url(sales_id: str, kind: str, values: Values | None = None, action: str = "") -> str:
    """The form's address; with ``action``, the values as its query (a card number in a value is masked, as the
    service masks it in a reason: it must never travel in an address)."""
    base = f"/orders/{sales_id}/service/{SLUG[kind]}"
    query = {k: mask_card_numbers(v) for k, v in asdict(values).items() if v} if values else {}
    if action:
        query["action"] = action
    return f"{base}?{urlencode(query)}" if query else base


@router.post("/orders/{sales_id}/service/{slug}")
async def service_post(request: Request, user: Agent, sales_id: str, slug: str) -> Response:
    kind = _kind(slug)
    form = await request.form()
    action = str(form.get("action") or "preview")
    card = (
        str(form.get("card_number") or "")[:40].strip(),
        str(form.get("expiry") or "")[:10].strip(),
        str(form.get("payment_method") or "")[:120].strip(),
        str(form.get("saved_card") or "")[:100].strip(),
    )  # stripe: the card entered at Stripe; or a saved card picked
    expected = str(form.get("expected") or "")[:100]
    values = moved_by_what_was_typed(values_from(form), str(form.get("shown_date") or "")[:10])
    return await run_in_threadpool(_post, request, user, sales_id, kind, values, action, card, expected)


def moved_by_what_was_typed(v: Values, shown_date: str) -> Values:
    """Reschedule without JavaScript: the agent may type days or a date and forget the radio button, so the
    field they changed decides (the radio decides only when they changed both or neither)."""
    if not shown_date:
        return v
    by_days, by_date = bool(v.days), v.new_date != shown_date
    return replace(v, how="days" if by_days else "date") if by_days != by_date else v


def _post(
    request: Request,
    user: User,
    sales_id: str,
    kind: str,
    values: Values,
    action: str,
    card: tuple[str, str, str, str],
    expected: str,
) -> Response:
    app = request.app.state.continuity
    if action == "save":
        return _save(request, app, user, _form_context(app, sales_id, kind, values), card, expected)
    if action == "edit" and kind != "change_card":
        return RedirectResponse(_page_url(sales_id, kind, values, "edit"), 303)
    return RedirectResponse(_page_url(sales_id, kind, values, "preview"), 303)


def _preview_page(
    request: Request,
    app: App,
    context: dict[str, Any],
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    if context["kind"] == "change_card" and not payment_entry.takes_card_numbers(app.gateway):
        with app.uow() as uow:  # stripe: the new card is typed into Stripe.js (a SetupIntent), never sent to us
            account = uow.orders.get(context["sales_id"]).account
        context = {**context, "card_setup": payment_entry.card_setup(app.uow, app.gateway, account)}
    try:
        change = to_change(context["kind"], context["values"])
        context = {**context, "values": replace(context["values"], reason=change.reason)}  # as it is kept
        result = servicing.preview(app.uow, app.clock, context["sales_id"], change, SHOWN)
    except DomainError as exc:
        template = "servicing/preview.html" if context["kind"] == "change_card" else "servicing/form.html"
        return render(request, template, 422, **context, error=_text(request, exc), preview=None)
    return render(
        request,
        "servicing/preview.html",
        status,
        **context,
        **preview_view(context, result),
        error=error,
        notice=notice,
    )


def _save(
    request: Request, app: App, user: User, context: dict[str, Any], card: tuple[str, str, str, str], expected: str
) -> Response:
    kind, sales_id = context["kind"], context["sales_id"]
    try:
        current = servicing.preview(app.uow, app.clock, sales_id, to_change(kind, context["values"]), SHOWN)
        if expected and digest(current) != expected:  # the new preview, with a notice, instead
            tr = i18n.translations(language_of(request))
            notice = {"notice": tr.gettext(CHANGED)}
            return flash.redirect(request, _page_url(sales_id, kind, context["values"], "preview"), data=notice)
        change = to_change(kind, context["values"], *(_card(card, context) if kind == "change_card" else (None,) * 3))
        servicing.apply(app.uow, app.gateway, app.clock, sales_id, change, Actor.for_user(user), SHOWN)
    except DomainError as exc:  # back to the form with the error and the values typed (never the card number)
        typed = {k: v for k, v in asdict(context["values"]).items() if v}
        return flash.redirect(request, _page_url(sales_id, kind), error=_text(request, exc), values=typed)
    return RedirectResponse(f"/orders/{sales_id}?saved={SLUG[kind]}", 303)


def _card(card: tuple[str, str, str, str], context: dict[str, Any]) -> tuple[str, str, str]:
    """Change card: the number typed (it wins), else the saved card picked (one of the customer's only), which
    the service takes as a payment method it knows (no gateway call)."""
    number, expiry, payment_method, saved = card
    if not (number or expiry or payment_method) and saved in {s.card.token for s in context["cards"]}:
        return "", "", saved
    return number, expiry, payment_method


# -- what the pages show ----------------------------------------------------------------------------
def _defaults(app: App, sales_id: str, kind: str, query: Any) -> Values:
    """The form's first values: the occurrence asked for (else the next pending one), today's date."""
    today = app.clock.today().isoformat()
    line, seq = str(query.get("line") or "")[:5], str(query.get("seq") or "")[:6]
    proj = order_projection(app.uow, app.clock.today(), sales_id, ALL)
    if not line and len(proj["lines"]) > 1:  # a change is always for one line
        line = str(proj["lines"][0]["line_no"])
    pending = [s for s in proj["shipments"] if s["status"] == "pending" and (not line or str(s["line_no"]) == line)]
    chosen = next((s for s in pending if str(s["seq"]) == seq), pending[0] if pending else None)
    return Values(
        line=line, seq=str(chosen["seq"]) if chosen else "", new_date=chosen["ship_date"] if chosen else today, on=today
    )


def _shipments(app: App, sales_id: str) -> list[ProjectedShipment]:
    return order_projection(app.uow, app.clock.today(), sales_id, ALL)["shipments"]


def _form_context(app: App, sales_id: str, kind: str, values: Values) -> dict[str, Any]:
    with app.uow() as uow:
        state = load(uow, sales_id)
        products = uow.setup.products()
        account = uow.customers.get(state.order.account)
        cards = {c.token: c for c in uow.customers.cards(state.order.account)}
        last_charges = uow.customers.last_charges(state.order.account)
    if len(state.lines) > 1 and not values.line:  # a change is always for one line
        values = replace(values, line=str(state.lines[0].line.line_no))
    token = next((ls.card_token for ls in state.lines if not values.line or str(ls.line.line_no) == values.line), None)
    current = cards.get(token or "")
    names = {p.item_id: p.name for p in products}
    currency = state.order.currency
    occurrences = [
        {**s, "ship_date": date.fromisoformat(s["ship_date"]), "name": names.get(s["item_id"], "")}
        for s in _shipments(app, sales_id)
        if s["status"] == "pending" and (not values.line or str(s["line_no"]) == values.line)
    ]
    items = [p for p in products if not p.is_parent and p.price.currency == currency]
    retried = [
        {"seq": i.seq, "sales_id": i.sales_id, "due_date": i.due_date, "amount": i.amount, "status": i.status.value}
        for i in [*state.installments, *state.child_charges]
        if i.status in (PaymentStatus.DECLINED, PaymentStatus.UNKNOWN)
    ]
    return {
        "kind": kind,
        "slug": SLUG[kind],
        "title": TITLES[kind],
        "sales_id": sales_id,
        "values": values,
        "customer": account,
        "occurrences": occurrences,
        "items": items,
        "names": names,
        "retried": retried,
        "multi_line": len(state.lines) > 1,
        "current_card": saved_cards([current], last_charges, app.clock.today())[0] if current else None,
        "cards": _other_cards(list(cards.values()), current, last_charges, app.clock.today()),
        "typed": {"saved_card": ""},  # the saved cards' list starts on "(new card above)": nothing is picked
    }


def _other_cards(cards: list[Card], current: Card | None, last_charges: Any, day: date) -> list[SavedCard]:
    """The customer's saved cards the line could change to (change card): all but the line's own card."""
    mine = physical_card(current) if current else None
    return [s for s in saved_cards(cards, last_charges, day) if physical_card(s.card) != mine]


def digest(result: ChangeResult) -> str:
    """A fingerprint of what a preview promised (its ``after`` and refund), checked again on Save."""
    promised = {
        "after": {k: v for k, v in result["after"].items() if k != "as_of"},
        "refund": result["refund"],
        "voided": result.get("voided"),
    }
    return hashlib.sha256(json.dumps(promised, sort_keys=True, default=_plain).encode()).hexdigest()


def _plain(value: object) -> object:
    """A charge's subject (a dataclass) as JSON, for the digest."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def preview_view(context: dict[str, Any], result: ChangeResult) -> dict[str, Any]:
    names = context["names"]
    before = projection_view(result["before"], names)
    after = projection_view(result["after"], names)
    mark_changes(before, after)
    refund, currency = result["refund"], result["after"]["currency"]
    voided = [{**v, "amount": Money(Decimal(v["amount"]), currency)} for v in result.get("voided") or []]
    still = {row["key"] for row in after["shipments"] if row["status"] in ("pending", "paused")}
    dropped = [row for row in before["shipments"] if row["status"] in ("pending", "paused") and row["key"] not in still]
    program_before = Money(Decimal(result["program_before"]), currency)
    program_after = Money(Decimal(result["program_after"]), currency)
    return {
        "before": before,
        "after": after,
        "program_before": program_before,
        "program_after": program_after,
        "net_change": program_after - program_before,
        "expected": digest(result),
        "charge_text": charge_text,
        "refund": Money(Decimal(refund), currency) if refund else None,
        "voided": voided,
        "dropped": dropped,
    }


def projection_view(proj: Projection, names: dict[str, str]) -> dict[str, Any]:
    cur = proj["currency"]
    shipments = [
        {
            **s,
            "ship_date": date.fromisoformat(s["ship_date"]),
            "name": names.get(s["item_id"], ""),
            "amount": Money(Decimal(s["amount"]), cur),
            "key": (s["line_no"], s["seq"]),
            "changed": False,
        }
        for s in proj["shipments"]
    ]
    charges = [
        {
            **c,
            "due_date": date.fromisoformat(c["due_date"]),
            "key": (c["line_no"], c["subject"]),
            "amount": Money(Decimal(c["amount"]), c["currency"]),
            "changed": False,
        }
        for c in proj["charges"]
    ]
    return {"shipments": shipments, "charges": charges, "lines": proj["lines"], "status": proj["status"]}


def mark_changes(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Rows of the "after" side that differ from (or are not on) the "before" side are marked."""
    for part, compared in (
        ("shipments", ("ship_date", "item_id", "status", "amount")),
        ("charges", ("due_date", "amount")),
    ):
        old = {row["key"]: row for row in before[part]}
        for row in after[part]:
            was = old.get(row["key"])
            row["changed"] = was is None or any(was[k] != row[k] for k in compared)


def charge_text(gettext: Callable[[str], str], subject: ChargeSubject) -> str:
    """What a charge is for, in the agent's language."""
    params = {
        "seq": subject.seqs[0] if subject.seqs else "",
        "seqs": ", ".join(str(seq) for seq in subject.seqs),
        "item": subject.item_ids[0] if subject.item_ids else "",
        "items": ", ".join(subject.item_ids),
        "count": subject.of,
        "order": subject.sales_id,
    }
    return gettext(CHARGE_TEXTS[subject.code]) % params


def why_text(request: Request, explained: ExplainedOccurrence) -> str:
    """The explanation sentence in the agent's language ("as planned" when a parameter does not fit)."""
    lang = language_of(request)
    tr, locale = i18n.translations(lang), i18n.locale(lang)
    params = dict(explained.why.params)
    try:
        for name in DATE_PARAMS:
            if name in params:
                params[name] = format_day(params[name], locale)
        if "interval" in params:
            interval = Interval.parse(str(params["interval"]))
            unit = (
                tr.ngettext("%(num)d month", "%(num)d months", interval.count)
                if interval.unit == "months"
                else tr.ngettext("%(num)d day", "%(num)d days", interval.count)
            )
            params["interval"] = unit % {"num": interval.count}
        return tr.gettext(WHY[explained.why.code]) % params
    except (KeyError, ValueError, TypeError, DomainError):
        return tr.gettext(WHY[Why.PLANNED]) % {"date": format_day(explained.ship_date, locale)}


def servicing_view(request: Request, order: dict[str, Any]) -> dict[str, Any] | None:
    """What the order page shows of servicing (None for an order that is not a continuity parent)."""
    if not order.get("is_continuity_parent"):
        return None
    app = request.app.state.continuity
    sales_id = order["sales_id"]
    try:
        names = {p.item_id: p.name for p in _products(app)}
        proj = projection_view(order_projection(app.uow, app.clock.today(), sales_id, SHOWN), names)
    except DomainError:
        return None
    seqs = {
        (line["line_no"], occ["seq"])
        for line in order["lines"]
        if line.get("continuity")
        for occ in line["continuity"]["schedule"]
    } | {s["key"] for s in proj["shipments"]}
    why = {}
    for line_no, seq in sorted(seqs):
        try:
            why[(line_no, seq)] = why_text(request, history.explain(app.uow, sales_id, seq, line_no))
        except DomainError:
            continue
    saved = request.query_params.get("saved", "")
    return {
        "projection": proj,
        "why": why,
        "actions": _actions(order, proj),
        "saved": SAVED.get(KINDS.get(saved, ""), None),
        "charge_text": charge_text,
    }


def _products(app: App) -> list[Product]:
    with app.uow() as uow:
        return uow.setup.products()


def _actions(order: dict[str, Any], proj: dict[str, Any]) -> list[dict[str, Any]]:
    """The servicing buttons of each continuity line (none once the order is no longer open or held)."""
    if order["status"] not in ("open", "on_hold"):
        return []
    result = []
    several = len(proj["lines"]) > 1
    for line in proj["lines"]:
        pending = any(
            s["line_no"] == line["line_no"] and s["status"] in ("pending", "paused") for s in proj["shipments"]
        )
        if line["status"] == "paused":
            kinds: tuple[str, ...] = ("resume", "skip", "change_card", "cancel")
        elif line["status"] == "open" and pending:
            kinds = ("skip", "reschedule", "substitute", "change_card", "pause", "cancel")
        elif line["status"] == "open" and proj["charges"]:  # cancelled or all created: a card for what is due
            kinds = ("change_card",)
        else:
            continue
        query = f"?line={line['line_no']}" if several else ""
        result.append(
            {
                "line_no": line["line_no"],
                "several": several,
                "buttons": [
                    {"kind": k, "title": TITLES[k], "href": f"/orders/{order['sales_id']}/service/{SLUG[k]}{query}"}
                    for k in kinds
                ],
            }
        )
    return result


env.globals["servicing_view"] = servicing_view
