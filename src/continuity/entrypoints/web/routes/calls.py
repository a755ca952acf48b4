"""On a call: the search's results as the agent types (an HTML fragment that static/app.js puts under the
search box; the search form itself still works without JavaScript) and the agent's note of the call on the
customer's timeline."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from continuity.domain.audit import Actor
from continuity.domain.card import looks_like_card_number
from continuity.domain.errors import DomainError, NotFound
from continuity.entrypoints.web import flash, i18n
from continuity.entrypoints.web.auth import Agent, Form
from continuity.entrypoints.web.messages import error_text
from continuity.entrypoints.web.session import language_of
from continuity.entrypoints.web.templating import render
from continuity.services import customer_timeline, customers

router = APIRouter(include_in_schema=False)
LIVE_RESULTS = 10


@router.get("/search")
def live_results(request: Request, user: Agent, q: Annotated[str, Query(max_length=100)] = "") -> Response:
    """The customers matching what is typed so far, as a fragment (no page around it)."""
    text = q.strip()
    if looks_like_card_number(text):  # never searched, never echoed
        return render(request, "calls/_results.html", q="", card_number=True)
    try:
        found = customers.find(request.app.state.continuity.uow, text, LIVE_RESULTS + 1) if text else []
    except DomainError:  # e.g. only '*': nothing to search yet
        found = []
    return render(request, "calls/_results.html", q=text, results=found[:LIVE_RESULTS], more=len(found) > LIVE_RESULTS)


def N_(text: str) -> str:
    """Marks a msgid; translated when shown."""
    return text


#: a refused note, worded for the agent (other codes: the agent's messages)
NOTE_ERRORS = {
    "note_empty": N_("Write what the call was about before saving the note."),
    "note_too_long": N_("The note is too long: at most 2,000 characters."),
    "text_control_character": N_("Remove the control or text-direction character from the note."),
}


@router.post("/customers/{account}/notes")
def add_note(request: Request, user: Agent, account: str, form: Form) -> Response:
    """The agent's note of this call (audited); post-redirect-get back to the customer's timeline."""
    app = request.app.state.continuity
    text = str(form.get("note", ""))
    back = f"/customers/{quote(account)}"
    try:
        customer_timeline.add_note(app.uow, app.clock, Actor.for_user(user), account, text)
    except NotFound:
        raise
    except DomainError as exc:
        msgid = NOTE_ERRORS.get(exc.code)
        error = i18n.translations(language_of(request)).gettext(msgid) if msgid else error_text(request, exc)
        return flash.redirect(request, back, error=error, values={"note": text}, data={"form": "note"})
    return RedirectResponse(f"{back}?note=saved#timeline-title", status_code=303)
