"""Issue 18 items 9–11 in the web UI, through FastAPI's TestClient on SQLite and PostgreSQL: the search's
results as the agent types (a fragment; the GET form without JavaScript), the search box and the recent
customers in the header of every page, and the calls catalog complete in the six languages."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from jobs_support import START, nightly, rows  # noqa: E402
from test_web_servicing import agent, bookclub, visible_rows, web_app  # noqa: E402, F401 (fixtures)
from web_support import client_login, csrf_of, follow, web_client  # noqa: E402

from continuity.entrypoints.web import i18n  # noqa: E402
from continuity.entrypoints.web.routes import calls  # noqa: E402

WEB = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _live_names(agent, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    answer = agent.get("/search", params={"q": q})
    assert answer.status_code == 200 and "<html" not in answer.text  # a fragment, no page around it
    return re.findall(r'<a href="/customers/\d+">([^<]+)</a>', answer.text)


# -- item 9: search ----------------------------------------------------------------------------


def test_live_results_find_surname_first_and_one_typo(agent):
    assert _live_names(agent, "Berg Karen") == ["Karen Berg"]
    assert _live_names(agent, "Karen Bereg") == ["Karen Berg"]
    assert _live_names(agent, "Ka") == ["Karen Berg"]
    assert _live_names(agent, "nobody here") == []
    assert "0 customers match" in agent.get("/search", params={"q": "nobody here"}).text


def test_live_results_never_search_a_card_number(agent):
    answer = agent.get("/search", params={"q": "4111 1111 1111 1111"})
    assert answer.status_code == 200 and "4111" not in answer.text and _live_names(agent, "4111111111111111") == []


def test_live_results_need_an_agent(web_app):
    with web_client(web_app) as anonymous:
        assert anonymous.get("/search", params={"q": "Karen"}).status_code == 303


def test_without_javascript_the_form_finds_surname_first_and_a_typo(agent):
    """The home page's GET form: a single match opens the customer, as before."""
    for q in ("Berg Karen", "Karen Bereg"):
        answer = agent.get("/", params={"q": q})
        assert answer.status_code == 303 and answer.headers["location"] == "/customers/004007"


def test_the_header_of_every_agent_page_has_the_search_box_but_the_home_page(agent):
    for path in ("/customers/004007", "/customers/004011"):
        assert 'id="find"' in agent.get(path).text
    home = agent.get("/").text
    assert 'id="find"' not in home and 'id="q"' in home  # the home page's big box is the search


def test_the_recent_customers_are_the_ones_this_agent_opened_newest_first(agent, web_app):
    assert 'class="recent"' not in agent.get("/").text
    agent.get("/customers/004007")
    agent.get("/customers/004011")
    agent.get("/customers/004007")
    home = agent.get("/").text
    assert _recent(home) == ["Karen Berg", "Lars Nilsen"]
    with web_client(web_app) as other:  # another session (even of the same agent) starts with none
        client_login(other)
        assert _recent(other.get("/").text) == []
        other.cookies.set("continuity_recent", agent.cookies.get("continuity_recent"))
        assert _recent(other.get("/").text) == []  # a list signed for another session is not read


def test_at_most_five_recent_customers(agent):
    for account in ("004007", "004011", "004020", "004031", "004042", "004053"):
        agent.get(f"/customers/{account}")
    assert len(_recent(agent.get("/").text)) == 5 and "Karen Berg" not in _recent(agent.get("/").text)


def _recent(html: str) -> list[str]:
    found = re.search(r'<nav class="recent".*?</nav>', html, re.S)
    return re.findall(r'<a href="/customers/\d+"[^>]*>([^<]+)</a>', found.group(0)) if found else []


# -- item 10: keyboard ----------------------------------------------------------------------------


def test_the_order_page_starts_on_its_first_action_and_marks_its_shortcuts(agent, bookclub):
    page = agent.get(f"/orders/{bookclub}").text
    actions = re.findall(r'<a class="button secondary" href="[^"]+"[^>]*>', page)
    assert "autofocus" in actions[0] and not any("autofocus" in a for a in actions[1:])
    assert re.search(r'href="/orders/[^"]+/service/skip"[^>]*data-shortcut="s"', page)
    assert re.search(r'href="/orders/[^"]+/service/change-card"[^>]*data-shortcut="c"', page)
    assert 'id="history-title" data-shortcut="h"' in page and 'data-shortcut="n"' in page
    assert '<dialog id="shortcuts"' in page


# -- item 11: the customer's timeline, call notes, quick actions --------------------------------------


def _note(agent, text: str, account: str = "004007"):  # type: ignore[no-untyped-def]
    token = csrf_of(agent.get(f"/customers/{account}").text)
    return agent.post(f"/customers/{account}/notes", data={"csrf_token": token, "note": text})


