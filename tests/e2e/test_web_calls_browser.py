"""Issue 18 items 9–11 in Debian's Chromium (Playwright) against a real `continuity serve`: results as the
agent types (surname first, one typo) on the home page and in the header of every page, the recent
customers; axe finds no violation on these pages."""

from __future__ import annotations

from axe_support import violations
from web_support import AGENT, browser, login, page, screenshot, web_server  # noqa: F401

SHOTS = "/tmp/search-{}.png"


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=SHOTS.format(name), full_page=True)
    screenshot(page, f"calls-{name}")


def _live_names(page, box: str) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(f"#{box} ul.live-list a").all_inner_texts()


def test_results_appear_as_the_agent_types_without_enter(web_server, page):
    login(page, web_server, AGENT)
    page.locator("#q:focus").wait_for()
    page.keyboard.type("Berg Kar", delay=30)
    page.wait_for_selector("#live-results ul.live-list a")
    assert _live_names(page, "live-results") == ["Karen Berg"] and page.url.endswith("/")
    page.fill("#q", "")
    page.keyboard.type("Karen Bereg", delay=30)  # one typo
    page.locator("#live-results .live-count", has_text="1 customer matches “Karen Bereg”").wait_for()
    assert _live_names(page, "live-results") == ["Karen Berg"]
    _shot(page, "home-live")
    assert violations(page) == []
    page.keyboard.press("ArrowDown")  # into the results, then Enter opens the customer
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/customers/004007")


def test_the_header_search_and_the_recent_customers_on_every_page(web_server, page):
    login(page, web_server, AGENT)
    page.goto(f"{web_server.url}/customers/004011")
    page.goto(f"{web_server.url}/customers/004007")
    assert page.locator("nav.recent a").all_inner_texts() == ["Karen Berg", "Lars Nilsen"]
    page.click("#find")
    page.keyboard.type("nilsen lars", delay=30)
    page.wait_for_selector("#find-results ul.live-list a")
    assert _live_names(page, "find-results") == ["Lars Nilsen"]
    _shot(page, "header-live")
    assert violations(page) == []
    page.keyboard.press("Escape")
    assert page.locator("#find-results").is_hidden()
