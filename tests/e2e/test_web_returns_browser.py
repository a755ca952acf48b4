"""A return in Debian's Chromium (Playwright) against a real `continuity serve`: an agent opens a shipped and
invoiced child order of the demo customer, returns one of its two items with a reason, sees the credit note
confirmed and listed on the child's and the parent's page, and the return in the history; a return of more
than is left comes back with the error and what was typed. Screenshots: test-artifacts/screenshots/40-*.png."""

from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest
from web_support import AGENT, TODAY, browser, login, page, screenshot, web_server  # noqa: F401

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services import order_entry, payment_entry
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_all

PAN = "4111111111111111"


@pytest.fixture(scope="module")
def shipped(web_server) -> tuple[str, str]:  # noqa: F811
    """Karen Berg's TRILOGY order of two (paid per shipment); the nightly runs of Nov 23 and 26 (with the
    warehouse's stand-in) ship and invoice its first child order."""
    app = bootstrap(Settings(web_server.database_url, None, None), clock=FixedClock(TODAY))
    try:
        parent = order_entry.create_order_with_line(app.uow, app.clock, "004007", "0016", 2)
        payment_entry.add_card_payment(app.uow, app.gateway, app.clock, parent, PAN, "12/30")
        payment_entry.submit(app.uow, app.gateway, app.clock, parent)
        for day in (TODAY, date(2026, 11, 26)):
            run_all(app.job_deps(), JobRequest(day), fulfil=True)
    finally:
        app.engine.dispose()
    with sqlite3.connect(web_server.database) as db:
        child = db.execute("SELECT sales_id, status FROM sales_orders WHERE parent_sales_id = ?", (parent,)).fetchone()
    assert child[1] == "invoiced"
    return parent, child[0]


def text(page) -> str:  # noqa: F811
    return re.sub(r"[\u00a0\u202f]", " ", page.inner_text("body"))


def test_an_agent_returns_an_item_of_a_shipped_child_order(web_server, page, shipped):  # noqa: F811
    parent, child = shipped
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/orders/{parent}")
    page.click(f"a[href='/orders/{child}']")
    page.wait_for_selector("#returns form")
    screenshot(page, "40-child-order-return-form")

    page.fill("#return-quantity", "1")
    page.select_option("#return-reason", "DAMAGED")
    page.fill("#return-note", "cover torn")
    with page.expect_navigation():
        page.click("#returns button[type=submit]")
    page.wait_for_selector("#returned")
    confirmed = page.inner_text("#returned")
    assert "CN-000001" in confirmed and "14.95" in confirmed
    assert "CN-000001" in page.inner_text("#credit-notes") and "approved" in page.inner_text("#credit-notes")
    assert "Goods returned: credit note CN-000001" in text(page)
    screenshot(page, "41-return-confirmed")

    page.fill("#return-quantity", "2")
    page.fill("#return-note", "both")
    with page.expect_navigation():
        page.click("#returns button[type=submit]")
    page.wait_for_selector("#return-error")
    assert "at most 1" in page.inner_text("#return-error")
    assert page.input_value("#return-quantity") == "2" and page.input_value("#return-note") == "both"
    screenshot(page, "42-return-refused")

    page.goto(f"{web_server.url}/orders/{parent}")
    assert "CN-000001" in page.inner_text("#credit-notes")
    with sqlite3.connect(web_server.database) as db:
        ledger = db.execute(
            "SELECT g.amount_minor, g.outcome FROM test_gateway_ledger g JOIN credit_notes c "
            "ON c.refund_key = g.idempotency_key"
        ).fetchall()
    assert ledger == [(1495, "approved")]  # the gateway's own ledger: one refund, the credit note's amount
