"""A manager in Debian's Chromium (Playwright): defines a program in the event editor (three events, one
moved up, one ending the order), makes it a parent product, runs create-child-orders from the jobs page
and sees the counts; the dashboard shows the new shipment. Screenshots at 1280×800 and on a narrow
window go to test-artifacts/screenshots/manager-*.png."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_support import MANAGER, TODAY, browser, login, page, screenshot, web_server  # noqa: E402,F401

from continuity.adapters.clock import FixedClock  # noqa: E402
from continuity.bootstrap import bootstrap  # noqa: E402
from continuity.config import Settings  # noqa: E402
from continuity.services import catalog, order_entry, payment_entry  # noqa: E402

NARROW = {"width": 390, "height": 844}


def take_an_order(database_url: str, item_id: str, account: str = "004007", **line: object) -> str:
    """An agent's order for a parent item (entered through the services, as the agent pages do)."""
    app = bootstrap(Settings(database_url, None, None), clock=FixedClock(TODAY))
    try:
        sales_id = order_entry.create_order_with_line(app.uow, app.clock, account, item_id, **line)
        payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, "4111111111111111", "12/30")
        assert payment_entry.submit(app.uow, app.gateway, app.clock, sales_id).status == "open"
        return sales_id
    finally:
        app.engine.dispose()


def program_events(database_url: str, program_id: str) -> list[tuple[int, str, str]]:
    app = bootstrap(Settings(database_url, None, None), clock=FixedClock(TODAY))
    try:
        return [(e.event_id, e.item_id, e.action.value) for e in catalog.program(app.uow, program_id).sorted_events()]
    finally:
        app.engine.dispose()


def test_a_manager_defines_a_program_and_runs_create_child_orders(page, web_server):  # noqa: F811
    login(page, web_server, MANAGER)
    page.goto(f"{web_server.url}/setup")
    assert page.locator("h1").inner_text() == "Setup"
    screenshot(page, "manager-setup")

    # a new program with its first event
    page.click("text=New program")
    page.fill("#program_id", "E2ECLUB")
    page.fill("#description", "Three books, the last one ends the order")
    page.fill("#days_after_order", "0")
    page.fill("#item_id", "0013")
    page.click("button:has-text('Create program')")
    page.wait_for_url(re.compile(r"/setup/programs/E2ECLUB\?done=created"))

    # two more events: 0014 twice a month apart, then 0015 which ends the order
    page.fill("#new-item_id", "0014")
    page.fill("#new-times_to_repeat", "2")
    page.fill("#new-interval_count", "1")
    page.select_option("#new-interval_unit", "months")
    page.click("button:has-text('Add event')")
    page.wait_for_url(re.compile(r"done=added"))
    page.fill("#new-item_id", "0015")
    page.select_option("#new-action", "end")
    page.click("button:has-text('Add event')")
    page.wait_for_url(re.compile(r"done=added"))

    # the end event moves up before the 0014 event
    page.click("button[aria-label='Move event 3 up']")
    page.wait_for_url(re.compile(r"done=moved"))
    assert page.input_value("#e2-item_id") == "0015" and page.input_value("#e3-item_id") == "0014"
    assert page.input_value("#e2-action") == "end"
    assert program_events(web_server.database_url, "E2ECLUB") == [
        (1, "0013", "normal"),
        (2, "0015", "end"),
        (3, "0014", "normal"),
    ]
    screenshot(page, "manager-program-editor")

    # a parent product that sells the program
    page.goto(f"{web_server.url}/setup/products/new")
    page.fill("#item_id", "77777")
    page.fill("#name", "E2E book club")
    page.select_option("#continuity_program_id", "E2ECLUB")
    page.click("button:has-text('Create product')")
    page.wait_for_url(re.compile(r"/setup/products\?done=saved"))
    assert "E2ECLUB" in page.locator("table").inner_text()

    parent = take_an_order(web_server.database_url, "77777")

    # create-child-orders from the jobs page, for the new item
    page.goto(f"{web_server.url}/jobs")
    page.select_option("#name", "create-child-orders")
    assert page.input_value("#as_of") == TODAY.isoformat()
    page.fill("#item_id", "77777")
    page.click("button:has-text('Run job')")
    result = page.locator("section.result")
    result.wait_for()
    assert "create-child-orders" in result.inner_text()
    assert re.search(r"Created\s+1\b", result.inner_text())
    history = page.locator("table.runs").inner_text()
    assert "create-child-orders" in history and "Item: 77777" in history
    screenshot(page, "manager-jobs")

    # more orders, so that the dashboard has weeks to show
    take_an_order(web_server.database_url, "0021", "004020", payment_schedule_id="3X")
    take_an_order(web_server.database_url, "88000", "004031")
    take_an_order(web_server.database_url, "0016", "004042")
    page.goto(f"{web_server.url}/dashboard")
    weeks = [row.split("\t") for row in page.locator("table.outlook tbody tr").all_inner_texts()]
    assert len(weeks) == 12 and int(weeks[0][1]) >= 2, weeks  # this week: our child shipment and more
    assert sum(int(w[1]) for w in weeks) >= 8
    assert page.locator("svg rect.bar").count() == 12
    screenshot(page, "manager-dashboard")
    assert parent

    page.set_viewport_size(NARROW)
    for name, path in (
        ("setup", "/setup"),
        ("program-editor", "/setup/programs/E2ECLUB"),
        ("jobs", "/jobs"),
        ("dashboard", "/dashboard"),
    ):
        page.goto(f"{web_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"] + 1, f"{path} scrolls sideways on a narrow window ({width}px)"
        screenshot(page, f"manager-{name}-narrow")
