"""Free text never stores a card number and names hold no control or text-direction character (issue 15
item 9), through the JSON API and the web forms, on SQLite and PostgreSQL: names, phone, e-mail,
addresses, card holder and product names are refused (422, stable code, nothing written); reasons and
descriptions are kept with the number masked."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from api_support import API, bearer, client, users_of_each_role
from jobs_support import START, enter_order, nightly, rows, snapshot
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from test_web_servicing import preview, save  # noqa: E402
from web_support import MANAGER, add_web_users, client_login, csrf_of, follow, web_client  # noqa: E402

PAN, SPACED = "4111111111111111", "4111 1111 1111 1111"
MASKED = "•••• •••• •••• 1111"
RLO, LRI = "\u202e", "\u2066"


def _stored_anywhere(app, digits: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The tables holding ``digits`` (separators ignored) in any text column."""
    found = []
    with app.engine.connect() as conn:
        for table in ("customers", "addresses", "cards", "audit_entries", "items", "programs", "payment_schedules"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                flat = "".join(ch for ch in " ".join(map(str, row)) if ch.isdigit())
                if digits in flat:
                    found.append(table)
    return found


@pytest.fixture
def api(demo_app):  # type: ignore[no-untyped-def]
    tokens = users_of_each_role(demo_app)
    with client(demo_app) as c:
        yield c, bearer(tokens["agent"]), bearer(tokens["manager"])


CUSTOMER = {
    "account": "FT-1",
    "name": "Ann Smith",
    "phone": "+47 22 33 44 55",
    "email": "ann@example.com",
    "addresses": [{"street": "Main 1", "city": "Oslo", "postal_code": "0150", "country": "NO"}],
}


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("name", f"Ann{RLO}htimS", "text_control_character"),
        ("name", f"Ann {LRI}Smith", "text_control_character"),
        ("name", "Ann\u0085Smith", "text_control_character"),
        ("name", SPACED, "card_number_in_text"),
        ("phone", "4111-1111-1111-1111", "card_number_in_text"),
        ("email", f"{PAN}@example.com", "card_number_in_text"),
        ("street", f"Main {SPACED}", "card_number_in_text"),
        ("street", f"Main{RLO}1", "text_control_character"),
    ],
)
def test_a_customer_with_a_card_number_or_control_character_is_refused(api, demo_app, field, value, code):
    c, agent, _ = api
    body = {**CUSTOMER, "addresses": [{**CUSTOMER["addresses"][0]}]}
    if field == "street":
        body["addresses"][0]["street"] = value
    else:
        body[field] = value
    refused = c.post(f"{API}/customers", headers=agent, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code and field in refused.json()["detail"]
    assert "4111" not in refused.text
    assert c.get(f"{API}/customers/FT-1", headers=agent).status_code == 404
    assert c.post(f"{API}/customers", headers=agent, json=CUSTOMER).status_code == 201  # the clean one is kept


def test_a_card_holder_that_is_a_card_number_is_refused_and_no_card_is_kept(api, demo_app):
    c, agent, _ = api
    before = snapshot(demo_app, ("cards",))
    for holder, code in ((SPACED, "card_number_in_text"), (f"Karen{RLO}", "text_control_character")):
        refused = c.post(
            f"{API}/cards",
            headers=agent,
            json={"customer": "004007", "card_number": PAN, "expiry": "12/30", "holder": holder},
        )
        assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
    assert snapshot(demo_app, ("cards",)) == before


def test_a_product_name_with_a_card_number_is_refused_and_a_description_is_masked(api, demo_app):
    c, _, manager = api
    for name, code in ((f"Book {PAN}", "card_number_in_text"), (f"Book{LRI}", "text_control_character")):
        refused = c.post(f"{API}/products", headers=manager, json={"item_id": "FT-1", "name": name, "price": "1.00"})
        assert refused.status_code == 422 and refused.json()["code"] == code
    assert c.get(f"{API}/products/FT-1", headers=manager).status_code == 404
    made = c.post(
        f"{API}/payment-schedules",
        headers=manager,
        json={"payment_schedule_id": "FT-2", "number_of_payments": 2, "description": f"ref {SPACED}"},
    )
    assert made.status_code == 201 and made.json()["description"] == f"ref {MASKED}"
    assert _stored_anywhere(demo_app, PAN) == []


def test_a_servicing_reason_is_kept_with_the_card_number_masked(api, demo_app):
    c, agent, _ = api
    parent = enter_order(demo_app, "88000", payment_schedule_id="3X")
    nightly(demo_app, START)
    base = f"{API}/continuity-orders/{parent}"
    shown = c.post(f"{base}/skip", headers=agent, json={"seq": 2, "preview": True, "reason": f"card {SPACED}"})
    assert shown.status_code == 200 and PAN not in shown.text.replace(" ", "")
    bidi = c.post(f"{base}/skip", headers=agent, json={"seq": 2, "reason": f"away{RLO}"})
    assert bidi.status_code == 422 and bidi.json()["code"] == "text_control_character"
    done = c.post(f"{base}/skip", headers=agent, json={"seq": 2, "reason": f"card {SPACED} exp 12/30"})
    assert done.status_code == 200, done.text
    reasons = {e["reason"] for e in c.get(f"{base}/history", headers=agent).json() if e["actor"] == "agent-user"}
    assert reasons == {f"card {MASKED} exp 12/30"}
    assert _stored_anywhere(demo_app, PAN) == []


def test_a_user_name_that_is_a_card_number_is_refused(demo_app):
    admin = bearer(users_of_each_role(demo_app)["admin"])
    with client(demo_app) as c:
        refused = c.post(f"{API}/users", headers=admin, json={"name": PAN, "role": "agent"})
        assert refused.status_code == 422 and refused.json()["code"] == "card_number_in_text", refused.text
        assert PAN not in refused.text
        assert PAN not in {u["name"] for u in c.get(f"{API}/users", headers=admin).json()}


# -- web forms ---------------------------------------------------------------------------------------
@pytest.fixture
def web_app(demo_app):  # type: ignore[no-untyped-def]
    add_web_users(demo_app)
    return demo_app


def test_the_product_form_shows_the_refusal_next_to_the_name_in_the_users_language(web_app):
    with web_client(web_app) as manager:
        assert client_login(manager, MANAGER).status_code == 303
        manager.post(
            "/language",
            data={
                "language": "nb",
                "next": "/setup/products/new",
                "csrf_token": csrf_of(manager.get("/setup/products/new").text),
            },
        )
        for name, wording in (
            (f"Bok{RLO}1", "Fjern kontroll- eller tekstretningstegnet"),
            (SPACED, "Dette ser ut som et kortnummer"),
        ):
            token = csrf_of(manager.get("/setup/products/new").text)
            page = manager.post(
                "/setup/products",
                data={"item_id": "FT-3", "name": name, "price": "2.00", "currency": "EUR", "csrf_token": token},
            )
            page = follow(manager, page)  # PRG (issue 18 item 8): the refusal is shown on the form's page
            assert page.status_code == 200, page.text
            assert wording in page.text
    assert rows(web_app, "SELECT item_id FROM items WHERE item_id = 'FT-3'") == []


def test_the_servicing_form_masks_a_card_number_in_the_reason_before_it_is_shown_or_kept(web_app):
    parent = enter_order(web_app, "88000", payment_schedule_id="3X")
    nightly(web_app, START)
    with web_client(web_app) as agent:
        assert client_login(agent).status_code == 303
        shown = preview(agent, parent, "skip", {"seq": "2", "reason": f"card {SPACED}"})
        assert shown.status_code == 200 and SPACED not in shown.text and f"card {MASKED}" in shown.text
        assert save(agent, parent, shown).status_code == 303
        refused = preview(agent, parent, "skip", {"seq": "3", "reason": f"away{RLO}"})
        assert refused.status_code == 422 and "Remove the control or text-direction character" in refused.text
    assert rows(web_app, "SELECT DISTINCT reason FROM audit_entries WHERE action = 'skip'") == [(f"card {MASKED}",)]
    assert _stored_anywhere(web_app, PAN) == []
