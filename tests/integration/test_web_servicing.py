"""Servicing a continuity order in the web UI (issue 6 on issue 5's services), through FastAPI's TestClient on
SQLite and PostgreSQL: form → Preview → Save for each change; the preview's "after" is what the order page
shows after Save; an error or a form without its CSRF token writes nothing; the history shows the change;
a card number is posted once and never shown; the servicing catalogs are complete."""

from __future__ import annotations

import re
import sys
from html import unescape
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from jobs_support import APPROVE, DECLINE, START, enter_order, nightly, rows, snapshot, use_card  # noqa: E402
from web_support import MANAGER, add_web_users, client_login, csrf_of, flash_cookie, follow, web_client  # noqa: E402

from continuity.entrypoints.web import i18n  # noqa: E402
from continuity.entrypoints.web.routes import order_servicing  # noqa: E402
from continuity.services import views  # noqa: E402
from continuity.services.projection import order_projection  # noqa: E402

TABLES = (
    "schedule_occurrences",
    "schedule_adjustments",
    "installments",
    "audit_entries",
    "continuity_lines",
    "cards",
    "payment_attempts",
    "sales_orders",
    "sales_lines",
)


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
def bookclub(web_app) -> str:
    """BOOKCLUB (shipments monthly from 2026-11-26) in three installments; the nightly run of START created the
    child order of shipment 1 and took installment 1."""
    parent = enter_order(web_app, "88000", payment_schedule_id="3X")
    nightly(web_app, START)
    return parent


