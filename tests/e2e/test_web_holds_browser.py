"""Holds and the payment review in Debian's Chromium (Playwright) against a real `continuity serve`: an agent
puts an order on hold with a code and a note, sees it on the page and in the history, clears it; then works
the payment review: a retry declined again, a waiver, a change of card that pays. Screenshots:
test-artifacts/screenshots/60-*.png."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from web_support import AGENT, TODAY, browser, login, page, screenshot, web_server  # noqa: F401

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services import order_entry, payment_entry
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

PAN, LOST, NEW_CARD = "4111111111111111", "4000000000009987", "5555555555554444"


@pytest.fixture(scope="module")
def orders(web_server) -> list[str]:  # noqa: F811
    """Three REPLENISH orders of Karen Berg (0021, three installments, the first due today): the first kept as
    it is (to hold), the other two charged on a card reported lost (a hard decline: never retried)."""
    app = bootstrap(Settings(web_server.database_url, None, None), clock=FixedClock(TODAY))
    try:
        made = []
        for _ in range(3):
            sales_id = order_entry.create_order_with_line(app.uow, app.clock, "004007", "0021")
            payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, PAN, "12/30")
            payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
            made.append(sales_id)
        token = payment_entry.tokenize_card(app.uow, app.gateway, app.clock, "004007", LOST, "12/30").token
        with app.engine.begin() as conn:
            for sales_id in made[1:]:  # the submit authorization lapsed; the line now pays with a declining card
                conn.execute(
                    text("UPDATE continuity_lines SET card_token = :t WHERE sales_id = :s"), {"t": token, "s": sales_id}
                )
                conn.execute(
                    text("UPDATE installments SET authorization_key = NULL WHERE sales_id = :s"), {"s": sales_id}
                )
            conn.execute(text("UPDATE installments SET authorization_key = NULL WHERE sales_id = :s"), {"s": made[0]})
        run_job(app.job_deps(), "process-payments", JobRequest(TODAY))
    finally:
        app.engine.dispose()
    return made


def body(page) -> str:  # noqa: F811
    return re.sub(r"[\u00a0\u202f]", " ", page.inner_text("body"))


def test_an_agent_holds_an_order_and_clears_it(web_server, page, orders):  # noqa: F811
    held = orders[0]
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/orders/{held}")
    page.wait_for_selector("#hold")
    page.select_option("#hold-code", "address_check")
    page.fill("#hold-note", "the parcel came back")
    with page.expect_navigation():
        page.click("#hold button[type=submit]")
    assert "The order is on hold." in page.inner_text("#hold")
    assert page.inner_text("#hold-code-shown") == "Address check"
    assert "the parcel came back" in page.inner_text("#history")
    screenshot(page, "60-order-on-hold")

    page.fill("#clear-note", "new address confirmed")
    with page.expect_navigation():
        page.press("#clear-note", "Enter")
    assert "The hold is cleared" in page.inner_text("#hold")
    assert "Hold cleared" in page.inner_text("#history")
    assert "open" in page.inner_text(".facts")


def test_an_agent_works_the_payment_review(web_server, page, orders):  # noqa: F811
    _, retried, waived = orders
    login(page, web_server, AGENT)
    page.click("nav a[href='/payment-review']")
    page.wait_for_selector(f"#review-{retried}-1-1")
    assert "Retries used up" in page.inner_text(f"#review-{retried}-1-1")
    screenshot(page, "61-payment-review")

    with page.expect_navigation():  # the same card after a hard decline: refused, nothing charged
        page.click(f"#review-{retried}-1-1 form[action$='/retry'] button")
    assert "cannot be charged now" in page.inner_text("#review-error")

    page.fill(f"#waive-{waived}-1-1", "goodwill: a late parcel")
    with page.expect_navigation():
        page.click(f"#review-{waived}-1-1 form[action$='/waive'] button")
    assert "waived" in page.inner_text("#review-notice")
    assert page.locator(f"#review-{waived}-1-1").count() == 0

    page.fill(f"#card-{retried}-1-1", NEW_CARD)
    page.fill(f"#expiry-{retried}-1-1", "12/31")
    with page.expect_navigation():
        page.click(f"#review-{retried}-1-1 form[action$='/change-card'] button")
    assert "the charge was approved" in page.inner_text("#review-notice")
    assert "Nothing to review." in body(page)
    assert NEW_CARD not in page.content()
    screenshot(page, "62-payment-review-done")
