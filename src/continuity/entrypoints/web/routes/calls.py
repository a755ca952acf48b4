"""On a call: the search's results as the agent types (an HTML fragment that static/app.js puts under the
search box; the search form itself still works without JavaScript)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from continuity.domain.card import looks_like_card_number
from continuity.domain.errors import DomainError
from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.templating import render
from continuity.services import customers

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
