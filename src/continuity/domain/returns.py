"""Returns of shipped child orders: what may be returned, what may be refunded, and what a return does
to the parent's schedule (the program's ``return_action``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.money import Money


class ReturnAction(StrEnum):
    """What a return of a child order does to the rest of its parent's schedule."""

    CONTINUE = "continue"  # the schedule goes on as before
    #: the returned goods are shipped again: a new child order for the same event, at no charge
    REPLACE = "replace"
    CANCEL_REMAINING = "cancel_remaining"  # the parent line is cancelled from today (the cancel service)


@dataclass(frozen=True)
class ReturnReason:
    """A return reason code, set-up data (e.g. DAMAGED, WRONG_ITEM)."""

    code: str
    description: str
    active: bool = True

    def validate(self) -> None:
        if not self.code.strip() or len(self.code) > 20 or not self.code.replace("_", "").isalnum():
            raise ValidationFailed(
                f"a return reason code is 1-20 letters, digits or _: {self.code!r}",
                "return_reason_invalid",
                {"field": "code"},
            )
        if not self.description.strip():
            raise ValidationFailed(
                "a return reason needs a description", "return_reason_invalid", {"field": "description"}
            )


def check_quantity(sales_id: str, line_no: int, quantity: int, shipped: int, returned: int) -> None:
    """A return takes 1 or more of what the line shipped and was not returned before."""
    if quantity < 1:
        raise ValidationFailed(
            f"the quantity to return must be at least 1, got {quantity}",
            "return_quantity_invalid",
            {"field": "quantity", "minimum": 1},
        )
    left = shipped - returned
    if quantity > left:
        raise RuleViolation(
            f"line {line_no} of {sales_id} shipped {shipped} and {returned} came back already: "
            f"at most {left} can be returned",
            "return_quantity_exceeds_shipped",
            {"line_no": line_no, "shipped": shipped, "returned": returned, "returnable": left},
        )


def returned_share(total: Money, shipped: int, returned: int, quantity: int) -> Money:
    """What returning ``quantity`` of a line that shipped ``shipped`` (``returned`` of them back already) gives
    back: that share of the line's total as charged (goods, shipping charge and tax: LineAmounts.total).
    Each return takes the cents up to its running share, so the returns of a whole line add up to its
    total exactly, to the cent, however it is split; with no charge and no tax it is unit price × quantity."""
    upto = total.minor * (returned + quantity) // shipped
    before = total.minor * returned // shipped
    return Money.from_minor(upto - before, total.currency)


def refundable(captured: Money, refunded: Money) -> Money:
    """What may still be refunded: what was captured minus what is refunded or being refunded."""
    left = captured - refunded
    return left if left.amount > 0 else Money.zero(captured.currency)


def check_refund(sales_id: str, amount: Money, captured: Money, refunded: Money) -> None:
    """A refund never exceeds what was captured (per order, across every refund of it)."""
    left = refundable(captured, refunded)
    if left < amount:
        raise RuleViolation(
            f"a refund of {amount.amount} {amount.currency} exceeds what {sales_id} can still refund: "
            f"{left.amount} ({captured.amount} captured, {refunded.amount} refunded)",
            "refund_exceeds_captured",
            {
                "sales_id": sales_id,
                "amount": str(amount.amount),
                "refundable": str(left.amount),
                "captured": str(captured.amount),
                "refunded": str(refunded.amount),
                "currency": amount.currency,
            },
        )


def credit_note_number(value: int) -> str:
    return f"CN-{value:06d}"
