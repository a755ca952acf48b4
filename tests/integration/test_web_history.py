"""Issue 18 item 5: the order history reads as the agent needs it, through FastAPI's TestClient on SQLite and
PostgreSQL: one row per change with its fields ``before → after``, words from the catalogs, dates and money
in the page's locale, a cancel shown as a cancel, the agent who entered the order as the first row, and never
a gateway card token (on the page, in the API or in the CLI)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from api_support import API, bearer, client, users_of_each_role  # noqa: E402
from jobs_support import APPROVE, START, nightly, rows  # noqa: E402
from test_web_servicing import agent, preview, save, visible_rows, web_app  # noqa: E402, F401 (fixtures)
from web_support import csrf_of  # noqa: E402

from continuity.entrypoints import cli_output  # noqa: E402
from continuity.entrypoints.cli import app as cli_app  # noqa: E402
from continuity.entrypoints.web import history_view, i18n  # noqa: E402
from continuity.services import payment_entry  # noqa: E402

ARROW = "→"


@pytest.fixture
def bookclub(web_app, agent) -> str:
    """BOOKCLUB (88000, monthly from 2026-11-23) in three installments, entered by the agent on the web;
    the nightly run of START made the child order of shipment 1 and took installment 1."""
    form = agent.get("/customers/004007/orders/new?item=88000")
    entered = agent.post(
        "/customers/004007/orders/new",
        data={
            "csrf_token": csrf_of(form.text),
            "item_id": "88000",
            "quantity": "1",
            "start_date": START.isoformat(),
            "payment_schedule_id": "3X",
        },
    )
    assert entered.status_code == 303, entered.text
    sales_id = entered.headers["location"].split("/")[2]
    payment_entry.add_card_payment(web_app.uow, web_app.gateway, web_app.clock, sales_id, APPROVE, "12/30")
    assert payment_entry.submit(web_app.uow, web_app.gateway, web_app.clock, sales_id).status == "open"
    nightly(web_app, START)
    return sales_id


def history_rows(page: str) -> list[str]:
    """The history table's body rows, each as its cells' visible text joined by " | "."""
    match = re.search(r'<section[^>]*"history-title".*?</section>', page, re.S)
    assert match, "no history section"
    return visible_rows(match.group(0).split("</thead>", 1)[-1])


def set_language(agent, lang: str) -> None:  # type: ignore[no-untyped-def]
    token = csrf_of(agent.get("/").text)
    assert agent.post("/language", data={"language": lang, "csrf_token": token, "next": "/"}).status_code == 303


def tokens(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [t for (t,) in rows(app, "SELECT token FROM cards")]


CHANGES = {
    # slug, values, the one row's "What" starts with, a before → after it shows
    "skip": ("skip", {"seq": "2", "reason": "customer travels"}, "Shipment 2 skipped", "pending → skipped"),
    "substitute": (
        "substitute",
        {"seq": "3", "item_id": "0013"},
        "Shipment 3: item replaced by 0013",
        "€13.75 → €14.95",
    ),
    "cancel": (
        "cancel",
        {"on": "2026-11-23", "reason": "too many books"},
        "Order cancelled from Nov 23, 2026",
        "pending → cancelled",
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_each_change_is_one_row_with_before_and_after(agent, bookclub, name):
    slug, values, what, shown = CHANGES[name]
    assert save(agent, bookclub, preview(agent, bookclub, slug, values)).status_code == 303
    mine = [r for r in history_rows(agent.get(f"/orders/{bookclub}").text) if f"| {what}" in r]
    assert len(mine) == 1, history_rows(agent.get(f"/orders/{bookclub}").text)
    row = mine[0]
    assert shown in row and "| agent |" in row
    assert "values" not in row and "_" not in row.split("|")[2]  # no raw keys (item_id, not_submitted)
    if name == "substitute":
        assert "0018 Midnight Sun → 0013 The Northern Lights" in row
    if name == "cancel":
        assert "pause" not in row.lower() and "Refund" in row
    if "reason" in values:
        assert row.endswith(values["reason"])
    assert not re.search(r"\d{4}-\d{2}-\d{2}", row), "an ISO date"


def test_the_first_row_is_the_agent_who_entered_the_order(agent, web_app, bookclub):
    first = history_rows(agent.get(f"/orders/{bookclub}").text)[0]
    when, who, what, _ = first.split(" | ")
    assert (who, what) == ("agent", "Order entered by agent")
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, 20\d\d, .*", when), when
    later = history_rows(agent.get(f"/orders/{bookclub}").text)[1:]
    assert later and not any("Order entered" in r for r in later)


def test_no_card_token_on_the_page_in_the_api_or_the_cli(agent, web_app, database_url, bookclub):
    form = agent.get(f"/orders/{bookclub}/service/change-card")
    expected = re.search(r'name="expected" value="([^"]*)"', form.text).group(1)
    saved = agent.post(
        f"/orders/{bookclub}/service/change-card",
        data={
            "csrf_token": csrf_of(form.text),
            "action": "save",
            "card_number": "5555555555554444",
            "expiry": "11/31",
            "expected": expected,
        },
    )
    assert saved.status_code == 303, saved.text
    secret = tokens(web_app)
    assert len(secret) >= 2
    page = agent.get(f"/orders/{bookclub}").text
    [changed] = [r for r in history_rows(page) if "Card changed" in r]
    assert "Visa •••• 1111 → Mastercard •••• 4444" in changed or "visa •••• 1111 → mastercard •••• 4444" in changed
    with client(web_app) as api:
        answer = api.get(
            f"{API}/continuity-orders/{bookclub}/history", headers=bearer(users_of_each_role(web_app)["agent"])
        )
    assert answer.status_code == 200
    runner = CliRunner()
    env = {"CONTINUITY_DATABASE_URL": database_url, "CONTINUITY_TODAY": START.isoformat()}
    as_json = runner.invoke(cli_app, ["orders", "history", bookclub, "--json"], env=env)
    plain = runner.invoke(cli_app, ["orders", "history", bookclub], env=env)
    assert as_json.exit_code == 0 and plain.exit_code == 0, as_json.output + plain.output
    for shown in (page, answer.text, as_json.stdout, plain.stdout):
        assert not [t for t in secret if t in shown]
    [card] = [e for e in answer.json() if e["action"] == "change_card"]
    assert {(c["field"], c["before"], c["after"]) for c in card["changes"]} >= {
        ("card", "visa •••• 1111", "mastercard •••• 4444")
    }
    assert "mastercard •••• 4444" in json.dumps(json.loads(as_json.stdout), ensure_ascii=False)


def test_api_and_cli_give_before_and_after_of_each_field(web_app, database_url, bookclub, agent, monkeypatch):
    assert save(agent, bookclub, preview(agent, bookclub, "skip", {"seq": "2"})).status_code == 303
    with client(web_app) as api:
        entries = api.get(
            f"{API}/continuity-orders/{bookclub}/history", headers=bearer(users_of_each_role(web_app)["agent"])
        ).json()
    [skip] = [e for e in entries if e["action"] == "skip"]
    assert {"occurred_at", "actor", "entity", "entity_key", "before", "after", "reason", "source"} <= set(skip)
    assert skip["params"]["seq"] == 2
    assert {"entity": "occurrence", "line_no": 1, "seq": 2, "field": "status", "before": "pending"}.items() <= {
        **next(c for c in skip["changes"] if c["field"] == "status")
    }.items()
    assert entries[-1]["action"] == "entered" and entries[-1]["actor"] == "agent"
    env = {"CONTINUITY_DATABASE_URL": database_url, "CONTINUITY_TODAY": START.isoformat()}
    monkeypatch.setattr(cli_output.console, "width", 400)  # one line per row
    plain = CliRunner().invoke(cli_app, ["orders", "history", bookclub], env=env)
    assert plain.exit_code == 0 and "pending → skipped" in plain.stdout


def test_the_history_in_norwegian(agent, bookclub):
    assert save(agent, bookclub, preview(agent, bookclub, "skip", {"seq": "2"})).status_code == 303
    set_language(agent, "nb")
    history = history_rows(agent.get(f"/orders/{bookclub}").text)
    assert history[0].split(" | ")[2] == "Ordre registrert av agent"
    [skip] = [r for r in history if "| Forsendelse 2 hoppet over" in r]
    assert "Forsendelse 2: Status venter → hoppet over" in skip and "Avdrag 2: Beløp" in skip
    assert re.match(r"\d{1,2}\. (jan|feb|mar|apr|mai|jun|jul|aug|sep|okt|nov|des)\.? 20\d\d", skip), skip
    assert "kr" not in skip and "€" in skip and "," in skip.split("Beløp")[1]  # € 19,66 in nb


def test_a_child_orders_first_row_is_its_creation_from_the_parent_and_charges_name_their_card(agent, bookclub):
    child = f"{bookclub}-1-1"
    first = history_rows(agent.get(f"/orders/{child}").text)[0]
    who, what = first.split(" | ")[1:3]
    assert who == "Create child orders (job)" and what.startswith(f"Created from order {bookclub} Status open")
    assert f'href="/orders/{bookclub}"' in agent.get(f"/orders/{child}").text.split('id="history-title"')[1]
    [charge] = [r for r in history_rows(agent.get(f"/orders/{bookclub}").text) if "Card charge: approved" in r]
    assert "Installment 1: Amount €19.66 · Card visa •••• 1111" in charge


def test_an_order_entered_through_the_api_or_the_cli_records_who_entered_it(web_app, database_url, monkeypatch):
    with client(web_app) as api:
        made = api.post(
            f"{API}/sales-orders",
            headers=bearer(users_of_each_role(web_app)["agent"]),
            json={"customer": "004007", "lines": [{"item_id": "0013", "quantity": 1}]},
        )
    assert made.status_code == 201, made.text
    env = {"CONTINUITY_DATABASE_URL": database_url, "CONTINUITY_TODAY": START.isoformat()}
    runner = CliRunner()
    typed = runner.invoke(
        cli_app, ["orders", "new", "--customer", "004007", "--item", "0013", "--actor", "ann", "--json"], env=env
    )
    assert typed.exit_code == 0, typed.output
    for sales_id, actor, kind in (
        (made.json()["sales_id"], "agent-user", "agent"),
        (json.loads(typed.stdout)["sales_id"], "ann", "cli"),
    ):
        shown = json.loads(runner.invoke(cli_app, ["orders", "history", sales_id, "--json"], env=env).stdout)
        assert [(e["action"], e["actor"], e["actor_kind"]) for e in shown] == [("entered", actor, kind)]


# -- catalogs ---------------------------------------------------------------------------------------
WEB = Path(history_view.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != "en"]


def _msgids() -> set[str]:
    with Path(history_view.__file__).open("rb") as fp:
        ids = {m for _, _, m, _ in extract_python(fp, ["N_"], [], {})}
    for path in (WEB / "templates" / "history").glob("*.html"):
        with path.open("rb") as fp:
            ids |= {m for _, _, m, _ in babel_extract(fp, ["_"], [], {})}
    return {i for i in ids if i}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_history_string_is_translated_with_its_placeholders(lang):
    catalogs: dict = {}
    for path in (WEB / "locales" / lang / "LC_MESSAGES").glob("*.po"):
        with path.open("rb") as fp:
            catalogs.update({m.id: m for m in read_po(fp, locale=lang) if m.id})
    ids = _msgids()
    assert len(ids) > 40
    for msgid in ids:
        message = catalogs.get(msgid)
        assert message is not None and message.string and not message.fuzzy, (lang, msgid)
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(msgid)), (lang, msgid)


def test_history_po_does_not_redefine_the_other_catalogs_strings():
    """The loader merges every .po of a language: a msgid in two files would silently override the other."""
    for lang in TRANSLATED:
        folder = WEB / "locales" / lang / "LC_MESSAGES"
        with (folder / "history.po").open("rb") as fp:
            mine = {m.id for m in read_po(fp, locale=lang) if m.id}
        for other in folder.glob("*.po"):
            if other.name != "history.po":
                with other.open("rb") as fp:
                    assert not mine & {m.id for m in read_po(fp, locale=lang) if m.id}, (lang, other.name)


def test_every_action_the_services_record_has_its_words():
    """The actions written by the services, jobs and gateway calls (a new one needs its words here)."""
    written = {"entered", "skip", "reschedule", "substitute", "change_card", "pause", "resume", "cancel"}
    written |= {"refund_requested", "child_order_created", "looked_up", "held", "released", "shipped", "invoiced"}
    written |= {"closed", "added", "changed", "removed", "recomputed", "returned"}
    assert written <= set(history_view.ACTIONS)
