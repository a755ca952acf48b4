"""Request and response bodies of the JSON API. Field names are the concept names of PRODUCT.md §2.

Money is a decimal string (at most 2 decimals) plus a currency code; dates are ISO 8601. Every text
field refuses control characters and is bounded by its column, every number by what the domain
can plan (so no input reaches the database that it cannot hold).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from continuity.domain.customer import Address, Customer
from continuity.services.order_entry import Entry

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"

Id = Annotated[str, Field(pattern=ID_PATTERN, examples=["004007"])]
Amount = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,5}(\.[0-9]{1,2})?$",
        examples=["12.99"],
        description="A decimal string with at most 2 decimals (money is never a float).",
    ),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
IntervalText = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,3} (day|days|month|months)$",
        examples=["1 month"],
        description="Whole days or calendar months, e.g. '30 days' or '1 month'.",
    ),
]


def _iso_text(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        return value
    raise ValueError("a date YYYY-MM-DD is expected")


def _in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a date between {FIRST_DAY} and {LAST_DAY} is expected")
    return day


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Instant = Annotated[datetime, AfterValidator(_aware)]
BusinessDate = Annotated[date, BeforeValidator(_iso_text), AfterValidator(_in_range)]


def _text(max_length: int, min_length: int = 0) -> Any:
    """A text field's constraints (use as ``Annotated[str, _text(...)]``): bounded, no control characters."""
    return Field(min_length=min_length, max_length=max_length, pattern=NO_CONTROL)


