"""The manager sets a program's shipping charge in the program editor and whether prices include tax on
the parameters page (SQLite and PostgreSQL); the French page words the new fields from its catalog."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from web_support import MANAGER, add_web_users, client_login, csrf_of, web_client  # noqa: E402

from continuity.domain.tax import ChargeKind, ShippingCharge  # noqa: E402
from continuity.services import catalog, taxes  # noqa: E402


@pytest.fixture
def manager(demo_app):  # type: ignore[no-untyped-def]
    add_web_users(demo_app)
    client = web_client(demo_app)
    assert client_login(client, MANAGER).status_code == 303
    return client


def post(client, url: str, data: dict):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf_of(client.get(url).text)})


HEADER = {
    "description": "Book of the month club",
    "order_start": "current_event",
    "days_after_order": "3",
    "payment_schedule_id": "",
    "active": "on",
    "prompt_for_start_date": "on",
    "prompt_for_payment_schedule": "on",
}


def test_the_program_editor_sets_and_shows_the_shipping_charge(manager, demo_app):
    url = "/setup/programs/BOOKCLUB"
    saved = post(manager, url, {**HEADER, "shipping_kind": "per_order", "shipping_amount": "3,50"})
    assert saved.status_code == 303
    assert catalog.program(demo_app.uow, "BOOKCLUB").shipping == ShippingCharge(ChargeKind.PER_ORDER, 350)
    page = manager.get(url).text
    assert '<option value="per_order" selected>' in page and 'value="3.50"' in page
    # a refused amount changes nothing
    post(manager, url, {**HEADER, "shipping_kind": "per_unit", "shipping_amount": "-1"})
    assert catalog.program(demo_app.uow, "BOOKCLUB").shipping == ShippingCharge(ChargeKind.PER_ORDER, 350)


def test_the_parameters_page_sets_prices_including_tax(manager, demo_app):
    params = {k: str(v) for k, v in vars(catalog.parameters(demo_app.uow)).items() if not isinstance(v, bool)}
    assert post(manager, "/setup/parameters", {**params, "prices_include_tax": "on"}).status_code == 303
    assert catalog.parameters(demo_app.uow).prices_include_tax is True
    assert post(manager, "/setup/parameters", params).status_code == 303
    assert catalog.parameters(demo_app.uow).prices_include_tax is False


def test_the_new_fields_are_worded_in_french(manager):
    token = csrf_of(manager.get("/setup/parameters").text)
    manager.post("/language", data={"language": "fr", "csrf_token": token, "next": "/"})
    page = manager.get("/setup/programs/BOOKCLUB").text
    assert "Frais de port" in page and "Par commande enfant" in page and "Par unité expédiée" in page
    assert "Les prix incluent la taxe" in manager.get("/setup/parameters").text
    assert "Recalcule les commandes ouvertes" in manager.get("/jobs").text


def test_the_agents_continuity_step_shows_the_total_with_shipping_and_tax(demo_app):
    """Erik (Sweden) and REPLENISH with 4.90 per shipment: the step's program total is what the order will
    cost (99.48, as the API's quote and order entry say), with the charges and tax it includes."""
    taxes.set_program_shipping(
        demo_app.uow, "REPLENISH", ShippingCharge(ChargeKind.PER_ORDER, 490), demo_app.clock.today()
    )
    add_web_users(demo_app)
    agent = web_client(demo_app)
    assert client_login(agent).status_code == 303
    token = csrf_of(agent.get("/").text)
    step = agent.post("/customers/004053/orders", data={"item_id": "0021", "quantity": "1", "csrf_token": token})
    page = agent.get(step.headers["location"]).text
    assert "program total €99.48" in page
    assert "Shipping charges €29.40 and tax €10.68 included." in page
