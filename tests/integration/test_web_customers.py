"""Issue 18 items 2 and 13 through FastAPI's TestClient on SQLite and PostgreSQL: the agent creates a customer
(from a search that found nobody, prefilled) and edits one; an order ships to an address chosen on the recap
(one of the customer's or a new one), stored on the order and shown on its page, also through the API; a
second order of a continuity item the customer still has is asked about first (web and API 409); the
continuity step previews the shipments from the start date typed, and its date field, error examples and
shown dates agree. Refusals are form errors after a 303, never a traceback."""

from __future__ import annotations

import re
import sys
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from api_support import API, bearer, client, users_of_each_role  # noqa: E402
from jobs_support import scalar  # noqa: E402
from test_web_servicing import agent, bookclub, preview, web_app  # noqa: E402, F401 (fixtures)
from web_support import csrf_of, follow  # noqa: E402

from continuity.entrypoints.web import i18n  # noqa: E402
from continuity.services import customers  # noqa: E402

WEB = Path(i18n.__file__).parent
CARD = "4111 1111 1111 1111"
NEW = {
    "name": "Ola Nordmann",
    "phone": "+47 400 00 000",
    "email": "ola@example.no",
    "language": "nb",
    "purpose_0": "delivery",
    "street_0": "Storgata 1",
    "postal_code_0": "0155",
    "city_0": "Oslo",
    "country_0": "no",
}


def alert(html: str) -> str:
    found = re.search(r'class="alert error" role="alert"[^>]*>(.*?)</p>', html, re.S)
    assert found, "no error shown"
    return unescape(found.group(1))


def create(agent, **changes):  # type: ignore[no-untyped-def]
    form = agent.get("/customers/new")
    return agent.post("/customers/new", data={"csrf_token": csrf_of(form.text), **NEW, **changes})


def new_customer(agent) -> str:  # type: ignore[no-untyped-def]
    made = create(agent)
    assert made.status_code == 303
    return made.headers["location"].rsplit("/", 1)[1]


def enter(agent, account: str, item: str = "88000", **step):  # type: ignore[no-untyped-def]
    """The item, then the continuity step's Continue: the answer of that POST."""
    page = agent.get(f"/customers/{account}")
    token = csrf_of(page.text)
    added = agent.post(f"/customers/{account}/orders", data={"csrf_token": token, "item_id": item, "quantity": "1"})
    assert added.status_code == 303
    data = {"csrf_token": token, "item_id": item, "quantity": "1", "start_date": "2026-12-01", **step}
    return agent.post(f"/customers/{account}/orders/new", data=data)


def submit(agent, entry_url: str, **fields):  # type: ignore[no-untyped-def]
    recap = agent.get(entry_url)
    sales_id = entry_url.split("/")[2]
    data = {"csrf_token": csrf_of(recap.text), "card_number": CARD, "expiry": "12/30", **fields}
    return agent.post(f"/orders/{sales_id}/submit", data=data)


def count(app, table: str) -> int:  # type: ignore[no-untyped-def]
    return scalar(app, f"SELECT COUNT(*) FROM {table}")


# -- item 2: create and edit a customer ----------------------------------------------------------------
def test_a_search_that_finds_nobody_offers_a_new_customer_prefilled(agent):
    found = agent.get("/", params={"q": "Ola Nordmann"})
    link = re.search(r'<a class="button" id="new-customer" href="([^"]+)"', found.text)
    assert link, "no New customer on an empty search"
    form = agent.get(unescape(link.group(1)))
    assert 'id="name" name="name" value="Ola Nordmann"' in form.text
    by_phone = agent.get("/customers/new", params={"q": "+47 400 00 000"})
    assert 'name="phone" type="tel" value="+47 400 00 000"' in by_phone.text
    assert 'name="name" value=""' in by_phone.text