Name = Annotated[str, _text(200, 1)]
Text200 = Annotated[str, _text(200)]
City = Annotated[str, _text(100, 1)]
PostalCode = Annotated[str, _text(20, 1)]
Phone = Annotated[str, _text(40)]
Tracking = Annotated[str, _text(80, 1)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- problems -------------------------------------------------------------------------------------
class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """application/problem+json (RFC 9457) with a stable machine-readable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[FieldError] | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


# -- customers and cards --------------------------------------------------------------------------
class AddressIn(In):
    purpose: Literal["delivery", "invoice"] = "delivery"
    street: Name
    city: City
    postal_code: PostalCode
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class ShipToIn(In):
    street: Name
    city: City
    postal_code: PostalCode
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class CustomerIn(In):
    account: Id
    name: Name
    phone: Phone = ""
    email: Text200 = ""
    language: Literal["en", "nb", "nl", "it", "fr", "sv"] = "en"
    addresses: list[AddressIn] = Field(default=[], max_length=5)

    def to_domain(self) -> Customer:
        return Customer(
            self.account,
            self.name,
            self.phone,
            self.email,
            self.language,
            [Address(**a.model_dump()) for a in self.addresses],
        )


class CustomerChangeIn(In):
    """A customer's details as they are to be (the account stays): every field is replaced."""

    name: Name
    phone: Phone = ""
    email: Text200 = ""
    language: Literal["en", "nb", "nl", "it", "fr", "sv"] = "en"
    addresses: list[AddressIn] = Field(default=[], max_length=5)

    def to_domain(self, account: str) -> Customer:
        addresses = [Address(**a.model_dump()) for a in self.addresses]
        return Customer(account, self.name, self.phone, self.email, self.language, addresses)


class AddressOut(BaseModel):
    purpose: str
    street: str
    city: str
    postal_code: str
    country: str


class ShipToOut(BaseModel):
    street: str
    city: str
    postal_code: str
    country: str


class CustomerOut(BaseModel):
    account: str
    name: str
    phone: str
    email: str
    language: str
    addresses: list[AddressOut]


class CardIn(In):
    """A card: its number and expiry (test gateway), or the PaymentMethod Stripe.js made (stripe)."""

    customer: Id = Field(description="The customer's account.")
    card_number: str | None = Field(
        None,
        min_length=12,
        max_length=30,
        pattern=r"^[0-9][0-9 -]*[0-9]$",
        repr=False,
        json_schema_extra={"writeOnly": True},
        description="Test gateway only. Sent to the gateway only; never stored, echoed or logged.",
    )
    expiry: str | None = Field(
        None,
        pattern=r"^(0?[1-9]|1[0-2])/([0-9]{2}|[0-9]{4})$",
        examples=["12/30"],
        description="MM/YY, with card_number",
    )
    payment_method: str | None = Field(
        None,
        pattern=r"^pm_[A-Za-z0-9_]{1,100}$",
        description="CONTINUITY_GATEWAY=stripe: the PaymentMethod id (pm_…) the card was entered as at Stripe.",
    )
    holder: Text200 = ""

    @model_validator(mode="after")
    def _one_kind(self) -> CardIn:
        if self.payment_method is not None and (self.card_number is not None or self.expiry is not None):
            raise ValueError("give either payment_method or card_number with expiry, not both")
        if self.payment_method is None and (self.card_number is None or self.expiry is None):
            raise ValueError("card_number and expiry are required (or payment_method under stripe)")
        return self


class CardOut(BaseModel):
    token: str
    brand: str
    last4: str
    expiry: str


class ReplacedCardOut(BaseModel):
    token: str
    expiry: str


class SavedCardOut(CardOut):
    """One physical card of the customer (same brand and last 4): its newest entry, marked."""

    expired: bool = Field(description="expired today")
    declined: bool = Field(description="the last charge on this card (its newest expiry) was declined")
    replaced: list[ReplacedCardOut] = Field(description="the same card's older entries (older expiries)")
    default: bool = Field(description="the customer's default card")


# -- sales orders ---------------------------------------------------------------------------------
class OrderLineIn(In):
    item_id: Id
    quantity: StrictInt = Field(default=1, ge=1, le=9999)


class ContinuityTermsIn(In):
    start_date: BusinessDate | None = Field(default=None, description="Default: the order date.")
    payment_schedule_id: Id | None = Field(default=None, description="Default: the program's.")


class SalesOrderIn(In):
    customer: Id = Field(description="The customer's account.")
    lines: list[OrderLineIn] = Field(min_length=1, max_length=50)
    continuity: ContinuityTermsIn | None = Field(
        default=None, description="The continuity step, for the order's continuity (parent) lines."
    )
    ship_to: ShipToIn | None = Field(
        default=None, description="Where the order ships. Default: the customer's first delivery address."
    )
    confirm_duplicate: StrictBool = Field(
        default=False,
        description="The caller wants another order of a continuity item they still have an order for "
        "(draft, open or on hold, not cancelled). Without it such an order is refused: 409 "
        "duplicate_continuity_order, naming the orders.",
    )

    def entry(self) -> Entry:
        ship_to = self.ship_to
        address = Address("delivery", **ship_to.model_dump()) if ship_to else None
        return Entry(address, check_duplicates=not self.confirm_duplicate)


class PaymentIn(In):
    method: Literal["card"] = "card"
    card_token: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,80}$")]
    amount: Amount | None = Field(default=None, description="Default: what is due now.")


class FulfilmentIn(In):
    date_: BusinessDate | None = Field(default=None, alias="date", description="Default: today.")


class ShipIn(FulfilmentIn):
    tracking_number: Tracking


class OccurrenceOut(BaseModel):
    seq: int
    event_id: int
    item_id: str
    quantity: int
    price: str
    ship_date: date
    status: str
    child_sales_id: str | None


class ContinuityTermsOut(BaseModel):
    """What a continuity line was sold under."""

    program_id: str
    start_date: date
    start_event: int
    bill_up_front: bool
    payment_schedule_id: str | None
    billing_mode: str


class ContinuityOut(ContinuityTermsOut):
    schedule: list[OccurrenceOut]


class LineItemOut(BaseModel):
    """What an order line is for (each subclass adds the rest)."""

    line_no: int
    item_id: str
    quantity: int


