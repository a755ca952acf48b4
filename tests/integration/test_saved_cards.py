"""Issue 18 item 4: saved cards as the agent sees them, on SQLite and PostgreSQL. One entry per physical card
(brand + last 4 of one customer: the gateway tokenizes each entry anew and we keep no number), its newest
expiry shown and the older rows kept and marked replaced; declined and expired cards marked wherever saved
cards are listed: the service, the JSON API, the customer page, the recap's choice and change-card."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from api_support import API, bearer, client, users_of_each_role  # noqa: E402
from jobs_support import APPROVE, DECLINE, KAREN, enter_order, rows  # noqa: E402
from test_web_servicing import agent, web_app  # noqa: E402, F401 (the web user fixtures)
from web_support import csrf_of  # noqa: E402

from continuity.domain.card import Card, Expiry  # noqa: E402
from continuity.services import customers, order_entry, payment_entry  # noqa: E402

MASTERCARD = "5555555555554444"


def _tokenize(app, number: str, expiry: str) -> Card:  # type: ignore[no-untyped-def]
    return payment_entry.tokenize_card(app.uow, app.gateway, app.clock, KAREN, number, expiry)


def _expired_card(app) -> Card:  # type: ignore[no-untyped-def]
    """An old card (the gateway refuses to tokenize an expired one; it was saved while still valid)."""
    card = Card("tok_old_amex", "amex", "0005", Expiry(1, 2021), "Karen Berg")
    with app.uow() as uow:
        uow.customers.save_card(KAREN, card)
        uow.commit()
    return card


def _declined_order(app) -> str:  # type: ignore[no-untyped-def]
    """An order whose submit was declined (the card stays saved)."""
    sales_id = order_entry.create_order_with_line(app.uow, app.clock, KAREN, "88000")
    payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, DECLINE, "12/30")
    assert payment_entry.submit(app.uow, app.gateway, app.clock, sales_id).status == "on_hold"
    return sales_id


def test_the_same_card_with_two_expiries_is_one_entry_showing_the_newest(web_app):
    older = _tokenize(web_app, APPROVE, "12/28")
    newer = _tokenize(web_app, APPROVE, "12/30")
    other = _tokenize(web_app, MASTERCARD, "12/29")
    [visa, mastercard] = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    assert visa.card == newer and visa.replaced == (older,) and not visa.declined and not visa.expired
    assert mastercard.card == other and mastercard.replaced == ()
    assert len(rows(web_app, "SELECT token FROM cards WHERE account = :a", a=KAREN)) == 3  # all rows kept


def test_a_declined_card_is_marked_until_it_is_charged_again_or_reissued(web_app):
    _declined_order(web_app)
    [declined] = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    assert declined.card.last4 == "0002" and declined.declined
    reissued = _tokenize(web_app, DECLINE, "11/31")  # a new expiry: the reissued card starts clean
    [entry] = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    assert entry.card == reissued and not entry.declined and [c.expiry for c in entry.replaced] == [Expiry(12, 2030)]
    enter_order(web_app, "88000")  # another card, approved: the declined one stays marked
    marks = {s.card.last4: s.declined for s in customers.saved(web_app.uow, KAREN, web_app.clock.today())}
    assert marks == {"0002": False, "1111": False}


def test_the_last_answer_decides_the_mark(web_app):
    sales_id = enter_order(web_app, "88000")  # approved on 1111
    [entry] = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    assert not entry.declined
    token = entry.card.token
    with web_app.engine.begin() as conn:  # a later charge on the same card declined
        from sqlalchemy import insert

        from continuity.adapters import orm

        conn.execute(
            insert(orm.payment_attempts).values(
                idempotency_key="later",
                subject="installment",
                sales_id=sales_id,
                line_no=1,
                seq=9,
                operation="capture",
                attempt_no=1,
                card_token=token,
                amount_minor=100,
                currency="EUR",
                status="declined",
                reason="insufficient funds",
                as_of=web_app.clock.today(),
                created_at=web_app.clock.now(),
            )
        )
    [entry] = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    assert entry.declined


def test_an_expired_card_is_marked(web_app):
    old = _expired_card(web_app)
    [entry] = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    assert entry.card == old and entry.expired and not entry.declined


def test_the_api_lists_one_marked_entry_per_card(web_app):
    token = users_of_each_role(web_app)["agent"]
    _declined_order(web_app)
    older = _tokenize(web_app, APPROVE, "12/28")
    newer = _tokenize(web_app, APPROVE, "12/30")
    _expired_card(web_app)
    listed = client(web_app).get(f"{API}/customers/{KAREN}/cards", headers=bearer(token)).json()
    by_last4 = {c["last4"]: c for c in listed}
    assert set(by_last4) == {"0002", "1111", "0005"}
    assert by_last4["0002"]["declined"] and not by_last4["0002"]["expired"]
    assert by_last4["1111"]["token"] == newer.token and by_last4["1111"]["expiry"] == "12/30"
    assert by_last4["1111"]["replaced"] == [{"token": older.token, "expiry": "12/28"}]
    assert by_last4["0005"]["expired"] and not by_last4["0005"]["declined"]


def test_the_customer_page_marks_declined_expired_and_replaced_cards(agent, web_app):
    _declined_order(web_app)
    _tokenize(web_app, APPROVE, "12/28")
    _tokenize(web_app, APPROVE, "12/30")
    _expired_card(web_app)
    page = agent.get(f"/customers/{KAREN}").text
    assert page.count('class="saved-card"') == 3
    declined = page[page.index("•••• 0002") :].split("</li>")[0]
    assert "last charge declined" in declined and "expired" not in declined
    visa = page[page.index("•••• 1111") :].split("</li>")[0]
    assert "expires 12/30" in visa and "replaces the entry expiring 12/28" in visa and "declined" not in visa
    amex = page[page.index("•••• 0005") :].split("</li>")[0]
    assert 'class="status expired"' in amex


def test_the_recap_offers_one_marked_option_per_card_and_no_expired_one(agent, web_app):
    sales_id = _declined_order(web_app)
    _tokenize(web_app, APPROVE, "12/28")
    newer = _tokenize(web_app, APPROVE, "12/30")
    old = _expired_card(web_app)
    page = agent.get(f"/orders/{sales_id}/entry").text
    select = page[page.index('id="saved_card"') :].split("</select>")[0]
    options = select.split("<option")[2:]
    assert len(options) == 3
    # by the shown last four ("•••• 0002"): a bare "0005" may also occur in another option's random token
    [declined] = [o for o in options if "•••• 0002" in o]
    assert "last charge declined" in declined
    [visa] = [o for o in options if "•••• 1111" in o]
    assert newer.token in visa and "12/30" in visa and "12/28" not in visa
    [amex] = [o for o in options if "•••• 0005" in o]
    assert f'value="{old.token}" disabled' in amex and "expired" in amex


def test_change_card_marks_the_card_now_when_its_last_charge_was_declined(agent, web_app):
    from jobs_support import START, nightly, use_card

    sales_id = enter_order(web_app, "88000")
    use_card(web_app, sales_id, DECLINE)
    nightly(web_app, START)  # shipment 1's charge is declined on the card now
    form = agent.get(f"/orders/{sales_id}/service/change-card").text
    now = form[form.index('id="current-card"') :].split("</dd>")[0]
    assert "•••• 0002" in now and "12/30" in now and "last charge declined" in now
    assert csrf_of(form)


# -- default and remove ------------------------------------------------------------------------------
def _audit(app, action: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return rows(app, "SELECT actor, entity, entity_key, action FROM audit_entries WHERE action = :a", a=action)


def test_the_default_card_is_one_card_listed_first_and_audited(web_app):
    from continuity.domain.audit import SYSTEM

    visa = _tokenize(web_app, APPROVE, "12/30")
    mastercard = _tokenize(web_app, MASTERCARD, "12/29")
    customers.set_default_card(web_app.uow, web_app.clock, SYSTEM, KAREN, mastercard.token)
    customers.set_default_card(web_app.uow, web_app.clock, SYSTEM, KAREN, visa.token)
    listed = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    assert [(s.card.last4, s.default) for s in listed] == [("1111", True), ("4444", False)]
    assert _audit(web_app, "set_default_card") == [
        ("system", "card", f"{KAREN}:mastercard:4444", "set_default_card"),
        ("system", "card", f"{KAREN}:visa:1111", "set_default_card"),
    ]


def test_a_removed_card_is_never_offered_again_and_its_rows_stay(web_app):
    from continuity.domain.audit import SYSTEM
    from continuity.domain.errors import DomainError

    older = _tokenize(web_app, APPROVE, "12/28")
    newer = _tokenize(web_app, APPROVE, "12/30")
    customers.set_default_card(web_app.uow, web_app.clock, SYSTEM, KAREN, newer.token)
    removed = customers.remove_card(web_app.uow, web_app.clock, SYSTEM, KAREN, older.token)  # any entry's token
    assert removed.card == newer and customers.saved(web_app.uow, KAREN, web_app.clock.today()) == []
    assert len(rows(web_app, "SELECT token FROM cards WHERE removed_at IS NOT NULL AND NOT is_default")) == 2
    assert [a[3] for a in _audit(web_app, "remove_card")] == ["remove_card"]
    sales_id = order_entry.create_order_with_line(web_app.uow, web_app.clock, KAREN, "88000")
    with pytest.raises(DomainError) as refused:
        payment_entry.add_token_payment(web_app.uow, web_app.clock, sales_id, newer.token)
    assert refused.value.code == "card_removed"
    with pytest.raises(DomainError) as again:
        customers.remove_card(web_app.uow, web_app.clock, SYSTEM, KAREN, newer.token)
    assert again.value.code == "card_not_found"


def test_a_card_an_open_line_pays_with_is_kept_until_the_line_gets_another(web_app):
    from continuity.domain.audit import SYSTEM
    from continuity.domain.errors import DomainError

    sales_id = enter_order(web_app, "88000")
    [entry] = customers.saved(web_app.uow, KAREN, web_app.clock.today())
    with pytest.raises(DomainError) as refused:
        customers.remove_card(web_app.uow, web_app.clock, SYSTEM, KAREN, entry.card.token)
    assert refused.value.code == "card_in_use" and sales_id in refused.value.message
    assert customers.saved(web_app.uow, KAREN, web_app.clock.today()) == [entry]
    token = users_of_each_role(web_app)["agent"]
    api = client(web_app)
    body = {"card_number": MASTERCARD, "expiry": "12/30"}
    changed = api.post(f"{API}/continuity-orders/{sales_id}/change-card", headers=bearer(token), json=body)
    assert changed.status_code == 200, changed.text
    gone = api.delete(f"{API}/customers/{KAREN}/cards/{entry.card.token}", headers=bearer(token))
    assert gone.status_code == 200 and gone.json()["last4"] == "1111"
    assert [c["last4"] for c in api.get(f"{API}/customers/{KAREN}/cards", headers=bearer(token)).json()] == ["4444"]
    with web_app.uow() as uow:  # the order's payment still names the removed card
        assert entry.card.token in [p.card_token for p in uow.orders.payments(sales_id)]


def test_the_api_sets_the_default_and_refuses_removing_a_card_in_use(web_app):
    token = users_of_each_role(web_app)["agent"]
    api = client(web_app)
    sales_id = enter_order(web_app, "88000")
    other = _tokenize(web_app, MASTERCARD, "12/29")
    made = api.post(f"{API}/customers/{KAREN}/cards/{other.token}/default", headers=bearer(token))
    assert made.status_code == 200 and made.json()["default"] and made.json()["last4"] == "4444"
    listed = api.get(f"{API}/customers/{KAREN}/cards", headers=bearer(token)).json()
    assert [(c["last4"], c["default"]) for c in listed] == [("4444", True), ("1111", False)]
    [in_use] = [c for c in listed if c["last4"] == "1111"]
    refused = api.delete(f"{API}/customers/{KAREN}/cards/{in_use['token']}", headers=bearer(token))
    assert refused.status_code == 409 and refused.json()["code"] == "card_in_use" and sales_id in refused.text
    unknown = api.post(f"{API}/customers/{KAREN}/cards/tok_nothing/default", headers=bearer(token))
    assert unknown.status_code == 404 and unknown.json()["code"] == "card_not_found"
    assert [a[0] for a in _audit(web_app, "set_default_card")] == ["agent-user"]


def test_the_customer_page_sets_the_default_and_removes_a_card(agent, web_app):
    sales_id = enter_order(web_app, "88000")
    other = _tokenize(web_app, MASTERCARD, "12/29")
    page = agent.get(f"/customers/{KAREN}").text
    made = agent.post(f"/customers/{KAREN}/cards/{other.token}/default", data={"csrf_token": csrf_of(page)})
    assert made.status_code == 303 and made.headers["location"].startswith(f"/customers/{KAREN}?card=default")
    page = agent.get(made.headers["location"]).text
    assert "The default card was changed." in page
    assert page.index("•••• 4444") < page.index("•••• 1111") and "default card" in page
    [visa] = customers.saved(web_app.uow, KAREN, web_app.clock.today())[1:]
    refused = agent.post(f"/customers/{KAREN}/cards/{visa.card.token}/remove", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 303
    page = agent.get(refused.headers["location"]).text
    assert f"This card still pays for order {sales_id}." in page
    gone = agent.post(f"/customers/{KAREN}/cards/{other.token}/remove", data={"csrf_token": csrf_of(page)})
    page = agent.get(gone.headers["location"]).text
    assert "The card was removed." in page and "•••• 4444" not in page and page.count('class="saved-card"') == 1
    assert [a[0] for a in _audit(web_app, "remove_card")] == ["agent"]
    recap_order = order_entry.create_order_with_line(web_app.uow, web_app.clock, KAREN, "88000")
    recap = agent.get(f"/orders/{recap_order}/entry").text
    assert "4444" not in recap


def test_the_recap_picks_the_default_card(agent, web_app):
    from continuity.domain.audit import SYSTEM

    _tokenize(web_app, APPROVE, "12/30")
    other = _tokenize(web_app, MASTERCARD, "12/29")
    customers.set_default_card(web_app.uow, web_app.clock, SYSTEM, KAREN, other.token)
    sales_id = order_entry.create_order_with_line(web_app.uow, web_app.clock, KAREN, "88000")
    page = agent.get(f"/orders/{sales_id}/entry").text
    assert f'<option value="{other.token}" selected>' in page


# -- the order page: the card of the next charge ---------------------------------------------------------
def _next_card(page: str) -> str:
    return page[page.index('id="next-charge-card"') :].split("</dd>")[0]


def test_the_order_page_shows_the_card_of_the_next_charge(agent, web_app):
    from continuity.services.projection import next_charge_card

    sales_id = enter_order(web_app, "88000")
    shown = _next_card(agent.get(f"/orders/{sales_id}").text)
    assert "visa •••• 1111" in shown and "expires 12/30" in shown and "charged" in shown
    assert "expired" not in shown and "declined" not in shown
    nxt = next_charge_card(web_app.uow, web_app.clock.today(), sales_id)
    assert nxt is not None and nxt.card.card.last4 == "1111" and not nxt.card.expired and not nxt.card.declined


def test_the_next_charge_card_is_marked_when_its_last_charge_was_declined(agent, web_app):
    from jobs_support import START, nightly, use_card

    sales_id = enter_order(web_app, "88000")
    use_card(web_app, sales_id, DECLINE)
    nightly(web_app, START)  # shipment 1's charge is declined on this card
    shown = _next_card(agent.get(f"/orders/{sales_id}").text)
    assert "•••• 0002" in shown and 'class="status declined"' in shown and "last charge declined" in shown


def test_the_next_charge_card_is_marked_when_it_expires_before_that_charge(agent, web_app):
    from jobs_support import START, nightly

    from continuity.services.projection import next_charge_card

    sales_id = enter_order(web_app, "88000", expiry="11/26")  # valid for shipment 1's charge, not the next
    nightly(web_app, START)
    nxt = next_charge_card(web_app.uow, START, sales_id)
    assert nxt is not None and nxt.due_date > date(2026, 11, 30) and nxt.card.expired
    shown = _next_card(agent.get(f"/orders/{sales_id}").text)
    assert "expires 11/26" in shown and "expired by then" in shown


def test_an_order_without_continuity_shows_no_next_charge_card(agent, web_app):
    from continuity.services.projection import next_charge_card

    sales_id = enter_order(web_app, "0013")
    assert next_charge_card(web_app.uow, web_app.clock.today(), sales_id) is None
    assert 'id="next-charge-card"' not in agent.get(f"/orders/{sales_id}").text


def test_an_expired_card_cannot_be_the_default(agent, web_app):
    old = _expired_card(web_app)
    page = agent.get(f"/customers/{KAREN}").text
    assert f"/cards/{old.token}/default" not in page and f"/cards/{old.token}/remove" in page
    refused = agent.post(f"/customers/{KAREN}/cards/{old.token}/default", data={"csrf_token": csrf_of(page)})
    assert refused.headers["location"].startswith(f"/customers/{KAREN}?card=expired")
    assert "The card has expired." in agent.get(refused.headers["location"]).text
    token = users_of_each_role(web_app)["agent"]
    api = client(web_app).post(f"{API}/customers/{KAREN}/cards/{old.token}/default", headers=bearer(token))
    assert api.status_code == 422 and api.json()["code"] == "card_expired"
    assert customers.saved(web_app.uow, KAREN, web_app.clock.today())[0].default is False


# -- the CLI's customers group ----------------------------------------------------------------------------
def test_the_cli_lists_marked_cards_sets_the_default_and_removes_one(web_app, database_url, monkeypatch):
    import json

    from typer.testing import CliRunner

    from continuity.entrypoints.cli import app as cli

    monkeypatch.setenv("CONTINUITY_DATABASE_URL", database_url)
    monkeypatch.setenv("CONTINUITY_TODAY", "2026-11-23")
    sales_id = enter_order(web_app, "88000")
    other = _tokenize(web_app, MASTERCARD, "12/29")

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["customers", *args])

    listed = json.loads(run("cards", KAREN, "--json").stdout)
    assert sorted(c["last4"] for c in listed) == ["1111", "4444"]
    made = run("default-card", KAREN, other.token, "--actor", "lead", "--json")
    assert made.exit_code == 0 and json.loads(made.stdout)["default"] is True
    [visa] = [c for c in listed if c["last4"] == "1111"]
    refused = run("remove-card", KAREN, visa["token"])
    assert refused.exit_code != 0 and sales_id in refused.output
    assert run("remove-card", KAREN, other.token, "--actor", "lead").exit_code == 0
    assert [c["last4"] for c in json.loads(run("cards", KAREN, "--json").stdout)] == ["1111"]
    assert [a[0] for a in _audit(web_app, "remove_card")] == ["lead"]