def test_the_agent_creates_a_customer_who_is_found_and_shown(agent, web_app):
    made = create(agent)
    assert made.status_code == 303
    page = follow(agent, made)
    assert 'id="customer-notice"' in page.text and "Ola Nordmann" in page.text
    account = made.headers["location"].rsplit("/", 1)[1]
    saved = customers.customer(web_app.uow, account)
    assert (saved.name, saved.phone, saved.email, saved.language) == (
        "Ola Nordmann",
        "+47 400 00 000",
        "ola@example.no",
        "nb",
    )
    assert [(a.street, a.postal_code, a.city, a.country) for a in saved.addresses] == [
        ("Storgata 1", "0155", "Oslo", "NO")
    ]
    assert [c.account for c in customers.search(web_app.uow, "Nordmann", None, 5)] == [account]
    created = f"SELECT actor || ' ' || action FROM audit_entries WHERE entity = 'customer' AND entity_key = '{account}'"
    assert scalar(web_app, created) == "agent create_customer"
    assert account not in {"004007", "004011"} and len(account) == 6


def test_a_second_new_customer_gets_another_account(agent):
    assert new_customer(agent) != new_customer(agent)


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"name": " "}, "Type the customer's name."),
        ({"email": "ola.example.no"}, "The e-mail address is not valid"),
        ({"city_0": ""}, "Each address needs a street, a postal code and a city"),
        ({"country_0": "Norway"}, "The country is two letters"),
        ({"phone": "4111 1111 1111 1111"}, "This looks like a card number"),
        ({"language": "de"}, "Pick one of the languages in the list."),
    ],
)
def test_a_refused_customer_is_a_form_error_with_what_was_typed_and_nothing_saved(agent, web_app, changes, words):
    before = count(web_app, "customers")
    refused = create(agent, **changes)
    assert refused.status_code == 303 and refused.headers["location"] == "/customers/new"
    page = agent.get("/customers/new")
    assert page.status_code == 200 and words in alert(page.text)
    assert 'value="Storgata 1"' in page.text, "what was typed is kept"
    assert "4111 1111 1111 1111" not in page.text, "never a card number"
    assert count(web_app, "customers") == before


def test_the_agent_edits_a_customer_from_the_customer_page(agent, web_app):
    page = agent.get("/customers/004007")
    edit = re.search(r'href="(/customers/004007/edit)" id="edit-customer"', page.text)
    assert edit, "no Edit on the customer page"
    form = agent.get(edit.group(1))
    assert 'value="Karen Berg"' in form.text and 'value="Storgata 12"' in form.text
    data = {
        "csrf_token": csrf_of(form.text),
        "name": "Karen Berg-Hansen",
        "phone": "+47 22 33 44 55",
        "email": "karen@example.no",
        "language": "sv",
        "purpose_0": "delivery",
        "street_0": "Storgata 12",
        "postal_code_0": "0155",
        "city_0": "Oslo",
        "country_0": "NO",
        "purpose_1": "invoice",
        "street_1": "Postboks 7",
        "postal_code_1": "0101",
        "city_1": "Oslo",
        "country_1": "NO",
    }
    saved = agent.post("/customers/004007/edit", data=data)
    assert saved.status_code == 303
    assert "The customer&#39;s changes were saved." in follow(agent, saved, "/customers/004007").text
    karen = customers.customer(web_app.uow, "004007")
    assert (karen.name, karen.language) == ("Karen Berg-Hansen", "sv")
    assert [(a.purpose, a.street) for a in karen.addresses] == [("delivery", "Storgata 12"), ("invoice", "Postboks 7")]
    audited = scalar(
        web_app,
        "SELECT actor || ' ' || action FROM audit_entries WHERE entity = 'customer' AND entity_key = '004007'",
    )
    assert audited == "agent update_customer", "who changed the customer is kept"
    cleared = agent.post("/customers/004007/edit", data={**data, "street_1": "", "postal_code_1": "", "city_1": ""})
    assert cleared.status_code == 303
    assert [a.street for a in customers.customer(web_app.uow, "004007").addresses] == ["Storgata 12"]
    refused = agent.post("/customers/004007/edit", data={**data, "name": ""})
    assert refused.headers["location"] == "/customers/004007/edit"
    assert "Type the customer's name." in alert(agent.get("/customers/004007/edit").text)
    assert customers.customer(web_app.uow, "004007").name == "Karen Berg-Hansen"


def test_an_unknown_customer_cannot_be_edited(agent):
    assert agent.get("/customers/NOPE/edit").status_code == 404