class LineOut(LineItemOut):
    unit_price: str
    amount: str = Field(description="The goods (a continuity line: of every shipment it will make).")
    charge: str = Field(description="Shipping charges.")
    tax: str = Field(description="Tax of the goods and the charges, each rounded half-up per line.")
    total: str = Field(description="Goods and charges, plus the tax when prices are net.")
    status: str
    continuity: ContinuityOut | None


class InstallmentOut(BaseModel):
    line_no: int
    seq: int
    due_date: date
    amount: str
    status: str
    decline_code: str | None = Field(
        description="A declined installment's last decline: insufficient_funds, issuer_unavailable, generic "
        "(soft); lost_card, stolen_card, invalid_account, fraud, expired_card (hard)."
    )
    decline_class: str | None = Field(description="hard (never retried: a new card is needed) or soft.")
    next_retry: date | None = Field(description="The day process-payments tries it again; null: never.")


class PaymentOut(BaseModel):
    payment_id: int
    method: str
    card: str = Field(description="Brand and last 4 digits only.")
    amount: str
    status: str
    reason: str


class SalesOrderOut(BaseModel):
    sales_id: str
    account: str
    name: str
    order_date: date
    status: str
    standing: str = Field(
        description="What the order stands as for an agent: `cancelled` once every continuity "
        "line is cancelled, `paused` while one is paused (status stays open until close-orders); "
        "else the status."
    )
    hold_reason: str = Field(description="The hold's note (while on hold).")
    hold_code: str = Field(description="The hold code while on hold (see /hold-codes), else empty.")
    currency: str
    parent_sales_id: str | None
    is_continuity_parent: bool
    amount_due_now: str
    prices_include_tax: bool
    goods: str
    charges: str
    tax: str = Field(description="The sum of the lines' tax.")
    total: str
    ship_to: ShipToOut | None = Field(description="Where the order ships (a child order: its parent's address).")
    lines: list[LineOut]
    installments: list[InstallmentOut]
    payments: list[PaymentOut]


class ScheduledOccurrenceOut(OccurrenceOut):
    currency: str
    child_status: str | None = Field(description="Status of the child order, when there is one.")


class ContinuityLineOut(ContinuityTermsOut, LineItemOut):  # pydantic orders the fields: LineItemOut's, the terms
    schedule: list[ScheduledOccurrenceOut]


class ContinuityOrderOut(BaseModel):
    sales_id: str
    account: str
    name: str
    status: str
    hold_reason: str = Field(description="The hold's note (while on hold).")
    hold_code: str = Field(description="The hold code while on hold (see /hold-codes), else empty.")
    currency: str
    lines: list[ContinuityLineOut]
    installments: list[InstallmentOut]


# -- setup ----------------------------------------------------------------------------------------
class ProductFields(In):
    name: Name
    price: Amount
    currency: Currency = "EUR"
    continuity_program_id: Id | None = Field(default=None, description="Makes the item a parent (continuity) item.")


class ProductIn(ProductFields):
    item_id: Id


class ProductOut(BaseModel):
    item_id: str
    name: str
    price: str
    currency: str
    continuity_program_id: str | None


class EventIn(In):
    event_id: StrictInt = Field(ge=1, le=100, description="1, 2, 3 … without gaps.")
    item_id: Id
    quantity: StrictInt = Field(default=1, ge=1, le=9999)
    price: Amount | None = Field(default=None, description="Overrides the item's price.")
    currency: Currency | None = Field(
        default=None, description="Of the price; default (and the only one accepted): the item's currency."
    )
    times_to_repeat: StrictInt = Field(default=1, ge=1, le=600, description="Total shipments of this event.")
    days_from_last_event: StrictInt | None = Field(
        default=None, ge=1, le=3660, description="Days from the previous shipment (default 30)."
    )
    interval: IntervalText | None = Field(default=None, description="Instead of days_from_last_event.")
    start_date: BusinessDate | None = None
    action: Literal["normal", "skip", "end"] = "normal"

    @model_validator(mode="after")
    def _one_interval(self) -> EventIn:
        if self.days_from_last_event is not None and self.interval is not None:
            raise ValueError("give days_from_last_event or interval, not both")
        return self


