"""The order page: a continuity order's schedule, installments, payments and history (any order works)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from continuity.entrypoints.web.auth import Agent
from continuity.entrypoints.web.templating import render
from continuity.entrypoints.web.view_models import order_page

router = APIRouter(include_in_schema=False)


@router.get("/orders/{sales_id}")
def order(request: Request, user: Agent, sales_id: str) -> Response:
    return render(request, "agent/order.html", **order_page(request.app.state.continuity, sales_id))