def test_the_api_changes_a_customer_by_the_same_rules(web_app):
    tokens = users_of_each_role(web_app)
    headers = bearer(tokens["agent"])
    body = {
        "name": "Karen Berg",
        "email": "karen@example.no",
        "language": "nb",
        "addresses": [
            {"purpose": "delivery", "street": "Nygata 3", "city": "Oslo", "postal_code": "0160", "country": "NO"}
        ],
    }
    with client(web_app) as c:
        changed = c.put(f"{API}/customers/004007", headers=headers, json=body)
        assert changed.status_code == 200, changed.text
        assert changed.json()["addresses"][0]["street"] == "Nygata 3" and changed.json()["phone"] == ""
        refused = c.put(f"{API}/customers/004007", headers=headers, json={**body, "email": "karen.example.no"})
        assert refused.status_code == 422 and refused.json()["code"] == "email_invalid"
        assert c.put(f"{API}/customers/NOPE", headers=headers, json=body).status_code == 404
    assert customers.customer(web_app.uow, "004007").email == "karen@example.no"


# -- item 2: ship-to address per order ----------------------------------------------------------------------
def test_an_order_ships_to_the_customers_delivery_address_unless_another_is_chosen(agent, web_app):
    account = new_customer(agent)
    entered = enter(agent, account)
    assert entered.status_code == 303
    recap = agent.get(entered.headers["location"])
    assert re.search(r'name="ship_to" value="0" checked> Storgata 1, 0155 Oslo, NO', recap.text)
    done = submit(agent, entered.headers["location"], ship_to="0")
    sales_id = entered.headers["location"].split("/")[2]
    assert done.headers["location"] == f"/orders/{sales_id}/done"
    assert "Storgata 1, 0155 Oslo, NO" in agent.get(f"/orders/{sales_id}").text


def test_a_new_address_typed_on_the_recap_is_stored_on_the_order_and_shown(agent, web_app):
    account = new_customer(agent)
    entered = enter(agent, account)
    address = {"ship_street": "Hytteveien 2", "ship_postal_code": "3580", "ship_city": "Geilo", "ship_country": "no"}
    done = submit(agent, entered.headers["location"], ship_to="new", **address)
    sales_id = entered.headers["location"].split("/")[2]
    assert done.headers["location"] == f"/orders/{sales_id}/done"
    shown = re.search(r'<dd id="ship-to">(.*?)</dd>', agent.get(f"/orders/{sales_id}").text).group(1)
    assert shown == "Hytteveien 2, 3580 Geilo, NO"
    tokens = users_of_each_role(web_app)
    with client(web_app) as c:
        order = c.get(f"{API}/sales-orders/{sales_id}", headers=bearer(tokens["agent"])).json()
    assert order["ship_to"] == {"street": "Hytteveien 2", "city": "Geilo", "postal_code": "3580", "country": "NO"}


def test_an_incomplete_new_address_is_a_form_error_and_the_order_stays_a_draft(agent, web_app):
    account = new_customer(agent)
    entered = enter(agent, account)
    sales_id = entered.headers["location"].split("/")[2]
    refused = submit(agent, entered.headers["location"], ship_to="new", ship_street="Hytteveien 2")
    assert refused.headers["location"] == f"/orders/{sales_id}/entry"
    page = agent.get(f"/orders/{sales_id}/entry")
    assert "Each address needs a street" in alert(page.text)
    assert 'value="Hytteveien 2"' in page.text and CARD not in page.text
    assert count(web_app, "payment_attempts") == 0


def test_the_api_takes_a_ship_to_address_and_defaults_to_the_customers(web_app):
    tokens = users_of_each_role(web_app)
    headers = bearer(tokens["agent"])
    with client(web_app) as c:
        default = c.post(
            f"{API}/sales-orders", headers=headers, json={"customer": "004007", "lines": [{"item_id": "0013"}]}
        )
        assert default.status_code == 201, default.text
        assert default.json()["ship_to"] == {
            "street": "Storgata 12",
            "city": "Oslo",
            "postal_code": "0155",
            "country": "NO",
        }
        ship_to = {"street": "Hytteveien 2", "city": "Geilo", "postal_code": "3580", "country": "NO"}
        chosen = c.post(
            f"{API}/sales-orders",
            headers=headers,
            json={"customer": "004007", "lines": [{"item_id": "0013"}], "ship_to": ship_to},
        )
        assert chosen.status_code == 201 and chosen.json()["ship_to"] == ship_to
        bad = c.post(
            f"{API}/sales-orders",
            headers=headers,
            json={"customer": "004007", "lines": [{"item_id": "0013"}], "ship_to": {**ship_to, "country": "Norway"}},
        )
        assert bad.status_code == 422


