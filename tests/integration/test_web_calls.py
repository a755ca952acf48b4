"""Issue 18 items 9–11 in the web UI, through FastAPI's TestClient on SQLite and PostgreSQL: the search's
results as the agent types (a fragment; the GET form without JavaScript), the search box and the recent
customers in the header of every page, and the calls catalog complete in the six languages."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from test_web_servicing import agent, visible_rows, web_app  # noqa: E402, F401 (fixtures)
from web_support import client_login, web_client  # noqa: E402

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
