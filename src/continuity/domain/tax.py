"""Taxes and shipping charges: the rate table, the charge per shipment and what a line costs in all.

The one rounding rule: tax is computed per line (a sales line, a child order's line, a planned
shipment of a continuity line; a shipping charge is its own line) and rounded half-up to the cent.
With net prices a line's tax is ``net × rate``; with gross prices (prices include tax) it is the part
of the gross price that is tax, ``gross × rate / (1 + rate)``. An order's tax is the sum of its lines'
tax; its total is the sum of its lines' totals. Rates are kept in millionths (25 % = 250000) so that
the same integer arithmetic runs here and in the set-based SQL of the batch (adapters/batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money

#: a rate of 100 % in millionths; rates are kept as whole millionths (percent with 4 decimals)
MILLION = 1_000_000


def tax_minor(amount_minor: int, rate_ppm: int, included: bool) -> int:
    """The tax of one line in minor units, rounded half-up (the SQL form: adapters/sql_rules.tax_minor)."""
    if amount_minor < 0 or rate_ppm < 0:
        raise ValidationFailed("tax of a negative amount or rate", "amount_invalid")
    if included:
        denominator = MILLION + rate_ppm
        return (2 * amount_minor * rate_ppm + denominator) // (2 * denominator)
    return (amount_minor * rate_ppm + MILLION // 2) // MILLION


def line_tax(amount: Money, rate_ppm: int, included: bool) -> Money:
    """The tax of a line of ``amount`` (net, or gross when ``included``), half-up to the cent."""
    return Money.from_minor(tax_minor(amount.minor, rate_ppm, included), amount.currency)


def parse_rate(text: str | int | Decimal) -> int:
    """A percentage ("25", "12.5", "8.875") as whole millionths; 0 to 100 %, at most 4 decimals."""
    if isinstance(text, float):
        raise TypeError("a rate is never a float")
    try:
        percent = Decimal(str(text).strip())
        ppm = percent * 10_000
        exact = percent.is_finite() and ppm == ppm.to_integral_value()
    except InvalidOperation:
        exact = False
    if not exact or not 0 <= percent <= 100:
        raise ValidationFailed(
            f"not a tax rate: {text!r} (a percentage from 0 to 100, at most 4 decimals)", "tax_rate_invalid"
        )
    return int(ppm)


def rate_text(rate_ppm: int) -> str:
    """The percentage of a rate in millionths, without trailing zeros ("25", "12.5")."""
    value = (Decimal(rate_ppm) / 10_000).normalize()
    return format(value, "f")


@dataclass(frozen=True)
class TaxRate:
    """One row of the rate table: the rate of a tax group in a country or region from a day on."""

    tax_group: str
    region: str  # an ISO 3166 code as the customer's address holds it (e.g. "SE")
    rate_ppm: int
    valid_from: date

    def validate(self) -> None:
        if not self.tax_group.strip() or not self.region.strip():
            raise ValidationFailed("a tax rate needs a tax group and a region", "tax_rate_invalid")
        if not 0 <= self.rate_ppm <= MILLION:
            raise ValidationFailed("a tax rate is from 0 to 100 %", "tax_rate_invalid")


@dataclass(frozen=True)
class TaxTable:
    """The rate table; no row for a group and region (or none yet valid) is a rate of 0."""

    rates: tuple[TaxRate, ...] = ()

    def rate_on(self, tax_group: str, region: str, day: date) -> int:
        found = [
            r for r in self.rates if r.tax_group == tax_group and r.region == region.upper() and r.valid_from <= day
        ]
        return max(found, key=lambda r: r.valid_from).rate_ppm if found else 0


class ChargeKind(StrEnum):
    NONE = "none"
    PER_ORDER = "per_order"  # a fixed amount per child order (per shipment)
    PER_UNIT = "per_unit"  # an amount per unit shipped


@dataclass(frozen=True)
class ShippingCharge:
    kind: ChargeKind = ChargeKind.NONE
    amount_minor: int = 0

    def validate(self) -> None:
        if self.amount_minor < 0:
            raise ValidationFailed("a shipping charge must not be negative", "shipping_charge_invalid")
        if self.kind == ChargeKind.NONE and self.amount_minor:
            raise ValidationFailed("a shipping charge needs a kind (per_order or per_unit)", "shipping_charge_invalid")

    def minor_for(self, quantity: int, is_lead: bool) -> int:
        """The charge of one shipped line: per unit on every line, per order on the child's first line."""
        if self.kind == ChargeKind.PER_UNIT:
            return self.amount_minor * quantity
        if self.kind == ChargeKind.PER_ORDER and is_lead:
            return self.amount_minor
        return 0


NO_CHARGE = ShippingCharge()


@dataclass(frozen=True)
class LineAmounts:
    """What one line costs: its goods, its shipping charge (both as priced: net or gross) and its tax."""

    goods: Money
    charge: Money
    tax: Money
    included: bool  # prices include tax

    @property
    def total(self) -> Money:
        gross = self.goods + self.charge
        return gross if self.included else gross + self.tax


@dataclass(frozen=True)
class Pricing:
    """How one customer's order is priced: the rate table, the customer's region, the items' tax groups,
    the shipping charge of the program (or its parent product) and whether prices include tax."""

    table: TaxTable = TaxTable()
    region: str = ""
    groups: Mapping[str, str] = field(default_factory=dict)  # item → tax group
    shipping: ShippingCharge = NO_CHARGE
    shipping_group: str = ""  # the tax group of the shipping charge: the parent product's
    included: bool = False

    def line(self, item_id: str, goods: Money, quantity: int, on: date, is_lead: bool = True) -> LineAmounts:
        """One line shipped on ``on`` (the tax point): its item's tax and its charge's tax, each half-up."""
        charge = Money.from_minor(self.shipping.minor_for(quantity, is_lead), goods.currency)
        return self.taxed(item_id, goods, charge, on)

    def taxed(self, item_id: str, goods: Money, charge: Money, on: date) -> LineAmounts:
        """A line of ``goods`` and ``charge`` taxed on ``on``: goods and charge rounded half-up apart."""
        item_rate = self.table.rate_on(self.groups.get(item_id, ""), self.region, on)
        charge_rate = self.table.rate_on(self.shipping_group, self.region, on)
        tax = line_tax(goods, item_rate, self.included) + line_tax(charge, charge_rate, self.included)
        return LineAmounts(goods, charge, tax, self.included)

    def without_shipping(self) -> Pricing:
        return Pricing(self.table, self.region, self.groups, NO_CHARGE, self.shipping_group, self.included)


NO_TAX = Pricing()


def summed(lines: Iterable[LineAmounts], currency: str, included: bool = False) -> LineAmounts:
    """The sum of lines: goods, charges and tax each the sum of the lines' (tax = Σ line tax)."""
    goods = charge = tax = Money.zero(currency)
    for line in lines:
        goods, charge, tax, included = goods + line.goods, charge + line.charge, tax + line.tax, line.included
    return LineAmounts(goods, charge, tax, included)


def region_of(countries: Iterable[tuple[str, str]]) -> str:
    """The customer's tax region: the country of the delivery address, else of the first address."""
    pairs = list(countries)
    for purpose, country in pairs:
        if purpose == "delivery":
            return country.upper()
    return pairs[0][1].upper() if pairs else ""