def _timeline(html: str) -> list[str]:
    found = re.search(r'<ol class="timeline">.*?</ol>', html, re.S)
    return (
        [" ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in re.findall(r"<li.*?</li>", found.group(0), re.S)]
        if found
        else []
    )


def test_a_call_note_is_saved_audited_and_shown_first_on_the_timeline(agent, web_app, bookclub):
    posted = _note(agent, "Asked about the December book.\nCard 4111 1111 1111 1111 read out by mistake")
    assert posted.status_code == 303 and posted.headers["location"] == "/customers/004007?note=saved#timeline-title"
    page = follow(agent, posted, "/customers/004007").text
    assert 'id="note-saved"' in page
    first = _timeline(page)[0]
    assert "Note by agent Asked about the December book." in first  # dated by the clock's now
    assert "4111 1111" not in page and "•••• •••• •••• 1111" in first
    notes = rows(web_app, "SELECT account, author, body FROM call_notes")
    assert [(r[0], r[1]) for r in notes] == [("004007", "agent")] and "\n" in notes[0][2]
    audit = rows(web_app, "SELECT actor, action, \"after\" FROM audit_entries WHERE entity = 'call_note'")
    assert [(r[0], r[1]) for r in audit] == [("agent", "add_note")] and "4111 1111" not in audit[0][2]


def test_a_refused_note_comes_back_with_its_text_and_writes_nothing(agent, web_app):
    posted = _note(agent, "   ")
    assert posted.status_code == 303 and posted.headers["location"] == "/customers/004007"
    page = follow(agent, posted, "/customers/004007").text
    assert "Write what the call was about before saving the note." in page and 'id="note-error"' in page
    assert rows(web_app, "SELECT note_id FROM call_notes") == []
    posted = _note(agent, "keep this text \u202e please")
    page = follow(agent, posted, "/customers/004007").text
    assert "Remove the control or text-direction character from the note." in page
    assert "keep this text" in page.split('id="note"')[1].split("</textarea>")[0]
    assert "Remove the control" not in page.split('id="new-order-title"')[1].split("</section>")[0]


def test_the_timeline_shows_orders_payments_and_notices_newest_first(agent, web_app, bookclub):
    nightly(web_app, START)
    page = agent.get("/customers/004007").text
    events = _timeline(page)
    assert any(f"Order {bookclub} entered" in e for e in events)
    assert any(f"Shipment order {bookclub}-1-1 of {bookclub}" in e for e in events)
    assert any("Card authorization: €19.66, visa •••• 1111" in e and "approved" in e for e in events)
    assert any("Card charge: €19.66, visa •••• 1111" in e for e in events)
    assert any("Notice waiting to be sent: payment received" in e for e in events)
    _note(agent, "Called back")
    events = _timeline(agent.get("/customers/004007").text)
    days = [datetime.strptime(" ".join(e.split(" ")[0:3]), "%b %d, %Y") for e in events]
    assert "Called back" in events[0] and days == sorted(days, reverse=True)


def test_an_open_continuity_order_has_its_quick_actions_on_the_customer_page(agent, bookclub):
    page = agent.get("/customers/004007").text
    row = re.search(rf'<tr>\s*<td><a href="/orders/{bookclub}">.*?</tr>', page, re.S).group(0)
    links = re.findall(r'href="(/orders/[^"]+/service/[a-z-]+)"', row)
    assert links == [f"/orders/{bookclub}/service/{s}" for s in ("skip", "change-card", "cancel")]
    assert "Skip the next shipment" in row and "Change card" in row and "Cancel the order" in row
    skip = agent.get(links[0])
    assert skip.status_code == 200 and 'name="seq"' in skip.text


def test_the_timeline_and_quick_actions_are_translated(agent, bookclub):
    agent.post("/language", data={"csrf_token": csrf_of(agent.get("/").text), "language": "nb", "next": "/"})
    _note(agent, "Ringte om desember")
    page = agent.get("/customers/004007").text
    for words in ("Tidslinje", "Notat av agent", "Hopp over neste forsendelse", "Bytt kort", "Hurtighandlinger"):
        assert words in page, words


# -- catalogs ---------------------------------------------------------------------------------


def _calls_msgids() -> set[str]:
    ids: set = set()
    for path in (WEB / "templates" / "calls").glob("*.html"):
        with path.open("rb") as fp:
            ids |= {m[0] if isinstance(m, tuple) else m for _, _, m, _ in babel_extract(fp, ["_", "ngettext"], [], {})}
    with Path(calls.__file__).open("rb") as fp:
        ids |= {m[0] if isinstance(m, tuple) else m for _, _, m, _ in extract_python(fp, ["N_", "ngettext"], [], {})}
    return {i for i in ids if i}


def _catalog(lang: str, domain: str) -> dict:
    with (WEB / "locales" / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fp:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(fp, locale=lang) if m.id}


@pytest.mark.parametrize("lang", ["nb", "nl", "it", "fr", "sv"])
def test_every_calls_string_is_translated_with_its_placeholders(lang):
    catalog = {**_catalog(lang, "agent"), **_catalog(lang, "calls")}
    ids = _calls_msgids()
    assert len(ids) > 3
    for msgid in ids:
        message = catalog.get(msgid)
        assert message is not None and not message.fuzzy, (lang, msgid)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert text, (lang, msgid)
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), (lang, msgid, text)


def test_calls_po_does_not_redefine_another_catalogs_strings():
    """The loader merges every .po of a language: a msgid in two files would silently override one."""
    for lang in i18n.LANGUAGES:
        mine = set(_catalog(lang, "calls"))
        for path in (WEB / "locales" / lang / "LC_MESSAGES").glob("*.po"):
            if path.stem != "calls":
                assert not mine & set(_catalog(lang, path.stem)), (
                    lang,
                    path.stem,
                    mine & set(_catalog(lang, path.stem)),
                )
