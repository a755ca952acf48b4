"""Issue 18 "Done when": axe-core (from npm, loaded from a file: axe_support) reports 0 violations on every
page an agent and a manager reach in the demo, in Debian's Chromium (Playwright) against a real `continuity
serve`. Besides axe's default rules the experimental ``label-content-name-mismatch`` runs too. One walk: the
agent's pages (login, home, results as you type, search results, customer page and its timeline, the shortcuts list, new and edit
customer, each order-entry step, the declined-card recap, the order number, the order page with its history,
a child order, each servicing form and preview, payment review), then the manager's (jobs, a job run,
dashboard, setup, programs and the program editor, products, payment schedules, parameters)."""

from __future__ import annotations

import json
import re

import pytest
from axe_support import violations
from web_support import (  # noqa: F401
    AGENT,
    MANAGER,
    TODAY,
    VIEWPORT,
    WebServer,
    browser,
    login,
    page,
    web_server,
)

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services import order_entry, payment_entry

AXE_OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}}
PAN = "4111111111111111"
DECLINE = "4000000000000002"


class Walk:
    """Runs axe on each page visited; ``found`` maps a page's name to its violations."""

    def __init__(self, page, server: WebServer) -> None:  # type: ignore[no-untyped-def]
        self.page, self.server, self.found = page, server, {}

    def goto(self, name: str, path: str) -> None:
        response = self.page.goto(f"{self.server.url}{path}")
        assert response is not None and response.status == 200, (name, path, response and response.status)
        self.check(name)

    def check(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.found[name] = violations(self.page, AXE_OPTIONS)

    def submit(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)


@pytest.fixture(scope="module")
def paid_order(web_server) -> str:  # noqa: F811
    """Karen Berg's BOOKCLUB order (four books from Nov 26, 2026), paid in three installments."""
    app = bootstrap(Settings(web_server.database_url, None, None), clock=FixedClock(TODAY))
    try:
        sales_id = order_entry.create_order_with_line(app.uow, app.clock, "004007", "88000", 1, TODAY, "3X")
        payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, PAN, "12/30")
        payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    finally:
        app.engine.dispose()
    return sales_id


def agent_pages(walk: Walk, order: str) -> None:
    page = walk.page
    walk.goto("login", "/login")
    login(page, walk.server, AGENT)
    walk.check("home")
    page.fill("#q", "Berg")  # results as the agent types, in the page
    page.locator("#live-results").wait_for()
    walk.check("home: results as you type")
    walk.goto("search results", "/?q=004")
    assert "6 customers match" in page.inner_text("main")
    walk.goto("customer page (timeline)", "/customers/004007")
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("?")
    page.locator("#shortcuts[open]").wait_for()
    walk.check("customer page with the shortcuts list")
    walk.goto("new customer", "/customers/new?q=Ola%20Nordmann")
    walk.goto("edit customer", "/customers/004011/edit")
    walk.goto("order entry: continuity step", "/customers/004011/orders/new?item=88000")
    with page.expect_navigation():
        page.press("#start_date", "Enter")
    assert re.search(r"/orders/SO-\d+/entry$", page.url), page.url
    walk.check("order entry: recap and payment")
    page.fill("#card_number", DECLINE)
    page.fill("#expiry", "12/30")
    walk.submit("button:has-text('Submit order')")
    assert page.locator("#declined").count(), "the decline message"
    walk.check("order entry: declined card")
    page.fill("#card_number", PAN)
    page.fill("#expiry", "12/30")
    walk.submit("button:has-text('Submit order')")
    assert page.locator("#order-number").count()
    walk.check("order entry: order number")
    walk.goto("order page (history)", f"/orders/{order}")
    for slug, fill in (
        ("skip", {}),
        ("reschedule", {"#new_date": "2026-11-28"}),
        ("substitute", {}),
        ("pause", {"#on": "2027-01-01"}),
        ("cancel", {"#on": "2027-01-01"}),
    ):
        walk.goto(f"servicing form: {slug}", f"/orders/{order}/service/{slug}")
        for selector, value in fill.items():
            page.fill(selector, value)
        walk.submit("button[value=preview]")
        assert page.locator("#net-change").count(), f"the {slug} preview: {page.inner_text('main')[:600]}"
        walk.check(f"servicing preview: {slug}")
    walk.goto("servicing: change card", f"/orders/{order}/service/change-card")
    walk.goto("servicing form: resume", f"/orders/{order}/service/resume")
    walk.goto("payment review", "/payment-review")


def manager_pages(walk: Walk, order: str) -> None:
    page = walk.page
    login(page, walk.server, MANAGER)
    walk.goto("jobs", "/jobs")
    walk.submit("button:has-text('Run job') >> nth=0")  # create-child-orders
    walk.check("jobs: a run's result")
    run = page.locator("section.result a[href^='/jobs/runs/']").get_attribute("href")
    walk.goto("job run", str(run))
    child = page.locator(f"a[href^='/orders/{order}-']").first
    assert child.count(), "the run links the child order it created"
    walk.goto("child order page", str(child.get_attribute("href")))
    walk.goto("dashboard", "/dashboard")
    walk.goto("setup", "/setup")
    walk.goto("programs", "/setup/programs")
    walk.goto("program editor", "/setup/programs/BOOKCLUB")
    walk.goto("new program", "/setup/programs/new")
    walk.goto("products", "/setup/products")
    walk.goto("new product", "/setup/products/new")
    walk.goto("product", "/setup/products/88000")
    walk.goto("payment schedules", "/setup/payment-schedules")
    walk.goto("new payment schedule", "/setup/payment-schedules/new")
    walk.goto("payment schedule", "/setup/payment-schedules/3X")
    walk.goto("parameters", "/setup/parameters")


def test_every_agent_and_manager_page_has_no_axe_violation(web_server, browser, page, paid_order):  # noqa: F811
    agent = Walk(page, web_server)
    agent_pages(agent, paid_order)
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(10_000)
    try:
        manager = Walk(context.new_page(), web_server)
        manager_pages(manager, paid_order)
    finally:
        context.close()
    found = {**agent.found, **manager.found}
    assert len(found) >= 35, sorted(found)
    failed = {name: v for name, v in found.items() if v}
    assert failed == {}, json.dumps(failed, indent=1)
