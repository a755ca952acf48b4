"""Bodies of the servicing operations under /continuity-orders/{sales_id} and of the history views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator, with_config
from pydantic.config import JsonDict

from continuity.entrypoints.api.schemas import BusinessDate, Id, In, _text
from continuity.services.projection import ProjectedShipment

Seq = Annotated[StrictInt, Field(ge=1, le=100000, description="The occurrence's sequence number.")]
Reason = Annotated[str, _text(500)]


class ChangeIn(In):
    preview: StrictBool = Field(default=False, description="Return before/after without writing anything.")
    reason: Reason = Field(default="", description="Why (kept in the audit trail).")
    line_no: StrictInt | None = Field(default=None, ge=1, le=50, description="Default: the first continuity line.")


class SkipIn(ChangeIn):
    seq: Seq


class RescheduleIn(ChangeIn):
    seq: Seq
    date_: BusinessDate | None = Field(default=None, alias="date", description="The new ship date.")
    days: StrictInt | None = Field(default=None, ge=-3650, le=3650, description="Or: move by this many days.")
    following: StrictBool = Field(default=False, description="Move the later occurrences too.")

    @model_validator(mode="after")
    def _one_of(self) -> RescheduleIn:
        if (self.date_ is None) == (self.days is None):
            raise ValueError("give exactly one of date and days")
        return self


class SubstituteIn(ChangeIn):
    seq: Seq
    item_id: Id


class ChangeCardIn(ChangeIn):
    card_number: Annotated[
        str | None,
        Field(
            pattern=r"^[0-9 ]{12,23}$",
            repr=False,
            description="Test gateway: sent to the gateway; only the token is kept.",
        ),
    ] = None
    expiry: Annotated[str | None, Field(pattern=r"^[0-9]{2}/[0-9]{2}$", examples=["12/30"])] = None
    payment_method: Annotated[
        str | None,
        Field(
            pattern=r"^pm_[A-Za-z0-9_]{1,100}$",
            description="CONTINUITY_GATEWAY=stripe: the PaymentMethod id (pm_…) of the card entered at Stripe.",
        ),
    ] = None

    @model_validator(mode="after")
    def _one_kind(self) -> ChangeCardIn:
        if self.payment_method is not None and (self.card_number is not None or self.expiry is not None):
            raise ValueError("give either payment_method or card_number with expiry, not both")
        if self.payment_method is None and (self.card_number is None or self.expiry is None):
            raise ValueError("card_number and expiry are required (or payment_method under stripe)")
        return self


class PauseIn(ChangeIn):
    from_: BusinessDate | None = Field(default=None, alias="from", description="First paused day (default: today).")


class ResumeIn(ChangeIn):
    on: BusinessDate = Field(description="Resume day: pending occurrences move by the pause's length.")


class CancelIn(ChangeIn):
    from_: BusinessDate | None = Field(
        default=None, alias="from", description="Cancel what ships from this day (default: today)."
    )


def _dates(*names: str) -> ConfigDict:
    """For a service's TypedDict: the OpenAPI document types these ISO date strings as dates."""

    def mark(schema: JsonDict) -> None:
        properties = schema["properties"]
        assert isinstance(properties, dict)
        for name in names:
            text = properties[name]
            assert isinstance(text, dict)
            properties[name] = {"type": "string", "format": "date", "title": text["title"]}

    return ConfigDict(json_schema_extra=mark)


# The service's ProjectedShipment under its API name, field for field.
@with_config(_dates("ship_date"))
class ShipmentOut(ProjectedShipment):
    pass


class ChargeOut(BaseModel):
    due_date: date
    amount: str
    currency: str
    for_: str = Field(alias="for", description="What the charge is for, in English.")
    for_code: str = Field(description="What the charge is for: child_order, installment, shipment or shipments.")
    for_params: dict[str, Any] = Field(
        description="The code's parameters: sales_id (child_order); seq and of (installment); seq and item_id "
        "(shipment); seqs and item_ids (shipments)."
    )
    line_no: int


class ProjectionLineOut(BaseModel):
    line_no: int
    status: str = Field(description="open, paused (an open pause, also before its first day), closed, …")
    billing_mode: str
    paused_from: date | None = Field(default=None, description="The open pause's first day.")


class ProjectionOut(BaseModel):
    sales_id: str
    status: str
    currency: str
    as_of: date
    lines: list[ProjectionLineOut]
    shipments: list[ShipmentOut]
    charges: list[ChargeOut]


class VoidedOut(BaseModel):
    line_no: int
    seq: int
    amount: str


class ChangeOut(BaseModel):
    sales_id: str
    change: str
    applied: bool
    before: ProjectionOut
    after: ProjectionOut
    refund: str | None = Field(description="Refunded (or being refunded) to the card, when cancelling.")
    voided: list[VoidedOut] = Field(
        default_factory=list,
        description="Installments authorized and not captured whose authorization a cancel releases at the gateway.",
    )
    program_before: str = Field(
        description="What the order's continuity lines cost in all before the change (skipped and cancelled "
        "shipments cost nothing); the net money change is program_after − program_before."
    )
    program_after: str = Field(description="… and after the change.")


class FieldChangeOut(BaseModel):
    entity: str = Field(description="occurrence (a shipment), installment, line, order, payment, program, ...")
    entity_key: str
    line_no: int | None
    seq: int | None = Field(description="The shipment's or installment's number.")
    field: str = Field(description="status, item_id, ship_date, price, amount, card (brand and last 4), ...")
    before: Any = Field(description="None when the entity was created.")
    after: Any = Field(description="None when the entity was removed.")


class HistoryEntryOut(BaseModel):
    """One change: ``before``/``after`` are the first entity's values, ``changes`` every changed field."""

    occurred_at: datetime
    actor: str
    actor_kind: str
    entity: str
    entity_key: str
    action: str = Field(description="entered, skip, reschedule, substitute, change_card, pause, resume, cancel, ...")
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    source: str
    params: dict[str, Any] = Field(description="What the action needs to be worded: seq, cancel_from, order, ...")
    changes: list[FieldChangeOut]
    currency: str | None = Field(description="Of the amounts and prices in changes.")


class ExplanationOut(BaseModel):
    sales_id: str
    line_no: int
    seq: int
    status: str
    ship_date: date
    code: str = Field(
        description="start, interval, month_end, month_day, rescheduled, shifted, paused, pause_open, skipped, "
        "cancelled or planned."
    )
    params: dict[str, Any]
    text: str = Field(description="The explanation in English.")
