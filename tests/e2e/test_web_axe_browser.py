"""axe-core in Debian's Chromium (Playwright) on the manager's pages: no violation (issue 18 items 14-16).

axe-core from npm, loaded from a file (axe_support). Besides axe's default rules, the experimental
``label-content-name-mismatch`` runs too: a control's spoken name must hold its visible text (it flagged the
program editor's event buttons 6 times)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from axe_support import violations as axe_violations  # noqa: E402
from web_support import MANAGER, browser, login, page, screenshot, web_server  # noqa: E402,F401

AXE_OPTIONS = {"rules": {"label-content-name-mismatch": {"enabled": True}}}
MANAGER_PAGES = (
    "/setup/programs/BOOKCLUB",
    "/setup/programs/new",
    "/jobs",
    "/dashboard",
)


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    return axe_violations(page, AXE_OPTIONS)


def test_the_manager_pages_have_no_axe_violation(page, web_server):  # noqa: F811
    login(page, web_server, MANAGER)
    page.goto(f"{web_server.url}/jobs")
    page.click("button:has-text('Run job')")  # create-child-orders: the result and the run's own page
    page.locator("section.result").wait_for()
    run = page.locator("section.result a[href^='/jobs/runs/']").get_attribute("href")
    found = {}
    for path in (*MANAGER_PAGES, run):
        page.goto(f"{web_server.url}{path}")
        found[path] = violations(page)
    assert found == {path: [] for path in found}, json.dumps(found, indent=1)


def test_the_program_editors_event_buttons_say_what_they_show(page, web_server):  # noqa: F811
    """label-content-name-mismatch: each button's accessible name is its visible text; the event it acts on
    is its description."""
    login(page, web_server, MANAGER)
    page.goto(f"{web_server.url}/setup/programs/BOOKCLUB")
    button = page.locator("#event-2 button:has-text('Move up')")
    assert button.get_attribute("aria-label") is None
    assert page.locator("#" + str(button.get_attribute("aria-describedby"))).inner_text() == "Event 2"
    assert [v for v in violations(page) if v.startswith("label-content-name-mismatch")] == []
    screenshot(page, "manager-program-editor-axe")
    assert re.search(r"Program total: ", page.inner_text("#events"))
