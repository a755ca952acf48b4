"""Servicing a continuity order in Debian's Chromium (Playwright) against a real `continuity serve`: an agent
opens the demo customer's order, previews a skip, saves it and sees the schedule updated; a reschedule and a
change of card with the keyboard; the pages at a narrow width; afterwards no card number anywhere.
Screenshots: test-artifacts/screenshots/20-*.png."""

from __future__ import annotations

import re
import sqlite3

import pytest
from web_support import AGENT, TODAY, browser, login, page, screenshot, web_server  # noqa: F401

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services import order_entry, payment_entry

PAN = "4111111111111111"
NEW_CARD = "5555555555554444"
#: the last test reads what the others left (pages seen, the changed card): `make test` runs a file on one
#: worker, in order (--dist loadfile)
PAGES: list[str] = []


@pytest.fixture(scope="module")
def demo_order(web_server) -> str:  # noqa: F811
    """Karen Berg's BOOKCLUB order (item 88000, four books from Nov 26, 2026) paid in three installments."""
    app = bootstrap(Settings(web_server.database_url, None, None), clock=FixedClock(TODAY))
    try:
        sales_id = order_entry.create_order_with_line(app.uow, app.clock, "004007", "88000", 1, TODAY, "3X")
        payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, PAN, "12/30")
        payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    finally:
        app.engine.dispose()
    return sales_id


def text(page) -> str:  # noqa: F811
    return re.sub(r"[\u00a0\u202f]", " ", page.inner_text("body"))


def seen(page) -> None:  # noqa: F811
    PAGES.append(page.content())


def words(table_text: str) -> str:
    """A table's text without the "changed" marks of a preview and the "Why this date?" of the order page."""
    return " ".join(table_text.replace("changed", "").replace("Why this date?", "").split())


def schedule_row(page, seq: int) -> str:  # noqa: F811
    """Shipment ``seq`` of the demo order (all four still among the next shipments, in date order)."""
    return page.inner_text(f"#projection table.shipments tbody tr:nth-child({seq})")


def test_an_agent_previews_a_skip_saves_it_and_sees_the_schedule_updated(web_server, page, demo_order):  # noqa: F811
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/customers/004007")
    page.click(f"a[href='/orders/{demo_order}']")
    page.wait_for_selector("#servicing")
    assert "pending" in schedule_row(page, 2)
    screenshot(page, "20-order-page-servicing")
    seen(page)

    page.click("#servicing a:has-text('Skip a shipment')")
    page.wait_for_selector("#seq")
    assert page.evaluate("document.activeElement.id") == "seq"
    page.select_option("#seq", "2")
    screenshot(page, "21-skip-form")
    with page.expect_navigation():
        page.click("button[value=preview]")
    seen(page)
    after = page.inner_text("#after")
    assert "skipped" in after and "pending" in page.inner_text("#before")
    promised = words(page.inner_text("#after table.shipments"))
    assert page.evaluate("document.activeElement.value") == "save"
    screenshot(page, "22-skip-preview")

    with page.expect_navigation():
        page.keyboard.press("Enter")  # Save has the focus
    seen(page)
    assert page.url.endswith(f"/orders/{demo_order}?saved=skip")
    assert "The shipment was skipped." in page.inner_text("#saved")
    assert "skipped" in schedule_row(page, 2)
    assert words(page.inner_text("#projection table.shipments")) == promised
    history = page.inner_text("section[aria-labelledby='history-title']")
    assert "agent" in history and "Shipment 2: Status pending → skipped" in history  # issue 18 item 5
    assert page.inner_text("#history tbody tr:first-child td:nth-child(3)").startswith("Order entered by")
    screenshot(page, "23-order-after-skip")


def test_why_this_date_opens_without_javascript_help(web_server, page, demo_order):  # noqa: F811
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/orders/{demo_order}")
    why = page.locator("#projection details.why").nth(2)
    why.locator("summary").click()
    assert "after the previous shipment on" in text(page)
    screenshot(page, "24-why-this-date", full_page=False)


