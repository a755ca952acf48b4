"""Taxes and shipping charges (domain/tax.py): per-line half-up rounding, the rate table, line totals."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from continuity.domain.calendar import Interval
from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money
from continuity.domain.program import PaymentSchedule
from continuity.domain.schedule import Occurrence, plan_amounts, plan_installments, plan_value
from continuity.domain.servicing import share_unpaid
from continuity.domain.tax import (
    ChargeKind,
    Pricing,
    ShippingCharge,
    TaxRate,
    TaxTable,
    line_tax,
    parse_rate,
    rate_text,
    region_of,
    tax_minor,
)

D = date(2026, 1, 1)
CENT = Decimal("0.01")


def _exact(amount: Decimal, rate_ppm: int, included: bool) -> Decimal:
    rate = Decimal(rate_ppm) / 1_000_000
    tax = amount * rate / (1 + rate) if included else amount * rate
    return tax.quantize(CENT, rounding=ROUND_HALF_UP)


def test_half_up_to_the_cent_on_net_and_gross_prices():
    assert line_tax(Money(Decimal("0.10"), "EUR"), 250_000, False) == Money(Decimal("0.03"), "EUR")  # 0.025 → 0.03
    assert line_tax(Money(Decimal("0.30"), "EUR"), 50_000, False) == Money(Decimal("0.02"), "EUR")  # 0.015 → 0.02
    assert line_tax(Money(Decimal("0.14"), "EUR"), 250_000, False) == Money(Decimal("0.04"), "EUR")  # 0.035 → 0.04
    # gross 12.50 at 25 %: tax is 12.50 × 0.25 / 1.25 = 2.50
    assert line_tax(Money(Decimal("12.50"), "EUR"), 250_000, True) == Money(Decimal("2.50"), "EUR")
    # gross 0.21 at 5 %: 0.01 exactly; gross 1.05 at 5 %: 0.05
    assert line_tax(Money(Decimal("1.05"), "EUR"), 50_000, True) == Money(Decimal("0.05"), "EUR")


@given(
    st.integers(min_value=0, max_value=10**11),
    st.integers(min_value=0, max_value=1_000_000),
    st.booleans(),
)
def test_integer_rule_is_decimal_half_up(amount_minor, rate_ppm, included):
    """The integer form (also the SQL form) agrees with exact Decimal arithmetic rounded half-up."""
    expected = _exact(Decimal(amount_minor) / 100, rate_ppm, included)
    assert Decimal(tax_minor(amount_minor, rate_ppm, included)) / 100 == expected


def test_rates_parse_as_percentages_and_refuse_nonsense():
    assert parse_rate("25") == 250_000
    assert parse_rate("12.5") == 125_000
    assert parse_rate("8.875") == 88_750
    assert rate_text(125_000) == "12.5" and rate_text(250_000) == "25" and rate_text(0) == "0"
    for bad in ("-1", "101", "abc", "1.00001", "NaN"):
        with pytest.raises(ValidationFailed) as err:
            parse_rate(bad)
        assert err.value.code == "tax_rate_invalid"


def test_the_rate_in_force_is_the_latest_valid_from_on_or_before_the_day():
    table = TaxTable(
        (
            TaxRate("books", "SE", 250_000, date(2026, 1, 1)),
            TaxRate("books", "SE", 60_000, date(2026, 7, 1)),
            TaxRate("books", "NO", 150_000, date(2026, 1, 1)),
        )
    )
    assert table.rate_on("books", "SE", date(2025, 12, 31)) == 0
    assert table.rate_on("books", "SE", date(2026, 6, 30)) == 250_000
    assert table.rate_on("books", "SE", date(2026, 7, 1)) == 60_000
    assert table.rate_on("books", "se", date(2027, 1, 1)) == 60_000
    assert table.rate_on("food", "SE", date(2027, 1, 1)) == 0
    assert table.rate_on("", "SE", date(2027, 1, 1)) == 0


def test_region_is_the_delivery_country_else_the_first():
    assert region_of([("invoice", "no"), ("delivery", "se")]) == "SE"
    assert region_of([("invoice", "NO")]) == "NO"
    assert region_of([]) == ""


def test_shipping_charge_per_order_and_per_unit():
    per_order = ShippingCharge(ChargeKind.PER_ORDER, 490)
    per_unit = ShippingCharge(ChargeKind.PER_UNIT, 100)
    assert per_order.minor_for(3, True) == 490 and per_order.minor_for(3, False) == 0
    assert per_unit.minor_for(3, True) == 300 and per_unit.minor_for(3, False) == 300
    with pytest.raises(ValidationFailed):
        ShippingCharge(ChargeKind.NONE, 100).validate()
    with pytest.raises(ValidationFailed):
        ShippingCharge(ChargeKind.PER_UNIT, -1).validate()


def test_a_line_taxes_goods_and_charge_apart_and_totals_net_or_gross():
    table = TaxTable((TaxRate("books", "SE", 60_000, D), TaxRate("freight", "SE", 250_000, D)))
    net = Pricing(table, "SE", {"B": "books"}, ShippingCharge(ChargeKind.PER_ORDER, 490), "freight", False)
    line = net.line("B", Money(Decimal("14.95"), "EUR"), 1, D)
    # books 14.95 × 6 % = 0.897 → 0.90; freight 4.90 × 25 % = 1.225 → 1.23
    assert line.tax == Money(Decimal("2.13"), "EUR")
    assert line.total == Money(Decimal("14.95") + Decimal("4.90") + Decimal("2.13"), "EUR")
    gross = Pricing(table, "SE", {"B": "books"}, ShippingCharge(ChargeKind.PER_ORDER, 490), "freight", True)
    gline = gross.line("B", Money(Decimal("14.95"), "EUR"), 1, D)
    assert gline.total == Money(Decimal("19.85"), "EUR")  # gross: the tax is inside
    assert gline.tax == Money(Decimal("0.85") + Decimal("0.98"), "EUR")  # 0.8462 → 0.85; 0.98


def test_no_rate_and_no_charge_cost_what_the_goods_cost():
    occ = [Occurrence(n, 1, "B", 2, Money(Decimal("9.99"), "EUR"), date(2026, 1, n)) for n in range(1, 4)]
    assert plan_value(occ, "EUR") == Money(Decimal("59.94"), "EUR")
    assert plan_amounts(occ, Pricing(), "EUR").tax == Money.zero("EUR")


_cents = st.integers(min_value=0, max_value=100_000)


@given(
    prices=st.lists(_cents, min_size=1, max_size=12),
    quantities=st.data(),
    rate=st.integers(min_value=0, max_value=1_000_000),
    charge=st.integers(min_value=0, max_value=2_000),
    kind=st.sampled_from(list(ChargeKind)),
    included=st.booleans(),
    payments=st.integers(min_value=1, max_value=24),
    paid=st.integers(min_value=0, max_value=24),
)
def test_tax_is_the_sum_of_line_tax_and_installments_sum_to_the_total(
    prices, quantities, rate, charge, kind, included, payments, paid
):
    """tax = Σ line tax; total = goods + charges (+ tax when net); installments sum to the total to the
    cent, also after a rate change re-shares the unpaid ones (the paid ones never change)."""
    charge = 0 if kind == ChargeKind.NONE else charge
    table = TaxTable((TaxRate("g", "SE", rate, D),))
    pricing = Pricing(table, "SE", {"B": "g"}, ShippingCharge(kind, charge), "g", included)
    occ = [
        Occurrence(n, 1, "B", quantities.draw(st.integers(1, 5)), Money.from_minor(p, "EUR"), date(2026, 2, 1))
        for n, p in enumerate(prices, start=1)
    ]
    amounts = plan_amounts(occ, pricing, "EUR")
    lines = [pricing.line(o.item_id, o.amount, o.quantity, o.ship_date) for o in occ]
    assert amounts.tax.minor == sum(ln.tax.minor for ln in lines)
    assert amounts.goods.minor == sum(o.amount.minor for o in occ)
    expected_total = amounts.goods.minor + amounts.charge.minor + (0 if included else amounts.tax.minor)
    assert amounts.total.minor == expected_total
    schedule = PaymentSchedule("X", "", payments, Interval.parse("1 month"))
    planned = plan_installments(amounts.total, schedule, D)
    assert sum(p.amount.minor for p in planned) == amounts.total.minor
    # a rate change: the first `paid` installments stay, the rest share the new total
    new_table = TaxTable((TaxRate("g", "SE", rate, D), TaxRate("g", "SE", rate // 2, date(2026, 1, 15))))
    new_pricing = Pricing(new_table, "SE", {"B": "g"}, ShippingCharge(kind, charge), "g", included)
    new_total = plan_amounts(occ, new_pricing, "EUR").total
    kept = planned[: min(paid, payments - 1)]
    settled = Money.from_minor(sum(p.amount.minor for p in kept), "EUR")
    shares = share_unpaid(new_total, settled, payments - len(kept))
    if new_total.minor >= settled.minor:
        assert settled.minor + sum(s.minor for s in shares) == new_total.minor
    assert all(s.minor >= 0 for s in shares)
