"""Taxes and shipping charges: /tax-rates (the rate table), /programs/{id}/shipping-charge,
/products/{id}/charges, and /quote (what an order would cost before it is entered)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from continuity.domain.audit import Actor
from continuity.domain.calendar import parse_date
from continuity.domain.money import Money, parse_amount
from continuity.domain.tax import ChargeKind, ShippingCharge, TaxRate, parse_rate
from continuity.entrypoints.api.deps import Agent, AppDep, Manager
from continuity.entrypoints.api.routes import READ, WRITE, ItemId, ProgramId, errors
from continuity.entrypoints.api.schemas import ID_PATTERN, NO_CONTROL, BusinessDate, In
from continuity.services import quotes, taxes

router = APIRouter(tags=["taxes"])


class TaxRateIn(In):
    tax_group: str = Field(min_length=1, max_length=40)
    region: str = Field(min_length=2, max_length=10, description="The customer's country as on the address, e.g. SE.")
    rate: str = Field(max_length=12, description="A percentage, e.g. 25 or 12.5 (0 to 100, at most 4 decimals).")
    valid_from: BusinessDate = Field(description="The first day the rate applies (YYYY-MM-DD).")


class TaxRateOut(BaseModel):
    tax_group: str
    region: str
    rate: str
    valid_from: date


class ShippingIn(In):
    kind: ChargeKind = Field(description="none, per_order (per child order) or per_unit (per unit shipped).")
    amount: str = Field(default="0", max_length=20)


class ShippingOut(BaseModel):
    kind: str
    amount: str


class ProductChargesIn(In):
    tax_group: str | None = Field(default=None, max_length=40)
    shipping_charge: ShippingIn | None = None


class ProductChargesOut(BaseModel):
    item_id: str
    tax_group: str
    shipping_charge: ShippingOut


class QuoteShipmentOut(BaseModel):
    seq: int
    ship_date: date
    item_id: str
    quantity: int
    amount: str
    charge: str
    tax: str
    total: str


class QuoteInstallmentOut(BaseModel):
    seq: int
    due_date: date
    amount: str


class QuoteOut(BaseModel):
    account: str
    item_id: str
    quantity: int
    currency: str
    prices_include_tax: bool
    billing_mode: str | None
    goods: str
    charges: str
    tax: str = Field(description="The sum of the lines' tax, each rounded half-up to the cent.")
    total: str
    due_now: str
    shipments: list[QuoteShipmentOut]
    installments: list[QuoteInstallmentOut]


def _charge(body: ShippingIn) -> ShippingCharge:
    return ShippingCharge(body.kind, Money(parse_amount(body.amount), "XXX").minor)


@router.get("/tax-rates", response_model=list[TaxRateOut], responses=errors(*READ))
def list_tax_rates(
    app: AppDep,
    _: Agent,
    on: Annotated[BusinessDate | None, Query(description="Only the rates in force that day (YYYY-MM-DD).")] = None,
) -> list[taxes.TaxRateView]:
    return taxes.tax_rates(app.uow, on)


@router.put("/tax-rates", response_model=TaxRateOut, responses=errors(*WRITE))
def set_tax_rate(body: TaxRateIn, app: AppDep, user: Manager) -> taxes.TaxRateView:
    """Set a group's rate in a region from a day on. Open orders change only through the
    `tax-rate-change` job (`POST /jobs/tax-rate-change` with `dry_run` lists the changes first)."""
    rate = TaxRate(body.tax_group.strip(), body.region.strip().upper(), parse_rate(body.rate), body.valid_from)
    return taxes.set_tax_rate(app.uow, rate, Actor.for_user(user))


@router.put("/programs/{program_id}/shipping-charge", response_model=ShippingOut, responses=errors(*WRITE))
def set_program_shipping(program_id: ProgramId, body: ShippingIn, app: AppDep, user: Manager) -> taxes.ShippingView:
    return taxes.set_program_shipping(app.uow, program_id, _charge(body), app.clock.today(), Actor.for_user(user))


@router.put("/products/{item_id}/charges", response_model=ProductChargesOut, responses=errors(*WRITE))
def set_product_charges(item_id: ItemId, body: ProductChargesIn, app: AppDep, user: Manager) -> dict[str, object]:
    """An item's tax group and a parent product's own shipping charge (before its program's)."""
    charge = _charge(body.shipping_charge) if body.shipping_charge else None
    group, shipping = taxes.set_product_charges(app.uow, item_id, body.tax_group, charge, Actor.for_user(user))
    return {"item_id": item_id, "tax_group": group, "shipping_charge": shipping}


@router.get("/quote", response_model=QuoteOut, responses=errors(*READ))
def get_quote(
    app: AppDep,
    _: Agent,
    account: Annotated[str, Query(pattern=ID_PATTERN)],
    item_id: Annotated[str, Query(pattern=ID_PATTERN)],
    quantity: Annotated[int, Query(ge=1, le=9999)] = 1,
    start_date: Annotated[str | None, Query(max_length=10, pattern=NO_CONTROL, description="YYYY-MM-DD")] = None,
    payment_schedule_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> quotes.Quote:
    """What an order would cost before it is entered: goods, shipping charges, tax, total, its
    installments and each shipment's amounts (as order entry and create-child-orders will price it)."""
    start = parse_date(start_date) if start_date else None
    return quotes.quote(app.uow, app.clock.today(), account, item_id, quantity, start, payment_schedule_id)
