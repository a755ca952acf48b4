"""Bodies and answers of the hold operations (/hold-codes, /sales-orders/{sales_id}/hold, /clear-hold)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from continuity.entrypoints.api.schemas import In, Name, _text

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", examples=["fraud_review"])]
Note = Annotated[str, _text(500, 1)]


class HoldCodeIn(In):
    code: Code
    description: Name


class HoldCodeOut(BaseModel):
    code: str
    description: str
    kind: str = Field(description="`manual`: put on and cleared by hand; `payment`: by the payments.")


class HoldIn(In):
    code: Code
    note: Note = Field(description="Why (kept in the audit trail).")


class ClearHoldIn(In):
    note: Note = Field(description="Why (kept in the audit trail).")


class HoldOut(BaseModel):
    sales_id: str
    status: str
    hold_code: str
    note: str
    cleared_children: list[str] = Field(description="Child orders whose hold was cleared with the parent's.")


# -- the payment review ---------------------------------------------------------------------------------
Reason = Annotated[str, _text(500, 1)]


class ReviewItemOut(BaseModel):
    kind: str = Field(description="`retries_exhausted`, `card_expiring` or `outcome_unknown`.")
    sales_id: str
    line_no: int
    seq: int | None = Field(description="The installment (none for an expiring card: it is about the line).")
    account: str
    name: str
    due_date: date = Field(description="The installment's due date, or the next shipment's day.")
    amount: str | None
    currency: str | None
    card: str
    attempts: int
    last_reason: str
    expiry: str | None


class ActionOut(BaseModel):
    sales_id: str
    line_no: int
    seq: int
    action: str = Field(description="retried, looked_up, card_changed, waived or paid_manually.")
    status: str = Field(description="The installment's status after it.")
    outcome: str = Field(description="The gateway's answer (approved, declined, unknown); empty when no call.")
    reason: str


class ReviewChangeCardIn(In):
    card_number: Annotated[str | None, Field(pattern=r"^[0-9 ]{12,23}$", repr=False)] = None
    expiry: Annotated[str | None, Field(pattern=r"^[0-9]{2}/[0-9]{2}$", examples=["12/30"])] = None
    payment_method: Annotated[str | None, Field(pattern=r"^pm_[A-Za-z0-9_]{1,100}$")] = None

    @model_validator(mode="after")
    def _one_kind(self) -> ReviewChangeCardIn:
        card = self.card_number is not None and self.expiry is not None
        if (card and self.payment_method is None) or (self.payment_method and self.card_number is self.expiry is None):
            return self
        raise ValueError("give card_number with expiry, or payment_method under stripe")


class WaiveIn(In):
    reason: Reason


class SettleIn(In):
    method: Literal["bank_transfer", "cheque", "cash", "other"]
    reference: Reason


class ReviewCancelIn(In):
    reason: Reason


class ReviewCancelOut(BaseModel):
    sales_id: str
    applied: bool
