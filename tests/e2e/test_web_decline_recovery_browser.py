"""Issue 18 "Done when": a declined card and its recovery in at most 10 interactions, in Debian's Chromium
(Playwright) against a real `continuity serve`. The agent enters a BOOKCLUB order with the test gateway's
decline card (4000000000000002), reads the decline message, and recovers on the same page by typing another
card or by picking the customer's saved card; the order is submitted and its card authorized."""

from __future__ import annotations

import re

import pytest
from axe_support import violations
from web_support import AGENT, TODAY, browser, login, page, screenshot, web_server  # noqa: F401

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services import order_entry, payment_entry

DECLINE = "4000000000000002"
PAN = "4111111111111111"
SAVED = "5555555555554444"


class Hands:
    """The agent's interactions: one typed field value, one key press or one click (or a pick in a list)
    counts 1. Waiting for a page and reading it counts nothing."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page, self.count = page, 0

    def type(self, text: str) -> None:
        self.count += 1
        self.page.keyboard.type(text)

    def pick(self, selector: str, value: str) -> None:
        self.count += 1
        self.page.select_option(selector, value)

    def press(self, key: str) -> None:
        self.count += 1
        with self.page.expect_navigation():
            self.page.keyboard.press(key)


def focus_on(page, field: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("load")
    page.wait_for_function(f"document.activeElement && document.activeElement.id === '{field}'")


@pytest.fixture(scope="module")
def saved_card_customer(web_server) -> str:  # noqa: F811
    """Sofie de Vries (004020) with a card saved by an earlier paid order (REPLENISH, •••• 4444)."""
    app = bootstrap(Settings(web_server.database_url, None, None), clock=FixedClock(TODAY))
    try:
        sales_id = order_entry.create_order_with_line(app.uow, app.clock, "004020", "0021", 1, TODAY, "3X")
        payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, SAVED, "12/30")
        payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)
    finally:
        app.engine.dispose()
    return "004020"


def declined_order(page, server, account: str) -> Hands:  # type: ignore[no-untyped-def]
    """A BOOKCLUB order for ``account`` up to the decline message; the hands counted from the message on."""
    login(page, server, AGENT)
    page.goto(f"{server.url}/customers/{account}")
    focus_on(page, "item_id")
    page.keyboard.type("88000")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    focus_on(page, "start_date")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    focus_on(page, "card_number")
    page.keyboard.type(DECLINE)
    page.keyboard.type("12/30")
    if page.locator("#saved_card").count():
        page.select_option("#saved_card", "")  # the typed number wins anyway; the new-card choice says so
    with page.expect_navigation():
        page.keyboard.press("Enter")
    alert = page.inner_text("#declined")
    assert re.search(r"The card \S+ •••• 0002 was declined", alert), alert
    assert "ask the caller for another card" in alert
    assert page.evaluate("document.activeElement.id") == "card_number", "the cursor waits for the next card"
    assert re.search(r"/orders/SO-\d+/", page.url)
    return Hands(page)


def payment_rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The order page's payments: one line of text per row."""
    rows = page.locator("section[aria-labelledby='payments-title'] tbody tr").all_inner_texts()
    return [" ".join(r.split()) for r in rows]


def submitted(page) -> str:  # type: ignore[no-untyped-def]
    number = page.inner_text("#order-number")
    assert re.fullmatch(r"SO-\d+", number) and "The order is submitted" in page.inner_text("h1")
    return number


def test_a_declined_card_is_recovered_with_another_card_typed_in_at_most_10_interactions(web_server, page):
    """Counted from the decline message to the order number: the new card number typed (1), its expiry
    typed (1), Enter (1) = 3 interactions, asserted ≤ 10."""
    hands = declined_order(page, web_server, "004011")
    screenshot(page, "30-declined-card")
    hands.type(PAN)
    hands.type("12/30")
    hands.press("Enter")
    number = submitted(page)
    assert hands.count <= 10, f"{hands.count} interactions to recover from a declined card"
    page.goto(f"{web_server.url}/orders/{number}")
    rows = payment_rows(page)
    assert any("•••• 1111" in r and "authorized" in r for r in rows), rows
    assert not any("•••• 0002" in r and "authorized" in r for r in rows), rows


def test_a_declined_card_is_recovered_with_a_saved_card_in_at_most_10_interactions(
    web_server, page, saved_card_customer
):
    """Counted from the decline message to the order number: the saved card picked in "Or a saved card"
    (1), the Submit order button clicked (1) = 2 interactions, asserted ≤ 10."""
    hands = declined_order(page, web_server, saved_card_customer)
    options = page.locator("#saved_card option").all_inner_texts()
    assert any("4444" in o for o in options), f"the recap offers the customer's saved card: {options}"
    token = page.locator("#saved_card option", has_text="4444").get_attribute("value")
    assert token
    screenshot(page, "31-declined-card-saved-cards")
    hands.pick("#saved_card", token)
    hands.count += 1
    with page.expect_navigation():
        page.click("button:has-text('Submit order')")
    number = submitted(page)
    assert hands.count <= 10, f"{hands.count} interactions to recover from a declined card"
    page.goto(f"{web_server.url}/orders/{number}")
    rows = payment_rows(page)
    assert any("•••• 4444" in r and "authorized" in r for r in rows), rows


def test_the_change_card_page_offers_the_customers_saved_cards(web_server, page, saved_card_customer):
    """Change card on another order of the customer (paid with •••• 1111): the saved •••• 4444 is offered,
    the line's own card is not, nothing is picked at first; picking it (1) and Save (1) change the card
    without typing a number."""
    app = bootstrap(Settings(web_server.database_url, None, None), clock=FixedClock(TODAY))
    try:
        order = order_entry.create_order_with_line(app.uow, app.clock, saved_card_customer, "0021", 1, TODAY, "3X")
        payment_entry.add_card_payment(app.uow, app.gateway, app.clock, order, PAN, "12/30")
        payment_entry.submit(app.uow, app.gateway, app.clock, order)
    finally:
        app.engine.dispose()
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/orders/{order}/service/change-card")
    assert "•••• 1111" in page.inner_text("#current-card")
    options = page.locator("#saved_card option").all_inner_texts()
    assert any("•••• 4444" in o for o in options), options
    assert not any("•••• 1111" in o for o in options), options
    assert page.input_value("#saved_card") == "", "nothing is picked until the agent picks"
    screenshot(page, "32-change-card-saved-cards")
    assert violations(page, {"rules": {"label-content-name-mismatch": {"enabled": True}}}) == []
    hands = Hands(page)
    token = page.locator("#saved_card option", has_text="4444").get_attribute("value")
    hands.pick("#saved_card", str(token))
    hands.count += 1
    with page.expect_navigation():
        page.click("button[value=save]")
    assert "The new card was saved." in page.inner_text("#saved")
    assert "4444" in page.inner_text("section[aria-labelledby='history-title']")
    assert hands.count == 2
