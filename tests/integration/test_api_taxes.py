"""Taxes and shipping charges through the JSON API: the rate table, a program's charge, the agent's quote
(what entering the order then costs, to the cent) and a rate change's dry run and run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from api_support import API, bearer, client, users_of_each_role

ERIK = "004053"


@pytest.fixture
def api(demo_app):  # type: ignore[no-untyped-def]
    tokens = users_of_each_role(demo_app)
    with client(demo_app) as c:
        yield c, bearer(tokens["agent"]), bearer(tokens["manager"])


def test_rates_charges_quote_order_and_rate_change(api):
    c, agent, manager = api
    assert c.get(f"{API}/tax-rates?on=2026-11-23", headers=agent).json() == [
        {"tax_group": "books", "region": "SE", "rate": "6", "valid_from": "2020-01-01"},
        {"tax_group": "food", "region": "SE", "rate": "12", "valid_from": "2020-01-01"},
    ]
    shipping = c.put(
        f"{API}/programs/REPLENISH/shipping-charge", headers=manager, json={"kind": "per_order", "amount": "4.90"}
    )
    assert shipping.status_code == 200 and shipping.json() == {"kind": "per_order", "amount": "4.90"}

    quote = c.get(f"{API}/quote", headers=agent, params={"account": ERIK, "item_id": "0021"}).json()
    assert (quote["goods"], quote["charges"], quote["tax"], quote["total"]) == ("59.40", "29.40", "10.68", "99.48")
    assert [i["amount"] for i in quote["installments"]] == ["33.16"] * 3 and quote["due_now"] == "33.16"
    assert quote["shipments"][0] == {
        "seq": 1,
        "ship_date": "2026-11-25",
        "item_id": "0022",
        "quantity": 1,
        "amount": "9.90",
        "charge": "4.90",
        "tax": "1.78",
        "total": "16.58",
    }
    order = c.post(f"{API}/sales-orders", headers=agent, json={"customer": ERIK, "lines": [{"item_id": "0021"}]})
    assert order.status_code == 201
    entered = order.json()
    assert (entered["total"], entered["tax"], entered["amount_due_now"]) == ("99.48", "10.68", "33.16")
    assert [i["amount"] for i in entered["installments"]] == [i["amount"] for i in quote["installments"]]

    changed = c.put(
        f"{API}/tax-rates",
        headers=manager,
        json={"tax_group": "food", "region": "se", "rate": "6", "valid_from": "2027-01-01"},
    )
    assert changed.status_code == 200 and changed.json()["region"] == "SE"
    dry = c.post(f"{API}/jobs/tax-rate-change", headers=manager, json={"as_of": "2026-11-23", "dry_run": True}).json()
    detail = dry["details"][0]
    assert detail["sales_id"] == entered["sales_id"]
    assert detail["installments"][0]["before"] == "33.16"
    # the order is priced against the table in force; its installments follow only when the job runs
    before = c.get(f"{API}/sales-orders/{entered['sales_id']}", headers=agent).json()
    assert [i["amount"] for i in before["installments"]] == ["33.16"] * 3
    c.post(f"{API}/jobs/tax-rate-change", headers=manager, json={"as_of": "2026-11-23"})
    after = c.get(f"{API}/sales-orders/{entered['sales_id']}", headers=agent).json()
    assert Decimal(after["total"]) == Decimal(before["total"]) < Decimal("99.48")
    assert sum(Decimal(i["amount"]) for i in after["installments"]) == Decimal(after["total"])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"tax_group": "books", "region": "SE", "rate": "101", "valid_from": "2027-01-01"}, None),
        ({"tax_group": "books", "region": "SE", "rate": "x", "valid_from": "2027-01-01"}, None),
        ({"tax_group": "", "region": "SE", "rate": "5", "valid_from": "2027-01-01"}, "tax_group"),
        ({"tax_group": "books", "region": "SE", "rate": "5"}, "valid_from"),
    ],
)
def test_a_bad_rate_is_refused_with_a_problem_and_nothing_is_written(api, body, field):
    c, agent, manager = api
    refused = c.put(f"{API}/tax-rates", headers=manager, json=body)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert len(c.get(f"{API}/tax-rates", headers=agent).json()) == 2


def test_a_quote_for_an_unknown_customer_or_item_is_a_404(api):
    c, agent, _ = api
    assert c.get(f"{API}/quote", headers=agent, params={"account": "NOPE", "item_id": "0021"}).status_code == 404
    assert c.get(f"{API}/quote", headers=agent, params={"account": ERIK, "item_id": "NOPE"}).status_code == 404