def test_reschedule_with_the_keyboard_and_an_error_in_norwegian(web_server, page, demo_order):  # noqa: F811
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/orders/{demo_order}")
    with page.expect_navigation():
        page.select_option("#language-picker", "nb")
    page.goto(f"{web_server.url}/orders/{demo_order}/service/reschedule?seq=3")
    page.check("#how-date")
    page.fill("#new_date", "2026-11-01")
    with page.expect_navigation():
        page.press("#new_date", "Enter")
    seen(page)
    assert "Datoen er passert" in page.inner_text("#error")
    screenshot(page, "25-reschedule-error-nb")
    page.fill("#new_date", "2027-02-05")
    with page.expect_navigation():
        page.press("#new_date", "Enter")
    seen(page)
    assert "Etter" in page.inner_text("#after-title")
    screenshot(page, "26-reschedule-preview-nb")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Forsendelsen er flyttet." in page.inner_text("#saved")
    with page.expect_navigation():
        page.select_option("#language-picker", "en")


def test_change_card_asks_for_the_number_only_on_save(web_server, page, demo_order):  # noqa: F811
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/orders/{demo_order}/service/change-card")
    seen(page)
    assert page.evaluate("document.activeElement.id") == "card_number"
    screenshot(page, "27-change-card")
    page.keyboard.type(NEW_CARD)  # app.js moves to the expiry once the number is complete
    page.keyboard.type("11/31")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    seen(page)
    assert "The new card was saved." in page.inner_text("#saved")
    assert "4444" in page.inner_text("section[aria-labelledby='history-title']")


def test_the_servicing_pages_fit_a_narrow_window(web_server, page, demo_order):  # noqa: F811
    login(page, web_server, AGENT)
    page.set_viewport_size({"width": 400, "height": 800})
    for path, name in (
        (f"/orders/{demo_order}", "28-order-narrow"),
        (f"/orders/{demo_order}/service/reschedule", "29-reschedule-form-narrow"),
    ):
        page.goto(web_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"{path} scrolls sideways at 400 px ({width})"
        screenshot(page, name)
    schedule = page.locator("#projection")
    page.goto(f"{web_server.url}/orders/{demo_order}")
    schedule.screenshot(path=str(screenshot(page, "28-order-narrow").with_name("28-schedule-narrow.png")))
    page.goto(f"{web_server.url}/orders/{demo_order}/service/reschedule")
    with page.expect_navigation():
        page.click("button[value=preview]")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the preview scrolls sideways at 400 px ({width})"
    screenshot(page, "30-preview-narrow")


def test_cancel_preview_shows_the_refund_and_back_saves_nothing(web_server, page, demo_order):  # noqa: F811
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/orders/{demo_order}/service/cancel")
    assert page.evaluate("document.activeElement.id") == "on"
    page.fill("#reason", "moving abroad")
    with page.expect_navigation():
        page.press("#reason", "Enter")
    seen(page)
    assert "pending" in page.inner_text("#before") and "pending" not in page.inner_text("#after")
    assert "Nothing left to charge." in page.inner_text("#after") and page.inner_text("#refund")
    screenshot(page, "31-cancel-preview")
    with page.expect_navigation():
        page.click("text=Back to the order (nothing is saved)")
    assert "/service/cancel" in page.content() and "pending" in page.inner_text("#projection")


def test_no_card_number_in_the_database_the_log_or_any_page(web_server):  # noqa: F811
    assert PAGES, "the browser tests saw no page"
    web_server.stop()
    with sqlite3.connect(web_server.database) as conn:
        dump = "\n".join(conn.iterdump())
    log = web_server.log_file.read_text(errors="replace") if web_server.log_file.exists() else ""
    for where, blob in {
        "database": dump,
        "server output": web_server.output.read_text(errors="replace"),
        "log": log,
        "pages": "\n".join(PAGES),
    }.items():
        for pan in (PAN, NEW_CARD):
            assert pan not in blob, f"a card number is in the {where}"
    assert "tok_" in dump and "4444" in dump, "the dump holds the new card's token and last 4"
