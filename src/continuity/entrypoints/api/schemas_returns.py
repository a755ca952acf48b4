"""Request and response bodies of returns: the service's views under their API names."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from continuity.entrypoints.api.schemas import In, Text200
from continuity.services.returns import CreditNoteView, ReasonView, ReturnResult

ReasonCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,20}$", examples=["DAMAGED"])]


class ReturnIn(In):
    line_no: StrictInt = Field(ge=1, le=10_000, description="The child order's line returned.")
    quantity: StrictInt = Field(ge=1, le=10_000, description="How many of it came back.")
    reason_code: ReasonCode = Field(description="A return reason code (GET /return-reasons).")
    note: Text200 = ""


class ReturnReasonIn(In):
    description: Text200 = Field(min_length=1)
    active: StrictBool = True


# The service's views under their API names, field for field.
class ReturnOut(ReturnResult):
    pass


class CreditNoteOut(CreditNoteView):
    pass


class ReturnReasonOut(ReasonView):
    pass
