"""Set-up of taxes and shipping charges: the rate table, items' tax groups, shipping charges."""

from __future__ import annotations

from datetime import date

from typing_extensions import TypedDict

from continuity.domain.audit import SYSTEM, Actor
from continuity.domain.money import Money
from continuity.domain.program import Product
from continuity.domain.tax import ShippingCharge, TaxRate, rate_text
from continuity.services.ports import UowFactory
from continuity.services.setup import save_product, save_program, save_tax_rate


class TaxRateView(TypedDict):
    tax_group: str
    region: str
    rate: str  # a percentage, e.g. "25" or "12.5"
    valid_from: str  # ISO date


class ShippingView(TypedDict):
    kind: str
    amount: str


def rate_view(r: TaxRate) -> TaxRateView:
    return {
        "tax_group": r.tax_group,
        "region": r.region,
        "rate": rate_text(r.rate_ppm),
        "valid_from": r.valid_from.isoformat(),
    }


def shipping_view(charge: ShippingCharge, currency: str) -> ShippingView:
    return {"kind": charge.kind.value, "amount": str(Money.from_minor(charge.amount_minor, currency).amount)}


def set_tax_rate(uow_factory: UowFactory, rate: TaxRate, actor: Actor = SYSTEM) -> TaxRateView:
    """Set a tax group's rate in a region from a day on (a new row of the rate table, or that day's row
    changed). The orders it changes are changed by the tax-rate-change job, never here."""
    with uow_factory() as uow:
        save_tax_rate(uow, rate, actor)
        uow.commit()
    return rate_view(rate)


def tax_rates(uow_factory: UowFactory, on: date | None = None) -> list[TaxRateView]:
    """The rate table, by group, region and day; ``on``: only the rows in force that day."""
    with uow_factory() as uow:
        table = uow.setup.tax_rates()
    rows = list(table.rates)
    if on is not None:
        rows = [r for r in rows if r.valid_from <= on and table.rate_on(r.tax_group, r.region, on) == r.rate_ppm]
        latest = {(r.tax_group, r.region): r for r in rows}
        rows = list(latest.values())
    return [rate_view(r) for r in rows]


def set_program_shipping(
    uow_factory: UowFactory, program_id: str, charge: ShippingCharge, today: date, actor: Actor = SYSTEM
) -> ShippingView:
    """A program's shipping charge per shipment (for orders entered from now on)."""
    charge.validate()
    with uow_factory() as uow:
        program = uow.setup.program(program_id)
        program.shipping = charge
        save_program(uow, program, today, actor)
        currency = _program_currency(uow.setup.products(), program.events[0].item_id)
        uow.commit()
    return shipping_view(charge, currency)


def set_product_charges(
    uow_factory: UowFactory,
    item_id: str,
    tax_group: str | None = None,
    charge: ShippingCharge | None = None,
    actor: Actor = SYSTEM,
) -> tuple[str, ShippingView]:
    """An item's tax group and (a parent product's) own shipping charge; what is not given stays."""
    with uow_factory() as uow:
        product = uow.setup.product(item_id)
        if tax_group is not None:
            product.tax_group = tax_group.strip()
        if charge is not None:
            charge.validate()
            product.shipping = charge
        save_product(uow, product, actor)
        uow.commit()
    return product.tax_group, shipping_view(product.shipping, product.price.currency)


def _program_currency(products: list[Product], item_id: str) -> str:
    return next((p.price.currency for p in products if p.item_id == item_id), "EUR")