# -- item 2: a second order of the same continuity item ----------------------------------------------------
def test_a_second_order_of_the_same_continuity_item_is_asked_about_first(agent, web_app):
    account = new_customer(agent)
    first = enter(agent, account)
    first_id = first.headers["location"].split("/")[2]
    assert submit(agent, first.headers["location"], ship_to="0").status_code == 303
    step = agent.get(f"/customers/{account}/orders/new", params={"item": "88000", "quantity": "1"})
    warning = re.search(r'id="duplicate-warning">(.*?)</div>', step.text, re.S)
    assert warning and f"Ola Nordmann already has an order of this item: {first_id}." in warning.group(1)
    assert 'name="confirm_duplicate" value="1" id="confirm_duplicate" required' in step.text
    orders = count(web_app, "sales_orders")
    refused = enter(agent, account)
    assert refused.status_code == 303 and "/orders/new" in refused.headers["location"]
    assert f"already has order {first_id} of this item" in alert(agent.get(refused.headers["location"]).text)
    assert count(web_app, "sales_orders") == orders, "no order until the agent confirms"
    confirmed = enter(agent, account, confirm_duplicate="1")
    assert confirmed.headers["location"].endswith("/entry")
    assert count(web_app, "sales_orders") == orders + 1


def test_another_item_or_a_cancelled_order_is_no_duplicate(agent, web_app):
    account = new_customer(agent)
    first = enter(agent, account)
    first_id = first.headers["location"].split("/")[2]
    submit(agent, first.headers["location"], ship_to="0")
    other = agent.get(f"/customers/{account}/orders/new", params={"item": "0021"})
    assert 'id="duplicate-warning"' not in other.text
    cancel = agent.get(f"/orders/{first_id}/service/cancel")
    posted = agent.post(
        f"/orders/{first_id}/service/cancel",
        data={"csrf_token": csrf_of(cancel.text), "action": "save", "on": "2026-11-23", "reason": "no"},
    )
    assert posted.status_code == 303
    again = agent.get(f"/customers/{account}/orders/new", params={"item": "88000"})
    assert 'id="duplicate-warning"' not in again.text


def test_the_api_answers_409_for_a_duplicate_unless_confirmed(web_app):
    tokens = users_of_each_role(web_app)
    headers = bearer(tokens["agent"])
    order = {"customer": "004007", "lines": [{"item_id": "88000"}]}
    with client(web_app) as c:
        first = c.post(f"{API}/sales-orders", headers=headers, json=order)
        assert first.status_code == 201
        again = c.post(f"{API}/sales-orders", headers=headers, json=order)
        assert again.status_code == 409
        assert again.json()["code"] == "duplicate_continuity_order"
        assert first.json()["sales_id"] in again.json()["detail"]
        confirmed = c.post(f"{API}/sales-orders", headers=headers, json={**order, "confirm_duplicate": True})
        assert confirmed.status_code == 201
        books = c.post(
            f"{API}/sales-orders", headers=headers, json={"customer": "004007", "lines": [{"item_id": "0013"}]}
        )
        assert books.status_code == 201, "an ordinary item is never a duplicate"


# -- item 13: the continuity step's start date ----------------------------------------------------------------
def _preview_dates(html: str) -> list[str]:
    section = re.search(r'<section[^>]*id="shipment-preview".*?</section>', html, re.S).group(0)
    return re.findall(r"<tr><td>([^<]+)</td>", section)


