"""The JSON documents of setup data (programs, payment schedules, products, parameters).

The same shapes are read by `programs import`, the demo loader and (later) the API.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from continuity.domain.calendar import Interval
from continuity.domain.errors import ValidationFailed
from continuity.domain.free_text import checked_name, masked_reason
from continuity.domain.money import Money, parse_amount
from continuity.domain.program import (
    ITEM_CURRENCY,
    ContinuityParameters,
    Event,
    EventAction,
    OrderStart,
    PaymentSchedule,
    Product,
    Program,
)
from continuity.domain.returns import ReturnAction
from continuity.domain.tax import NO_CHARGE, ChargeKind, ShippingCharge, TaxRate, parse_rate


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventDoc(_Doc):
    event_id: int
    item_id: str
    quantity: int = Field(default=1, le=9999)  # unbounded, a huge number overflowed the integer column
    price: Decimal | str | None = None
    currency: str | None = None  # of the price; none given: the item's currency
    times_to_repeat: int = 1
    days_from_last_event: int | None = Field(default=None, ge=0)
    interval: str | None = None
    start_date: date | None = None
    action: Literal["normal", "skip", "end"] = "normal"

    @model_validator(mode="after")
    def _one_interval(self) -> EventDoc:
        if self.days_from_last_event is not None and self.interval is not None:
            raise ValueError("give days_from_last_event or interval, not both")
        return self

    def to_domain(self) -> Event:
        if self.interval:
            interval = Interval.parse(self.interval)
        else:  # 0 is kept (and refused by the program's validation), never taken for "not given"
            interval = Interval.days(30 if self.days_from_last_event is None else self.days_from_last_event)
        price = Money(parse_amount(self.price), self.currency or ITEM_CURRENCY) if self.price is not None else None
        return Event(
            self.event_id,
            self.item_id,
            self.quantity,
            self.times_to_repeat,
            interval,
            EventAction(self.action),
            price,
            self.start_date,
        )


class ShippingDoc(_Doc):
    """A shipping charge per shipment: a fixed amount per child order, or an amount per unit shipped."""

    kind: Literal["none", "per_order", "per_unit"] = "none"
    amount: Decimal | str = "0"

    def to_domain(self) -> ShippingCharge:
        charge = ShippingCharge(ChargeKind(self.kind), Money(parse_amount(self.amount), "XXX").minor)
        charge.validate()
        return charge


class TaxRateDoc(_Doc):
    """A row of the rate table: a tax group's rate (a percentage) in a region from a day on."""

    tax_group: str = Field(min_length=1, max_length=40)
    region: str = Field(min_length=2, max_length=10)
    rate: Decimal | str
    valid_from: date

    def to_domain(self) -> TaxRate:
        rate = TaxRate(self.tax_group.strip(), self.region.strip().upper(), parse_rate(self.rate), self.valid_from)
        rate.validate()
        return rate


class ProgramDoc(_Doc):
    program_id: str = Field(min_length=1, max_length=40)
    description: str = ""
    order_start: Literal["first_event", "current_event"] = "first_event"
    bill_up_front: bool = False
    payment_schedule_id: str | None = None
    prompt_for_start_date: bool = True
    prompt_for_payment_schedule: bool = False
    days_after_order: int = Field(default=0, ge=0)
    consolidate_past_orders: bool = False
    active: bool = True
    return_action: Literal["continue", "replace", "cancel_remaining"] = "continue"
    shipping_charge: ShippingDoc | None = None
    upcoming_charge_notice_days: int | None = Field(default=None, ge=0)  # None: the parameters'
    events: list[EventDoc]

    def to_domain(self) -> Program:
        return Program(
            self.program_id,
            masked_reason(self.description, "description"),
            OrderStart(self.order_start),
            self.bill_up_front,
            self.days_after_order,
            [e.to_domain() for e in self.events],
            self.payment_schedule_id,
            self.prompt_for_start_date,
            self.prompt_for_payment_schedule,
            self.consolidate_past_orders,
            self.active,
            return_action=ReturnAction(self.return_action),
            shipping=self.shipping_charge.to_domain() if self.shipping_charge else NO_CHARGE,
            upcoming_charge_notice_days=self.upcoming_charge_notice_days,
        )


