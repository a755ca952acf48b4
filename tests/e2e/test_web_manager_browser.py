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


class Keyboard:
    """The manager's hands: types into the focused field and presses keys; counts every interaction (a
    field's value typed is one, as in test_web_agent_browser)."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page, self.count = page, 0

    def type(self, text: str) -> None:
        self.count += 1
        self.page.keyboard.type(text)

    def press(self, key: str, navigates: bool = False) -> None:
        self.count += 1
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press(key)
        else:
            self.page.keyboard.press(key)


def focused(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("document.activeElement && document.activeElement.id")


def _text(page) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"[\u00a0\u202f]", " ", page.inner_text("body"))


def products(database_url: str):  # type: ignore[no-untyped-def]
    app = bootstrap(Settings(database_url, None, None), clock=FixedClock(TODAY))
    try:
        return catalog.products(app.uow, None, 1000)
    finally:
        app.engine.dispose()


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

    # a new program with three events, with the keyboard alone (issue 18 item 14: at most 25 interactions)
    page.click("text=New program")
    page.wait_for_url(re.compile(r"/setup/programs/new$"))
    assert focused(page) == "program_id"
    keys = Keyboard(page)
    keys.type("E2ECLUB")
    keys.press("Tab")
    keys.type("Three books, the last one ends the order")
    keys.press("Tab")
    assert focused(page) == "item_id-1"
    keys.type("0013")
    for _ in range(5):  # action, times to repeat, interval, unit: the next row
        keys.press("Tab")
    assert focused(page) == "item_id-2"
    keys.type("0014")  # twice, a month apart
    keys.press("Tab")
    keys.press("Tab")
    keys.type("2")
    keys.press("Tab")
    keys.type("1")
    keys.press("Tab")
    keys.press("m")  # the unit: months
    keys.press("Tab")
    assert focused(page) == "item_id-3"
    keys.type("0015")  # which ends the order
    keys.press("Tab")
    keys.press("e")  # End after this event
    screenshot(page, "manager-program-new")
    keys.press("Shift+Tab")
    keys.press("Enter", navigates=True)
    page.wait_for_url(re.compile(r"/setup/programs/E2ECLUB\?done=created"))
    assert keys.count <= 25, f"{keys.count} interactions for a program with 3 events"
    print(f"a program with 3 events: {keys.count} keyboard interactions")
    assert program_events(web_server.database_url, "E2ECLUB") == [
        (1, "0013", "normal"),
        (2, "0014", "normal"),
        (3, "0015", "end"),
    ]
    # the editor names the items and shows each event's price per shipment, its total and the program's
    names = {p.item_id: p.name for p in products(web_server.database_url)}
    summaries = page.locator(".event-summary").all_inner_texts()
    assert [names["0013"] in summaries[0], names["0014"] in summaries[1], names["0015"] in summaries[2]] == [True] * 3
    assert "per shipment" in summaries[1] and "Event total" in summaries[1]
    assert re.search(r"Program total: €[\d.,]+ · 4 shipments", _text(page)), _text(page)[:400]

    # the end event moves up before the 0014 event
    page.click("#event-3 button:has-text('Move up')")
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
    assert "Create child orders" in result.inner_text()
    assert re.search(r"Created\s+1\b", result.inner_text())
    history = page.locator("table.runs").inner_text()
    assert "create-child-orders" in history and "Item: 77777" in history
    # the run links to the child order it created; the child waits for its charge: run process-payments
    child = f"{parent}-1-1"
    assert result.locator(f"a[href='/orders/{child}']").count() == 1
    waiting = page.locator("section.waiting")
    assert child in waiting.inner_text() and "run process-payments" in waiting.inner_text()
    screenshot(page, "manager-jobs")
    waiting.locator("button").click()
    page.locator("section.result").wait_for()
    assert "Process payments" in page.locator("section.result").inner_text()
    assert page.locator("section.waiting").count() == 0

    # more orders, so that the dashboard has weeks to show
    take_an_order(web_server.database_url, "0021", "004020", payment_schedule_id="3X")
    take_an_order(web_server.database_url, "88000", "004031")
    take_an_order(web_server.database_url, "0016", "004042")
    page.goto(f"{web_server.url}/dashboard")
    weeks = [row.split("\t") for row in page.locator("table.outlook tbody tr").all_inner_texts()]
    assert len(weeks) == 12 and int(weeks[0][1]) >= 2, weeks  # this week: our child shipment and more
    assert sum(int(w[1]) for w in weeks) >= 8
    assert page.locator("svg rect.bar").count() == 12
    # one date basis, stated; axis titles; the subtitle names the week's Monday; the chart fills the card
    assert "counted by charge date" in _text(page) and "from the week of Nov 23, 2026" in _text(page)  # a Monday
    titles = page.locator("svg text.axis-title").all_text_contents()
    assert titles == ["Week (Monday)", "Shipments", "Expected revenue, EUR"]  # short: they fit in every language
    card = page.locator("figure.chart").bounding_box()
    drawn = page.locator("figure.chart svg").bounding_box()
    assert card and drawn and drawn["width"] >= card["width"] - 2 and drawn["height"] > 250
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