def test_the_shipment_preview_follows_the_start_date_without_javascript(agent):
    step = agent.get("/customers/004007/orders/new", params={"item": "88000"})
    assert "First shipments from Nov 23, 2026" in step.text
    token = csrf_of(step.text)
    data = {"csrf_token": token, "item_id": "88000", "quantity": "1", "start_date": "2027-01-15", "action": "refresh"}
    refreshed = agent.post("/customers/004007/orders/new", data=data)
    assert refreshed.status_code == 303
    page = agent.get(refreshed.headers["location"])
    assert "First shipments from Jan 15, 2027" in page.text
    assert 'id="start_date" name="start_date" value="2027-01-15"' in page.text
    assert _preview_dates(page.text)[0] != _preview_dates(step.text)[0]
    assert _preview_dates(page.text) == _preview_dates(
        agent.get("/customers/004007/orders/new", params={"item": "88000", "start": "2027-01-15"}).text
    ), "the page static/app.js fetches when the date changes is the same"


def test_the_date_field_its_error_examples_and_the_shown_dates_agree(agent):
    step = agent.get("/customers/004007/orders/new", params={"item": "88000"})
    assert 'placeholder="YYYY-MM-DD"' in step.text and 'pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}"' in step.text
    assert '<span class="hint" id="start-date-shown">Nov 23, 2026</span>' in step.text
    token = csrf_of(step.text)
    base = {"csrf_token": token, "item_id": "88000", "quantity": "1"}
    wrong = agent.post("/customers/004007/orders/new", data={**base, "start_date": "01/12/2026"})
    page = agent.get(wrong.headers["location"])
    assert alert(page.text) == "Type the start date as YYYY-MM-DD, for example 2026-12-01."
    assert 'value="01/12/2026"' in page.text, "what was typed stays in the field"
    far = agent.post("/customers/004007/orders/new", data={**base, "start_date": "2035-01-01"})
    page = agent.get(far.headers["location"])
    assert alert(page.text) == "The start date must be from 2025-11-23 to 2031-11-22 (YYYY-MM-DD)."
    assert "First shipments from Nov 23, 2026" in page.text, "no preview from a date the order cannot have"


def test_the_servicing_date_fields_say_the_same_format_as_their_errors(agent, bookclub):
    form = agent.get(f"/orders/{bookclub}/service/pause")
    assert re.search(r'<input id="on" name="on" value="2026-11-23"[^>]*placeholder="YYYY-MM-DD"', form.text)
    assert 'type="date"' not in form.text, "the browser's own date format would differ from the page's"
    reschedule = agent.get(f"/orders/{bookclub}/service/reschedule")
    assert re.search(
        r'<input id="new_date" name="new_date" value="\d{4}-\d\d-\d\d"[^>]*placeholder="YYYY-MM-DD"', reschedule.text
    )
    refused = preview(agent, bookclub, "pause", {"on": "23/12/2026"})
    assert "Type a valid date, for example 2027-01-31." in refused.text


def test_the_date_words_are_translated(agent):
    token = csrf_of(agent.get("/").text)
    agent.post("/language", data={"language": "sv", "csrf_token": token, "next": "/"})
    step = agent.get("/customers/004007/orders/new", params={"item": "88000"})
    assert 'placeholder="ÅÅÅÅ-MM-DD"' in step.text and "Första leveranserna från 23 nov. 2026" in step.text


# -- the catalogs ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["nb", "nl", "it", "fr", "sv"])
def test_the_customer_form_is_translated_and_customers_po_redefines_nothing(lang):
    translations = i18n.translations(lang)
    ids = set()
    for path in (WEB / "templates" / "customers").glob("*.html"):
        with path.open("rb") as fp:
            ids |= {m[0] if isinstance(m, tuple) else m for _, _, m, _ in babel_extract(fp, ["_", "ngettext"], [], {})}
    untranslated = [m for m in ids if m and translations.gettext(m) == m and len(m) > 12]
    assert untranslated == []
    folder = WEB / "locales" / lang / "LC_MESSAGES"
    with (folder / "customers.po").open("rb") as fp:
        mine = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp, locale=lang) if m.id}
    for other in folder.glob("*.po"):
        if other.name != "customers.po":
            with other.open("rb") as fp:
                theirs = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp, locale=lang) if m.id}
            assert not mine & theirs, (other.name, mine & theirs)
