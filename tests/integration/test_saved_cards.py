"""Issue 18 item 4: saved cards as the agent sees them, on SQLite and PostgreSQL. One entry per physical card
(brand + last 4 of one customer: the gateway tokenizes each entry anew and we keep no number), its newest
expiry shown and the older rows kept and marked replaced; declined and expired cards marked wherever saved
cards are listed: the service, the JSON API, the customer page, the recap's choice and change-card."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from api_support import API, bearer, client, users_of_each_role  # noqa: E402
from jobs_support import APPROVE, DECLINE, KAREN, enter_order, rows  # noqa: E402
from web_support import add_web_users, client_login, csrf_of, web_client  # noqa: E402

from continuity.domain.card import Card, Expiry  # noqa: E402
from continuity.services import customers, order_entry, payment_entry  # noqa: E402

MASTERCARD = "5555555555554444"


@pytest.fixture
def web_app(demo_app):  # type: ignore[no-untyped-def]
    add_web_users(demo_app)
    return demo_app


@pytest.fixture
def agent(web_app):  # type: ignore[no-untyped-def]
    with web_client(web_app) as c:
        assert client_login(c).status_code == 303
        yield c


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
    [declined] = [o for o in options if "0002" in o]
    assert "last charge declined" in declined
    [visa] = [o for o in options if "1111" in o]
    assert newer.token in visa and "12/30" in visa and "12/28" not in visa
    [amex] = [o for o in options if "0005" in o]
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
