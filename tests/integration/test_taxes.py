"""Taxes and shipping charges at order entry (issue 16 part 2), on SQLite and PostgreSQL.

The demo has one taxed country (Sweden: books 6 %, food 12 %); Erik Lindqvist (004053) lives there,
Karen Berg (004007) in Norway, which has no rate.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from continuity.domain.tax import ChargeKind, ShippingCharge
from continuity.entrypoints.cli import app as cli
from continuity.services import order_entry, taxes, views
from continuity.services.setup import save_parameters

ERIK, KAREN = "004053", "004007"


def _order(app, account: str, item: str, **kwargs):  # type: ignore[no-untyped-def]
    sales_id = order_entry.create_order_with_line(app.uow, app.clock, account, item, **kwargs)
    return views.order_view(app.uow, sales_id)


def _sum(values) -> Decimal:  # type: ignore[no-untyped-def]
    return sum((Decimal(v) for v in values), Decimal(0))


def test_an_ordinary_line_is_taxed_in_the_customers_country_only(demo_app):
    erik = _order(demo_app, ERIK, "0013")  # 14.95, books 6 %: 0.897 → 0.90
    assert (erik["goods"], erik["tax"], erik["total"], erik["amount_due_now"]) == ("14.95", "0.90", "15.85", "15.85")
    karen = _order(demo_app, KAREN, "0013")
    assert (karen["tax"], karen["total"], karen["amount_due_now"]) == ("0.00", "14.95", "14.95")


def test_installments_share_goods_shipping_and_tax_to_the_cent(demo_app):
    """REPLENISH: six shipments of 9.90 (food 12 %), three installments; a per-order charge of 4.90."""
    taxes.set_program_shipping(
        demo_app.uow, "REPLENISH", ShippingCharge(ChargeKind.PER_ORDER, 490), demo_app.clock.today()
    )
    order = _order(demo_app, ERIK, "0021")
    # each shipment: 9.90 + 1.19 (1.188) tax + 4.90 shipping + 0.59 (0.588) shipping tax = 16.58
    assert (order["goods"], order["charges"], order["tax"], order["total"]) == ("59.40", "29.40", "10.68", "99.48")
    line = order["lines"][0]
    assert (line["amount"], line["charge"], line["tax"], line["total"]) == ("59.40", "29.40", "10.68", "99.48")
    amounts = [i["amount"] for i in order["installments"]]
    assert amounts == ["33.16", "33.16", "33.16"] and _sum(amounts) == Decimal(order["total"])
    assert order["amount_due_now"] == "33.16"
    # Norway has no rate: only the shipping charge is added
    karen = _order(demo_app, KAREN, "0021")
    assert (karen["tax"], karen["total"]) == ("0.00", "88.80")
    assert _sum(i["amount"] for i in karen["installments"]) == Decimal("88.80")


def test_a_parent_products_own_charge_per_unit_comes_before_its_programs(demo_app):
    taxes.set_program_shipping(
        demo_app.uow, "REPLENISH", ShippingCharge(ChargeKind.PER_ORDER, 490), demo_app.clock.today()
    )
    taxes.set_product_charges(demo_app.uow, "0021", charge=ShippingCharge(ChargeKind.PER_UNIT, 100))
    order = _order(demo_app, KAREN, "0021", quantity=2)  # 6 shipments of 2 units: 12 × 1.00
    assert (order["goods"], order["charges"], order["total"]) == ("118.80", "12.00", "130.80")


def test_gross_prices_hold_their_tax(demo_app):
    with demo_app.uow() as uow:
        params = uow.setup.parameters()
        params.prices_include_tax = True
        save_parameters(uow, params)
        uow.commit()
    order = _order(demo_app, ERIK, "0013")  # 14.95 includes 6 %: 14.95 × 6 / 106 = 0.846 → 0.85
    assert (order["prices_include_tax"], order["tax"], order["total"]) == (True, "0.85", "14.95")
    assert order["amount_due_now"] == "14.95"


def test_nothing_changes_without_a_rate_or_a_charge(demo_app):
    order = _order(demo_app, KAREN, "0021")
    assert (order["charges"], order["tax"], order["total"]) == ("0.00", "0.00", "59.40")
    assert [i["amount"] for i in order["installments"]] == ["19.80", "19.80", "19.80"]


@pytest.fixture
def invoke(demo_app, database_url):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def _invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env={"CONTINUITY_DATABASE_URL": database_url, "CONTINUITY_TODAY": ""})

    return _invoke


def test_the_cli_sets_and_lists_rates_charges_and_tax_groups(invoke):
    done = invoke("setup", "tax-rate", "set", "books", "se", "25", "--from", "2027-01-01", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"tax_group": "books", "region": "SE", "rate": "25", "valid_from": "2027-01-01"}
    listed = json.loads(invoke("setup", "tax-rate", "list", "--json").stdout)
    assert {"tax_group": "books", "region": "SE", "rate": "6", "valid_from": "2020-01-01"} in listed
    assert len(listed) == 3
    on = json.loads(invoke("setup", "tax-rate", "list", "--on", "2027-02-01", "--json").stdout)
    assert {(r["tax_group"], r["rate"]) for r in on} == {("books", "25"), ("food", "12")}
    shipping = invoke("setup", "program-shipping", "BOOKCLUB", "--kind", "per_order", "--amount", "3.50", "--json")
    assert json.loads(shipping.stdout) == {"kind": "per_order", "amount": "3.50"}
    product = invoke("setup", "product", "0013", "--tax-group", "reduced", "--json")
    assert json.loads(product.stdout)["tax_group"] == "reduced"


@pytest.mark.parametrize(
    "args, code",
    [
        (("setup", "tax-rate", "set", "books", "SE", "120", "--from", "2027-01-01"), "tax_rate_invalid"),
        (("setup", "tax-rate", "set", "books", "SE", "abc", "--from", "2027-01-01"), "tax_rate_invalid"),
        (("setup", "tax-rate", "set", "books", "SE", "5", "--from", "2027-13-01"), "date_invalid"),
        (("setup", "program-shipping", "BOOKCLUB", "--kind", "weekly", "--amount", "1"), "shipping_charge_invalid"),
        (("setup", "program-shipping", "BOOKCLUB", "--kind", "per_unit", "--amount", "-1"), "shipping_charge_invalid"),
        (("setup", "program-shipping", "NOPE", "--kind", "per_unit", "--amount", "1"), "program_not_found"),
    ],
)
def test_the_cli_refuses_bad_set_up_with_a_code_and_writes_nothing(invoke, args, code):
    done = invoke(*args, "--json")
    assert done.exit_code == 1
    assert json.loads(done.stdout)["error"]["code"] == code
    assert "Traceback" not in done.output
    assert len(json.loads(invoke("setup", "tax-rate", "list", "--json").stdout)) == 2


def test_a_rate_in_force_later_taxes_only_shipments_from_that_day(demo_app):
    day = demo_app.clock.today()
    from continuity.domain.tax import TaxRate

    # from the third shipment on (REPLENISH ships every 30 days from day + 2), food is 25 % in Sweden
    taxes.set_tax_rate(demo_app.uow, TaxRate("food", "SE", 250_000, date.fromordinal(day.toordinal() + 50)))
    order = _order(demo_app, ERIK, "0021")
    # two shipments at 12 % (1.19 each), four at 25 % (2.475 → 2.48 each)
    assert order["tax"] == str(Decimal("1.19") * 2 + Decimal("2.48") * 4)
