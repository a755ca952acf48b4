"""Returns in the web UI (issue 16 part 1), through FastAPI's TestClient on SQLite and PostgreSQL: a shipped and
invoiced child order's page has a Return form; a return redirects (303) to the order page, which confirms it
and lists the credit note (the parent's page too); a refused return redirects back with the error in the
agent's language and the values typed, writing nothing; the manager sets the program's return action in
the editor; the history words the return; the returns catalogs are complete in all six languages."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from jobs_support import START, enter_order, nightly, rows, snapshot  # noqa: E402
from test_returns import SHIPPED, TABLES, refund_ledger  # noqa: E402
from web_support import MANAGER, add_web_users, client_login, csrf_of, follow, web_client  # noqa: E402

from continuity.entrypoints.web import i18n  # noqa: E402
from continuity.services import catalog  # noqa: E402

WEB = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture
def web_app(demo_app):  # type: ignore[no-untyped-def]
    add_web_users(demo_app)
    return demo_app


@pytest.fixture
def agent(web_app):  # type: ignore[no-untyped-def]
    with web_client(web_app) as client:
        assert client_login(client).status_code == 303
        yield client


@pytest.fixture
def shipped(web_app) -> tuple[str, str]:
    """A TRILOGY order (paid per shipment) of two, whose first child order is shipped and invoiced."""
    parent = enter_order(web_app, "0016", quantity=2)
    nightly(web_app, START)
    nightly(web_app, SHIPPED)
    child = rows(web_app, "SELECT sales_id FROM sales_orders WHERE parent_sales_id = :p", p=parent)[0][0]
    return parent, child


def post_return(client, child: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/orders/{child}").text)
    data = {"line_no": "1", "quantity": "1", "reason_code": "DAMAGED", "note": "", **fields, "csrf_token": token}
    return client.post(f"/orders/{child}/return", data=data)


def test_a_return_from_the_child_order_page(agent, web_app, shipped):
    parent, child = shipped
    page = agent.get(f"/orders/{child}").text
    assert 'action="/orders/' + child + '/return"' in page and "DAMAGED — Arrived damaged" in page

    answer = post_return(agent, child, quantity="2", note="box crushed")
    assert answer.status_code == 303 and answer.headers["location"] == f"/orders/{child}?returned=CN-000001#returns"
    shown = follow(agent, answer).text
    assert 'id="returned"' in shown and "CN-000001" in shown and "€29.90" in shown
    assert "Goods returned: credit note CN-000001" in shown  # the history words the return
    key = rows(web_app, "SELECT refund_key FROM credit_notes")[0][0]
    assert refund_ledger(web_app) == [(key, 2990, "approved")]
    assert "CN-000001" in agent.get(f"/orders/{parent}").text  # the parent lists its children's credit notes


def test_a_refused_return_comes_back_with_the_error_in_the_agents_language_and_writes_nothing(agent, web_app, shipped):
    _, child = shipped
    agent.post("/language", data={"language": "fr", "csrf_token": csrf_of(agent.get("/").text)})
    before = snapshot(web_app, TABLES)
    answer = post_return(agent, child, quantity="3", note="trop")
    assert answer.status_code == 303 and answer.headers["location"] == f"/orders/{child}"
    page = follow(agent, answer).text
    assert "au plus 2" in page and 'value="trop"' in page and 'id="return-error"' in page
    assert "au plus 2" not in agent.get(f"/orders/{child}").text  # shown once
    assert follow(agent, post_return(agent, child, quantity="deux")).status_code == 200
    assert snapshot(web_app, TABLES) == before
    without_token = agent.post(
        f"/orders/{child}/return", data={"line_no": "1", "quantity": "1", "reason_code": "DAMAGED"}
    )
    assert without_token.status_code == 403 and snapshot(web_app, TABLES) == before


def test_only_a_shipped_and_invoiced_child_order_shows_the_form(agent, web_app):
    parent = enter_order(web_app, "0016")
    nightly(web_app, START)
    child = rows(web_app, "SELECT sales_id FROM sales_orders WHERE parent_sales_id = :p", p=parent)[0][0]
    assert "/return" not in agent.get(f"/orders/{child}").text
    assert "/return" not in agent.get(f"/orders/{parent}").text


def test_the_manager_sets_the_return_action_in_the_program_editor(web_app):
    with web_client(web_app) as manager:
        assert client_login(manager, MANAGER).status_code == 303
        url = "/setup/programs/TRILOGY"
        page = manager.get(url).text
        assert 'name="return_action"' in page
        header = {
            "description": "Northern trilogy",
            "order_start": "first_event",
            "days_after_order": "3",
            "active": "on",
            "prompt_for_start_date": "on",
            "return_action": "replace",
            "csrf_token": csrf_of(page),
        }
        assert manager.post(url, data=header).status_code == 303
        assert catalog.program(web_app.uow, "TRILOGY").return_action.value == "replace"
        assert re.search(r'<option value="replace"\s+selected', manager.get(url).text)


def _msgids() -> set[str]:
    ids: set[str] = set()
    with (WEB / "templates" / "returns" / "_returns.html").open("rb") as fp:
        ids |= {msg for _, _, msg, _ in babel_extract(fp, ["_"], [], {}) if isinstance(msg, str)}
    with (WEB / "routes" / "order_returns.py").open("rb") as fp:
        ids |= {msg for _, _, msg, _ in extract_python(fp, ["N_"], [], {}) if isinstance(msg, str)}
    return {i for i in ids if i}


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_returns_string_is_translated_with_its_placeholders(lang):
    t = i18n.translations(lang)
    ids = _msgids()
    assert len(ids) > 20
    for msgid in ids:
        translated = t.gettext(msgid)
        assert translated != msgid or len(msgid) < 8, (lang, msgid)
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(msgid)), (lang, msgid)


def test_returns_po_redefines_no_other_catalogs_string():
    for lang in i18n.LANGUAGES:
        folder = WEB / "locales" / lang / "LC_MESSAGES"
        with (folder / "returns.po").open("rb") as fp:
            mine = {m.id for m in read_po(fp, locale=lang) if m.id}
        for other in folder.glob("*.po"):
            if other.name != "returns.po":
                with other.open("rb") as fp:
                    assert not mine & {m.id for m in read_po(fp, locale=lang) if m.id}, (lang, other.name)


def test_the_dashboard_shows_the_returns_of_the_last_30_days(agent, web_app, shipped):
    _, child = shipped
    follow(agent, post_return(agent, child, quantity="2"))
    with web_client(web_app) as manager:
        assert client_login(manager, MANAGER).status_code == 303
        page = manager.get("/dashboard").text
    section = page[page.index('id="returns"') :]
    assert "€29.90" in section[: section.index("</section>")] and "DAMAGED" in section


def test_a_replacement_order_shows_on_the_pages_of_the_parent_the_child_and_itself(agent, web_app):
    from api_support import API, bearer, users_of_each_role
    from test_returns import with_action

    with_action(web_app, "TRILOGY", "replace")
    parent = enter_order(web_app, "0016")
    nightly(web_app, START)
    nightly(web_app, SHIPPED)
    child = rows(web_app, "SELECT sales_id FROM sales_orders WHERE parent_sales_id = :p", p=parent)[0][0]
    follow(agent, post_return(agent, child, reason_code="WRONG_ITEM"))
    replacement = f"{child}-R1"
    assert replacement in agent.get(f"/orders/{child}").text
    assert "CN-000001" in agent.get(f"/orders/{parent}").text
    page = agent.get(f"/orders/{replacement}")
    assert page.status_code == 200 and "0013" in page.text and "/return" not in page.text  # not invoiced yet
    token = users_of_each_role(web_app)["agent"]
    continuity = agent.get(f"{API}/continuity-orders/{parent}", headers=bearer(token))
    assert continuity.status_code == 200, continuity.text