class PaymentScheduleDoc(_Doc):
    payment_schedule_id: str = Field(min_length=1, max_length=40)
    description: str = ""
    number_of_payments: int = Field(ge=1)
    interval: str = "1 month"
    allocation: Literal["total"] = "total"

    def to_domain(self) -> PaymentSchedule:
        return PaymentSchedule(
            self.payment_schedule_id,
            masked_reason(self.description, "description"),
            self.number_of_payments,
            Interval.parse(self.interval),
        )


class ProductDoc(_Doc):
    item_id: str = Field(min_length=1, max_length=40)
    name: str
    price: Decimal | str
    currency: str = "EUR"
    continuity_program_id: str | None = None
    tax_group: str = Field(default="", max_length=40)
    shipping_charge: ShippingDoc | None = None  # a parent product's own, before its program's

    def to_domain(self) -> Product:
        return Product(
            self.item_id,
            checked_name(self.name, "name"),
            Money(parse_amount(self.price), self.currency),
            self.continuity_program_id,
            checked_name(self.tax_group.strip(), "tax_group"),
            self.shipping_charge.to_domain() if self.shipping_charge else NO_CHARGE,
        )


_DEFAULT = ContinuityParameters()  # the domain's defaults, the documents' too


class ParametersDoc(_Doc):
    """The continuity parameters; a document that names only some changes only those (apply_to)."""

    repeat_threshold: int = _DEFAULT.repeat_threshold
    delivery_lead_days: int = _DEFAULT.delivery_lead_days
    max_child_orders_per_run: int = _DEFAULT.max_child_orders_per_run
    authorize_child_orders: bool = _DEFAULT.authorize_child_orders
    reauthorization_limit: int = _DEFAULT.reauthorization_limit
    upcoming_charge_notice_days: int = _DEFAULT.upcoming_charge_notice_days
    card_expiry_notice_days: int = _DEFAULT.card_expiry_notice_days
    prices_include_tax: bool = _DEFAULT.prices_include_tax
    retry_days: tuple[int, ...] = _DEFAULT.retry_days
    retry_window_days: int = _DEFAULT.retry_window_days
    card_retry_budget: int = _DEFAULT.card_retry_budget
    card_retry_budget_days: int = _DEFAULT.card_retry_budget_days

    def to_domain(self) -> ContinuityParameters:
        """Every parameter: the ones not named take their defaults (a whole document, e.g. a form)."""
        return ContinuityParameters(**self.model_dump())

    def apply_to(self, current: ContinuityParameters) -> ContinuityParameters:
        """``current`` with the parameters this document names; the others keep their values."""
        return replace(current, **self.model_dump(exclude_unset=True))


class SetupDoc(_Doc):
    """A whole setup file: any of the sections may be left out."""

    parameters: ParametersDoc | None = None
    payment_schedules: list[PaymentScheduleDoc] = []
    products: list[ProductDoc] = []
    programs: list[ProgramDoc] = []
    tax_rates: list[TaxRateDoc] = []


def parse_setup(data: object) -> SetupDoc:
    """Read a setup document: a whole file, a list of programs or one program."""
    if isinstance(data, list):
        data = {"programs": data}
    elif isinstance(data, dict) and "events" in data:
        data = {"programs": [data]}
    try:
        return SetupDoc.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(explain(exc), "document_invalid") from None


def explain(exc: ValidationError) -> str:
    """The first error of a document, with where it is (and how many more there are)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def where(exc: ValidationError) -> dict[str, str | int]:
    """The field of a document's first error and, for a number too small, its minimum."""
    first = exc.errors()[0]
    found: dict[str, str | int] = {"field": ".".join(str(p) for p in first["loc"])}
    minimum = (first.get("ctx") or {}).get("ge")
    if isinstance(minimum, int):
        found["minimum"] = minimum
    return found