class ProgramFields(In):
    description: Text200 = ""
    order_start: Literal["first_event", "current_event"] = "first_event"
    bill_up_front: StrictBool = False
    payment_schedule_id: Id | None = None
    prompt_for_start_date: StrictBool = True
    prompt_for_payment_schedule: StrictBool = False
    days_after_order: StrictInt = Field(default=0, ge=0, le=3660)
    consolidate_past_orders: StrictBool = False
    active: StrictBool = True
    return_action: Literal["continue", "replace", "cancel_remaining"] = Field(
        default="continue",
        description="What a return of a child order does to the schedule: continue; replace (the same goods "
        "shipped again as a new child order at no charge); cancel_remaining (the rest of the line cancelled).",
    )
    upcoming_charge_notice_days: StrictInt | None = Field(
        default=None,
        ge=0,
        le=365,
        description="Days ahead of a charge that the customer is told of it; null: the parameters' days.",
    )
    events: list[EventIn] = Field(min_length=1, max_length=100)


class ProgramIn(ProgramFields):
    program_id: Id


class EventOut(BaseModel):
    event_id: int
    item_id: str
    quantity: int
    price: str | None
    currency: str | None
    times_to_repeat: int
    interval: str
    start_date: date | None
    action: str


class ProgramOut(BaseModel):
    program_id: str
    description: str
    order_start: str
    bill_up_front: bool
    payment_schedule_id: str | None
    prompt_for_start_date: bool
    prompt_for_payment_schedule: bool
    days_after_order: int
    consolidate_past_orders: bool
    active: bool
    current_event: int | None
    return_action: str
    upcoming_charge_notice_days: int | None
    events: list[EventOut]


class PaymentScheduleFields(In):
    description: Text200 = ""
    number_of_payments: StrictInt = Field(ge=1, le=120)
    interval: IntervalText = "1 month"
    allocation: Literal["total"] = "total"


class PaymentScheduleIn(PaymentScheduleFields):
    payment_schedule_id: Id


class PaymentScheduleOut(BaseModel):
    payment_schedule_id: str
    description: str
    number_of_payments: int
    interval: str
    allocation: str


_RETRY_DAYS = "Days after a soft decline's first decline that it is retried, increasing (hard declines: never)."
_RETRY_WINDOW = "No retry later than this many days after the first decline."
_BUDGET = "Retries of one card (all of its orders) allowed in card_retry_budget_days."


class ParametersIn(In):
    """PUT: the whole document, every parameter required (PATCH changes only what it names)."""

    repeat_threshold: StrictInt = Field(ge=1, le=600)
    delivery_lead_days: StrictInt = Field(ge=0, le=365)
    max_child_orders_per_run: StrictInt = Field(ge=0, le=1_000_000, description="0 = no limit.")
    authorize_child_orders: StrictBool
    reauthorization_limit: StrictInt = Field(ge=1, le=100)
    upcoming_charge_notice_days: StrictInt = Field(ge=0, le=365)
    card_expiry_notice_days: StrictInt = Field(
        ge=0,
        le=365,
        description="Days ahead of a child order on an expired card that the customer is told to update it.",
    )
    prices_include_tax: StrictBool = Field(
        description="Prices (items, events, shipping charges) include tax (gross); false: net, tax added."
    )
    retry_days: list[StrictInt] = Field(max_length=10, description=_RETRY_DAYS)
    retry_window_days: StrictInt = Field(ge=1, le=365, description=_RETRY_WINDOW)
    card_retry_budget: StrictInt = Field(ge=0, le=1000, description=_BUDGET)
    card_retry_budget_days: StrictInt = Field(ge=1, le=365)


