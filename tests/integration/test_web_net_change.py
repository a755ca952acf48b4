"""Issue 18 item 12: every servicing preview states the net money change next to its tables, e.g.
"−€15.25: program €58.99 → €43.74", in the page's language and currency format; the figures are what the
order page shows before and after Save, and the API's change document carries them too."""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from api_support import API, bearer, client, users_of_each_role  # noqa: E402
from test_web_servicing import CHANGES, agent, bookclub, preview, save, web_app  # noqa: E402, F401 (fixtures)
from web_support import csrf_of  # noqa: E402

from continuity.domain.money import Money  # noqa: E402
from continuity.entrypoints.web.templating import format_signed_money  # noqa: E402
from continuity.services import views  # noqa: E402


def program_value(app, sales_id: str) -> Decimal:  # type: ignore[no-untyped-def]
    """What the order page's lines say the continuity lines cost in all."""
    order = views.order_view(app.uow, sales_id)
    return sum((Decimal(line["amount"]) for line in order["lines"] if line["continuity"]), Decimal("0"))


def net_change(html: str) -> str:
    match = re.search(r'<dd id="net-change"[^>]*>(.*?)</dd>', html, re.S)
    assert match, "the preview states no net money change"
    return re.sub(r"[ \t\n]+", " ", unescape(re.sub(r"<[^>]+>", "", match.group(1)))).strip()


def euros(amount: Decimal) -> str:
    return f"€{amount:,.2f}"


@pytest.mark.parametrize("change", ["skip", "substitute", "cancel", "pause", "reschedule"])
def test_the_preview_states_the_net_change_that_save_then_makes(agent, web_app, bookclub, change):
    slug, values = CHANGES[change]
    before = program_value(web_app, bookclub)
    previewed = preview(agent, bookclub, slug, values)
    assert previewed.status_code == 200, previewed.text
    stated = net_change(previewed.text)
    assert save(agent, bookclub, previewed).status_code == 303
    after = program_value(web_app, bookclub)
    if after == before:
        assert stated == f"No money change: program {euros(after)}"
    else:
        sign = "+" if after > before else "-"
        assert stated == f"{sign}{euros(abs(after - before))}: program {euros(before)} → {euros(after)}"
    if change in ("skip", "cancel"):
        assert after < before, "a skip or a cancel costs less"


def test_the_net_change_is_worded_and_formatted_in_the_page_language(agent, web_app, bookclub):
    token = csrf_of(agent.get("/").text)
    agent.post("/language", data={"language": "fr", "csrf_token": token, "next": "/"})
    stated = net_change(preview(agent, bookclub, *CHANGES["skip"]).text)
    assert re.fullmatch(r"-\d+,\d\d\xa0€ : programme \d+,\d\d\xa0€ → \d+,\d\d\xa0€", stated), stated
    agent.post("/language", data={"language": "nl", "csrf_token": token, "next": "/"})
    stated = net_change(preview(agent, bookclub, *CHANGES["pause"]).text)
    assert re.fullmatch(r"Geen bedragwijziging: programma €\xa0\d+,\d\d", stated), stated


@pytest.mark.parametrize(
    "lang, amount, shown",
    [
        ("en", "15.25", "+€15.25"),
        ("en", "-15.25", "-€15.25"),
        ("fr", "1234.5", "+1\u202f234,50\xa0€"),
        ("nl", "-15.25", "€\xa0-15,25"),
        ("nl", "15.25", "€\xa0+15,25"),
        ("sv", "15.25", "+15,25\xa0€"),
    ],
)
def test_a_money_change_carries_its_sign_in_the_locales_currency_format(lang, amount, shown):
    assert format_signed_money(Money(Decimal(amount), "EUR"), lang) == shown


def test_the_api_change_document_has_the_program_value_before_and_after(web_app, bookclub):
    tokens = users_of_each_role(web_app)
    with client(web_app) as c:
        answer = c.post(
            f"{API}/continuity-orders/{bookclub}/skip",
            headers=bearer(tokens["agent"]),
            json={"seq": 2, "preview": True},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert Decimal(body["program_before"]) == program_value(web_app, bookclub)
    skipped = next(s for s in body["before"]["shipments"] if s["seq"] == 2)
    assert Decimal(body["program_before"]) - Decimal(body["program_after"]) == Decimal(skipped["amount"])
