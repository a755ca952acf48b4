"""How an order is priced: the customer's region, the rate table, the items' tax groups and the shipping
charge of a parent product (or of its program), read once in the caller's transaction."""

from __future__ import annotations

from continuity.domain.program import Product, Program
from continuity.domain.tax import NO_CHARGE, ChargeKind, Pricing, ShippingCharge, region_of
from continuity.services.ports import UnitOfWork


def shipping_of(parent: Product | None, program: Program | None) -> ShippingCharge:
    """The parent product's own shipping charge, else its program's, else none."""
    if parent is not None and parent.shipping.kind != ChargeKind.NONE:
        return parent.shipping
    return program.shipping if program is not None else NO_CHARGE


def pricing_for(
    uow: UnitOfWork,
    account: str,
    included: bool,
    parent: Product | None = None,
    program: Program | None = None,
) -> Pricing:
    """The pricing of ``account``'s lines; ``parent`` and ``program`` give a continuity line its charge."""
    customer = uow.customers.get(account)
    products = uow.setup.products()
    return Pricing(
        uow.setup.tax_rates(),
        region_of((a.purpose, a.country) for a in customer.addresses),
        {p.item_id: p.tax_group for p in products},
        shipping_of(parent, program),
        parent.tax_group if parent is not None else "",
        included,
    )