# -- reading the pages ------------------------------------------------------------------------------
def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def visible_rows(html: str) -> list[str]:
    """The rows of the shipment and charge tables as the agent reads them (without "Why?" and change marks)."""
    html = re.sub(r"<details.*?</details>|<span class=\"changed-mark\">.*?</span>", "", html, flags=re.S)
    result = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        cells = [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        result.append(" | ".join(cells))
    return result


def save_form(html: str) -> dict[str, str]:
    """The fields of the preview's Save form (hidden values, CSRF token, the preview's fingerprint)."""
    form = re.search(r'<form[^>]*class="card save".*?</form>', html, re.S)
    assert form, "the preview has no Save form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    return {k: unescape(v) for k, v in fields.items()}


def preview(agent, sales_id: str, slug: str, values: dict):  # type: ignore[no-untyped-def]
    page = agent.get(f"/orders/{sales_id}/service/{slug}")
    assert page.status_code == 200, page.text
    posted = agent.post(
        f"/orders/{sales_id}/service/{slug}", data={"csrf_token": csrf_of(page.text), "action": "preview", **values}
    )
    return follow(agent, posted, f"/orders/{sales_id}/service/{slug}")  # PRG: the preview is a GET page


def save(agent, sales_id: str, previewed):  # type: ignore[no-untyped-def]
    slug = re.search(r'action="/orders/[^/]+/service/([a-z-]+)"', previewed.text).group(1)
    return agent.post(f"/orders/{sales_id}/service/{slug}", data={**save_form(previewed.text), "action": "save"})


# -- preview then save ------------------------------------------------------------------------------
CHANGES = {
    "skip": ("skip", {"seq": "2", "reason": "customer travels"}),
    "reschedule": ("reschedule", {"seq": "3", "how": "date", "new_date": "2027-02-05", "reason": "later"}),
    "reschedule-following": ("reschedule", {"seq": "2", "how": "days", "days": "10", "following": "1"}),
    "substitute": ("substitute", {"seq": "3", "item_id": "0013"}),
    "pause": ("pause", {"on": "2026-12-20", "reason": "moving house"}),
    "cancel": ("cancel", {"on": "2026-11-23", "reason": "too many books"}),
}


#: how the order page's history words each change
WORDED = {
    "skip": "Shipment 2 skipped",
    "reschedule": "Shipment 3 rescheduled to Feb 5, 2027",
    "reschedule-following": "Shipment 2 and the later ones moved by 10 day(s)",
    "substitute": "Shipment 3: item replaced by 0013 The Northern Lights",
    "pause": "Order paused from Dec 20, 2026",
    "cancel": "Order cancelled from Nov 23, 2026",
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_the_previewed_after_is_the_order_page_after_save(agent, web_app, bookclub, name):
    slug, values = CHANGES[name]
    untouched = snapshot(web_app, TABLES)
    shown = preview(agent, bookclub, slug, values)
    assert shown.status_code == 200, shown.text
    assert snapshot(web_app, TABLES) == untouched, "a preview wrote something"
    before, after = visible_rows(section(shown.text, "before")), visible_rows(section(shown.text, "after"))
    assert after != before, "the preview shows no change"
    if name == "cancel":  # 19.66 paid for 12.99 shipped: nothing is left to charge, and no row to mark
        assert "Nothing left to charge." in section(shown.text, "after")
    else:
        assert 'class="changed"' in section(shown.text, "after")
    assert "card_number" not in shown.text

    saved = save(agent, bookclub, shown)
    assert saved.status_code == 303 and saved.headers["location"] == f"/orders/{bookclub}?saved={slug}"
    page = agent.get(saved.headers["location"])
    assert page.status_code == 200
    assert visible_rows(section(page.text, "projection")) == after
    assert 'id="saved"' in page.text
    history = page.text.split('id="history-title"')[1]
    assert "agent" in history and WORDED[name] in history  # issue 18 item 5: the history words the change
    if "reason" in values:
        assert values["reason"] in history


def test_the_actor_is_the_logged_in_user_with_the_kind_of_their_role(web_app, bookclub):
    with web_client(web_app) as manager:
        assert client_login(manager, MANAGER).status_code == 303
        assert save(manager, bookclub, preview(manager, bookclub, "skip", {"seq": "4"})).status_code == 303
    actors = rows(
        web_app,
        "SELECT DISTINCT actor, actor_kind FROM audit_entries WHERE sales_id = :s AND action = 'skip'",
        s=bookclub,
    )
    assert actors == [(MANAGER[0], "manager")]


def test_pause_then_resume_and_the_explanation_says_why(agent, web_app, bookclub):
    save(agent, bookclub, preview(agent, bookclub, "pause", {"on": "2026-12-20"}))
    paused = agent.get(f"/orders/{bookclub}").text
    assert "/service/resume" in paused and "/service/reschedule" not in paused
    assert "the order is paused from Dec 20, 2026" in paused  # "Why this date?" of a held shipment

    shown = preview(agent, bookclub, "resume", {"on": "2027-01-10"})
    after = visible_rows(section(shown.text, "after"))
    assert any("Jan 16, 2027" in row for row in after), after  # 2026-12-26 + 21 days of pause
    saved = save(agent, bookclub, shown)
    assert saved.status_code == 303
    page = agent.get(saved.headers["location"]).text
    assert visible_rows(section(page, "projection")) == after
    assert "because the order was paused from Dec 20, 2026 and resumed on Jan 10, 2027" in page
    shipments = order_projection(web_app.uow, web_app.clock.today(), bookclub)["shipments"]
    assert [s["ship_date"] for s in shipments if s["seq"] == 2] == ["2027-01-16"]


def test_reschedule_moves_by_the_field_the_agent_typed_into(agent, bookclub):
    """Without JavaScript the radio button may be forgotten: the field that was changed decides."""
    form = agent.get(f"/orders/{bookclub}/service/reschedule?seq=3").text
    shown = re.search(r'name="shown_date" value="([^"]+)"', form).group(1)
    assert shown == "2027-01-26" and 'id="how-date" name="how" value="date" checked' in form
    base = {"csrf_token": csrf_of(form), "action": "preview", "seq": "3", "shown_date": shown}
    url = f"/orders/{bookclub}/service/reschedule"
    by_days = follow(agent, agent.post(url, data={**base, "how": "date", "new_date": shown, "days": "10"}))
    assert "by 10 day(s)" in by_days.text and "Feb 5, 2027" in section(by_days.text, "after")
    by_date = follow(agent, agent.post(url, data={**base, "how": "days", "new_date": "2027-02-01", "days": ""}))
    assert "to Feb 1, 2027" in by_date.text and "Feb 1, 2027" in section(by_date.text, "after")
    both = follow(agent, agent.post(url, data={**base, "how": "days", "new_date": "2027-02-01", "days": "3"}))
    assert "by 3 day(s)" in both.text  # both changed: the radio button decides


def test_why_this_date_is_translated(agent, bookclub):
    token = csrf_of(agent.get("/").text)
    agent.post("/language", data={"language": "fr", "csrf_token": token, "next": "/"})
    page = agent.get(f"/orders/{bookclub}").text
    assert "Pourquoi cette date" in page
    assert "1 mois après l’expédition précédente du 26 déc. 2026" in unescape(page), page


# -- errors, CSRF ----------------------------------------------------------------------------------
def test_an_error_is_shown_in_the_agents_language_next_to_the_form_and_nothing_is_saved(agent, web_app, bookclub):
    token = csrf_of(agent.get("/").text)
    agent.post("/language", data={"language": "nb", "csrf_token": token, "next": "/"})
    untouched = snapshot(web_app, TABLES)
    past = preview(agent, bookclub, "reschedule", {"seq": "3", "how": "date", "new_date": "2026-11-01"})
    assert past.status_code == 422
    assert 'id="error"' in past.text and "Datoen er passert" in past.text
    assert 'value="2026-11-01"' in past.text, "the typed values are kept in the form"
    page = agent.get(f"/orders/{bookclub}/service/reschedule")
    out_of_order = agent.post(
        f"/orders/{bookclub}/service/reschedule",
        data={"csrf_token": csrf_of(page.text), "action": "save", "seq": "2", "how": "date", "new_date": "2027-03-01"},
    )
    shown = follow(agent, out_of_order, f"/orders/{bookclub}/service/reschedule")  # PRG: back to the form
    assert 'id="error"' in shown.text and 'value="2027-03-01"' in shown.text
    garbage = agent.post(
        f"/orders/{bookclub}/service/pause",
        data={"csrf_token": csrf_of(page.text), "action": "save", "on": "31.12.2026"},
    )
    shown = follow(agent, garbage, f"/orders/{bookclub}/service/pause")
    assert "Skriv inn en gyldig dato" in shown.text and 'value="31.12.2026"' in shown.text
    refreshed = agent.get(garbage.headers["location"])  # a refresh: the form again, the error said once
    assert "Skriv inn en gyldig dato" not in refreshed.text
    assert snapshot(web_app, TABLES) == untouched


def test_a_preview_is_a_get_page_and_a_refresh_shows_it_again_posting_nothing(agent, web_app, bookclub):
    """Issue 18 item 8: the preview was the answer of a POST, so a refresh re-posted the form."""
    untouched = snapshot(web_app, TABLES)
    shown = preview(agent, bookclub, "skip", {"seq": "2", "reason": "customer travels"})
    assert shown.request.method == "GET" and "action=preview" in str(shown.url)
    again = agent.get(str(shown.url))
    assert visible_rows(section(again.text, "after")) == visible_rows(section(shown.text, "after"))
    assert save_form(again.text)["reason"] == "customer travels"
    assert snapshot(web_app, TABLES) == untouched


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(agent, web_app, bookclub):
    shown = preview(agent, bookclub, "skip", {"seq": "2"})
    fields = save_form(shown.text)
    untouched = snapshot(web_app, TABLES)
    without = {k: v for k, v in fields.items() if k != "csrf_token"}
    refused = agent.post(f"/orders/{bookclub}/service/skip", data={**without, "action": "save"})
    assert refused.status_code == 403
    forged = agent.post(f"/orders/{bookclub}/service/skip", data={**without, "action": "save", "csrf_token": "x"})
    assert forged.status_code == 403
    assert snapshot(web_app, TABLES) == untouched
    assert save(agent, bookclub, shown).status_code == 303  # the real form still works
    assert snapshot(web_app, TABLES) != untouched


def test_save_after_the_order_changed_shows_the_new_preview_instead(agent, web_app, bookclub):
    shown = preview(agent, bookclub, "skip", {"seq": "3"})
    page = agent.get(f"/orders/{bookclub}/service/substitute")  # meanwhile, another agent substitutes #4
    agent.post(
        f"/orders/{bookclub}/service/substitute",
        data={"csrf_token": csrf_of(page.text), "action": "save", "seq": "4", "item_id": "0013"},
    )
    untouched = snapshot(web_app, TABLES)
    again = follow(agent, save(agent, bookclub, shown), f"/orders/{bookclub}/service/skip")
    assert 'id="notice"' in again.text
    assert snapshot(web_app, TABLES) == untouched
    assert save(agent, bookclub, again).status_code == 303  # saved once the new preview is confirmed


def test_unknown_change_and_not_a_continuity_order(agent, bookclub):
    assert agent.get(f"/orders/{bookclub}/service/explode").status_code == 404
    child = f"{bookclub}-1-1"
    assert agent.get(f"/orders/{child}").status_code == 200
    assert "/service/" not in agent.get(f"/orders/{child}").text
    assert agent.get(f"/orders/{child}/service/skip").status_code == 404


def test_a_cancelled_order_offers_no_more_schedule_changes(agent, bookclub):
    assert "/service/skip" in agent.get(f"/orders/{bookclub}").text
    save(agent, bookclub, preview(agent, bookclub, "cancel", {"on": "2026-11-23"}))
    page = agent.get(f"/orders/{bookclub}").text
    assert "/service/skip" not in page and "/service/cancel" not in page
    assert agent.get(f"/orders/{bookclub}/service/cancel").status_code == 200  # the form; its preview refuses:
    again = preview(agent, bookclub, "cancel", {"on": "2026-11-23"})
    assert again.status_code == 422 and "The order is cancelled" in again.text


def test_cancel_shows_the_refund(agent, web_app):
    """REPLENISH billed up front (3 installments of 19.80, 6 shipments of 9.90): paid 19.80, one shipment
    made, so cancelling refunds 9.90."""
    from continuity.services import order_entry, payment_entry

    sales_id = order_entry.create_order_with_line(web_app.uow, web_app.clock, "004020", "0021", 1, START, "3X")
    payment_entry.add_card_payment(web_app.uow, web_app.gateway, web_app.clock, sales_id, APPROVE, "12/30")
    payment_entry.submit(web_app.uow, web_app.gateway, web_app.clock, sales_id)
    nightly(web_app, START)  # installment 1 (19.80) is captured, shipment 1 (9.90) becomes a child order
    shown = preview(agent, sales_id, "cancel", {"on": "2026-11-23"})
    assert shown.status_code == 200, shown.text
    refund = re.search(r'<dd id="refund">(.*?)</dd>', shown.text, re.S).group(1)
    assert "€9.90 back to the card" in refund
    assert save(agent, sales_id, shown).status_code == 303
    history = agent.get(f"/orders/{sales_id}").text.split('id="history-title"')[1]
    assert "refund" in history and "€9.90" in history


def test_cancel_before_any_capture_shows_the_authorization_it_releases(agent, web_app):
    from continuity.services import order_entry, payment_entry

    sales_id = order_entry.create_order_with_line(web_app.uow, web_app.clock, "004020", "0021", 1, START, "3X")
    payment_entry.add_card_payment(web_app.uow, web_app.gateway, web_app.clock, sales_id, APPROVE, "12/30")
    payment_entry.submit(web_app.uow, web_app.gateway, web_app.clock, sales_id)  # installment 1 authorized
    shown = preview(agent, sales_id, "cancel", {"on": "2026-11-23"})
    assert "nothing to refund" in re.search(r'<dd id="refund">(.*?)</dd>', shown.text, re.S).group(1)
    assert "installment 1: €19.80" in re.search(r'<dd id="voided">(.*?)</dd>', shown.text, re.S).group(1)
    assert save(agent, sales_id, shown).status_code == 303
    assert rows(web_app, "SELECT status FROM installments WHERE sales_id = :s AND seq = 1", s=sales_id) == [
        ("cancelled",)
    ]


# -- change card ------------------------------------------------------------------------------------
def test_change_card_posts_the_number_once_and_never_shows_it(agent, web_app):
    sales_id = enter_order(web_app, "88000")  # pay per shipment
    form = agent.get(f"/orders/{sales_id}/service/change-card")
    assert form.status_code == 200
    assert 'id="card_number"' in form.text and 'id="before"' in form.text and 'id="after"' in form.text
    assert 'name="card_number" value' not in form.text
    untouched = snapshot(web_app, TABLES)
    bad = agent.post(
        f"/orders/{sales_id}/service/change-card",
        data={
            "csrf_token": csrf_of(form.text),
            "action": "save",
            "card_number": "4111111111111112",
            "expiry": "12/30",
            "expected": save_form(form.text)["expected"],
        },
    )
    assert "4111111111111112" not in flash_cookie(agent)  # the number is never kept, not even for one page
    bad = follow(agent, bad, f"/orders/{sales_id}/service/change-card")
    assert "The card number is not valid" in bad.text
    assert "4111111111111112" not in bad.text
    assert snapshot(web_app, TABLES) == untouched

    new_card = "5555555555554444"
    saved = agent.post(
        f"/orders/{sales_id}/service/change-card",
        data={
            "csrf_token": csrf_of(form.text),
            "action": "save",
            "card_number": new_card,
            "expiry": "11/31",
            "reason": "new card",
            **{"expected": save_form(form.text)["expected"]},
        },
    )
    assert saved.status_code == 303, saved.text
    page = agent.get(saved.headers["location"]).text
    assert "4444" in page and new_card not in page
    token = rows(web_app, "SELECT card_token FROM continuity_lines WHERE sales_id = :s", s=sales_id)[0][0]
    assert rows(web_app, "SELECT last4 FROM cards WHERE token = :t", t=token) == [("4444",)]
    dump = "\n".join(str(r) for t in TABLES for r in rows(web_app, f"SELECT * FROM {t}"))
    assert new_card not in dump


def test_change_card_preview_lists_the_declined_charges_it_settles(agent, web_app):
    sales_id = enter_order(web_app, "88000")
    use_card(web_app, sales_id, DECLINE)
    nightly(web_app, START)  # shipment 1's child order: its charge is declined with the old card
    form = agent.get(f"/orders/{sales_id}/service/change-card").text
    retried = re.search(r'<ul id="retried">(.*?)</ul>', form, re.S)
    assert retried and "declined" in retried.group(1), form


# -- a child order's page ---------------------------------------------------------------------------
def test_a_held_child_whose_charge_was_captured_owes_nothing_and_shows_the_charge(agent, web_app):
    """Issue 18 item 6: a child on hold for its parent (here BOOKCLUB's installment 1, declined on a new
    card) while its own charge (the book 0015 of the mixed order, €12.99) was captured read "paid" in its
    installments, "Due now €12.99" and "No payments"."""
    from continuity.services import order_entry, payment_entry

    sales_id = order_entry.create_order_with_line(web_app.uow, web_app.clock, "004007", "88000", 1, START, "3X")
    order_entry.add_line(web_app.uow, sales_id, "0015")  # an ordinary line: the child SO-…-2-1 ships it
    payment_entry.add_card_payment(web_app.uow, web_app.gateway, web_app.clock, sales_id, APPROVE, "12/30")
    assert payment_entry.submit(web_app.uow, web_app.gateway, web_app.clock, sales_id).status == "open"
    use_card(web_app, sales_id, DECLINE)  # installment 1 is charged afresh, on a card that declines
    nightly(web_app, START)
    child = f"{sales_id}-2-1"
    assert rows(web_app, "SELECT status FROM sales_orders WHERE sales_id = :s", s=child) == [("on_hold",)]
    assert rows(web_app, "SELECT status FROM installments WHERE sales_id = :s", s=child) == [("paid",)]

    assert views.order_view(web_app.uow, child)["amount_due_now"] == "0.00"
    page = agent.get(f"/orders/{child}").text
    lines, payments = (page.split(f'id="{s}"')[1].split("</section>")[0] for s in ("lines-title", "payments-title"))
    due = [r for r in visible_rows(lines) if r.startswith("Due now")]
    assert due and due[0].endswith("€0.00"), due
    assert "No payments." not in payments
    assert visible_rows(payments)[1:] == ["Nov 23, 2026 | charge | visa •••• 1111 | €12.99 | approved"]
    assert f"/orders/{child}/entry" not in page  # a child order is not entered by the agent


# -- catalogs -------------------------------------------------------------------------------------
WEB = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _servicing_msgids() -> set[str]:
    ids: set = set()
    for path in (WEB / "templates" / "servicing").glob("*.html"):
        with path.open("rb") as fp:
            ids |= {m[0] if isinstance(m, tuple) else m for _, _, m, _ in babel_extract(fp, ["_", "ngettext"], [], {})}
    with Path(order_servicing.__file__).open("rb") as fp:
        ids |= {m[0] if isinstance(m, tuple) else m for _, _, m, _ in extract_python(fp, ["N_", "ngettext"], [], {})}
    return {i for i in ids if i}


def _catalogs(lang: str) -> dict:
    """servicing.po and agent.po of a language (the templates also use a few of the agent's strings), and
    customers.po (the date fields' YYYY-MM-DD, issue 18 item 13)."""
    found: dict = {}
    for domain in ("agent", "servicing", "customers"):
        with (WEB / "locales" / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fp:
            found.update({m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(fp, locale=lang) if m.id})
    return found


@pytest.mark.parametrize("lang", ["nb", "nl", "it", "fr", "sv"])
def test_every_servicing_string_is_translated_with_its_placeholders(lang):
    catalog = _catalogs(lang)
    ids = _servicing_msgids()
    assert len(ids) > 80
    for msgid in ids:
        message = catalog.get(msgid)
        assert message is not None and not message.fuzzy, (lang, msgid)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert text, (lang, msgid)
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), (lang, msgid, text)


def test_servicing_po_does_not_redefine_the_agents_strings():
    """The loader merges every .po of a language: a msgid in both files would silently override agent.po."""
    for lang in ("nb", "nl", "it", "fr", "sv"):
        with (WEB / "locales" / lang / "LC_MESSAGES" / "servicing.po").open("rb") as fp:
            mine = {m.id for m in read_po(fp, locale=lang) if m.id}
        for other in ("agent", "manager"):
            path = WEB / "locales" / lang / "LC_MESSAGES" / f"{other}.po"
            if path.exists():
                with path.open("rb") as fp:
                    theirs = {m.id for m in read_po(fp, locale=lang) if m.id}
                assert not mine & theirs, (lang, other, mine & theirs)


@pytest.mark.parametrize(
    "slug, values, shown",
    [
        ("cancel", {"on": "2026-11-23", "reason": "too many books"}, "cancelled"),
        ("pause", {"on": "2026-12-01", "reason": "moving house"}, "paused"),
    ],
)
def test_the_status_badge_shows_cancelled_or_paused_after_the_change(agent, web_app, bookclub, slug, values, shown):
    """Issue 18 item 1: the badge read "open" after a cancel or a pause (the order stays open until
    close-orders closes it)."""
    saved = save(agent, bookclub, preview(agent, bookclub, slug, values))
    assert saved.status_code == 303
    page = agent.get(f"/orders/{bookclub}").text
    assert f'<span class="status {shown}">{shown}</span>' in page
    customer = agent.get("/customers/004007").text
    assert f'<span class="status {shown}">{shown}</span>' in customer
    assert views.order_view(web_app.uow, bookclub)["standing"] == shown
