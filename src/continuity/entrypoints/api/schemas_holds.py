"""Bodies and answers of the hold operations (/hold-codes, /sales-orders/{sales_id}/hold, /clear-hold)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

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
