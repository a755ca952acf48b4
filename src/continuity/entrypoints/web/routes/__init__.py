"""The web UI's routers. The agent side (login, customer service, order entry, order pages) is listed
here; the manager pages (setup, jobs, dashboard) are included by web.app."""

from __future__ import annotations

from fastapi import APIRouter


def agent_routes() -> list[APIRouter]:
    from continuity.entrypoints.web.routes import (
        calls,
        customer_form,
        customer_service,
        holds_page,
        login,
        order_entry,
        order_page,
        review_page,
    )

    return [
        login.router,
        customer_form.router,  # first: /customers/new is not the page of a customer numbered "new"
        customer_service.router,
        order_entry.router,
        order_page.router,
        calls.router,
        holds_page.router,
        review_page.router,
    ]