def _unnamed(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # left out = unchanged; there is no default to show, and null is refused


def _may_leave_out(**constraints: Any) -> Any:
    """A PATCH field: optional, but never null (the None default only marks it as not sent)."""
    return Field(default=None, json_schema_extra=_unnamed, **constraints)


class ParametersPatch(In):
    """PATCH: only the parameters named change; the others keep their values."""

    repeat_threshold: StrictInt = _may_leave_out(ge=1, le=600)
    delivery_lead_days: StrictInt = _may_leave_out(ge=0, le=365)
    max_child_orders_per_run: StrictInt = _may_leave_out(ge=0, le=1_000_000, description="0 = no limit.")
    authorize_child_orders: StrictBool = _may_leave_out()
    reauthorization_limit: StrictInt = _may_leave_out(ge=1, le=100)
    upcoming_charge_notice_days: StrictInt = _may_leave_out(ge=0, le=365)
    card_expiry_notice_days: StrictInt = _may_leave_out(ge=0, le=365)
    prices_include_tax: StrictBool = _may_leave_out()
    retry_days: list[StrictInt] = _may_leave_out(max_length=10, description=_RETRY_DAYS)
    retry_window_days: StrictInt = _may_leave_out(ge=1, le=365, description=_RETRY_WINDOW)
    card_retry_budget: StrictInt = _may_leave_out(ge=0, le=1000, description=_BUDGET)
    card_retry_budget_days: StrictInt = _may_leave_out(ge=1, le=365)


class ParametersOut(BaseModel):
    prices_include_tax: bool
    repeat_threshold: int
    delivery_lead_days: int
    max_child_orders_per_run: int
    authorize_child_orders: bool
    reauthorization_limit: int
    upcoming_charge_notice_days: int
    card_expiry_notice_days: int
    retry_days: list[int]
    retry_window_days: int
    card_retry_budget: int
    card_retry_budget_days: int


# -- jobs -----------------------------------------------------------------------------------------
class JobIn(In):
    as_of: BusinessDate | None = Field(
        default=None,
        description=(
            "Business date of the run; default today. At most CONTINUITY_MAX_AS_OF_DAYS (default 7) days after "
            "today, else 422 as_of_out_of_range."
        ),
    )
    item_id: Id | None = Field(default=None, description="Only this continuity (parent) item (it must exist).")
    sales_id: Id | None = Field(default=None, description="Only this parent sales order (it must exist).")
    dry_run: StrictBool = Field(
        default=False, description="continuity-update, tax-rate-change: list the changes, write nothing."
    )


class JobRunOut(BaseModel):
    run_id: int
    name: str
    as_of: date
    filters: dict[str, Any]
    counts: dict[str, int]
    status: str = Field(
        description="running, succeeded, failed or abandoned (left running by a worker that "
        "died: no heartbeat for CONTINUITY_JOB_STALE_MINUTES; a later run finishes "
        "its work)."
    )
    error: str
    started_at: Instant
    finished_at: Instant | None
    heartbeat_at: Instant | None = Field(default=None, description="Last sign of life while it ran.")
    details: list[dict[str, Any]] | None = None


# -- users ----------------------------------------------------------------------------------------
class UserIn(In):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")]
    role: Literal["agent", "warehouse", "manager", "admin"]


class UserOut(BaseModel):
    name: str
    role: str
    disabled: bool = Field(False, description="A disabled user has no web login and no API token.")
    has_token: bool = Field(True, description="False once the API token is revoked.")


class RevokeTokenIn(In):
    new_token: bool = Field(False, description="Issue a new token in the answer (shown this once).")


class RevokedTokenOut(UserOut):
    token: str | None = Field(None, description="The new bearer token when one was asked for; only its hash is stored.")


class NewUserOut(UserOut):
    token: str = Field(description="The bearer token, shown this once; only its hash is stored.")
