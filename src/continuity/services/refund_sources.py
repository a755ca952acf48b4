"""Which captures a refund gives money back from: a gateway that refunds per charge (Stripe) needs them."""

from __future__ import annotations


def captures_of_line(uow, sales_id: str, line_no: int) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The gateway references of the line's approved captures (the order's, when the line has none), newest
    first: a cancel's refund returns the money taken last first."""
    approved = [
        a
        for a in uow.orders.attempts(sales_id)
        if a.operation == "capture" and a.status == "approved" and a.gateway_reference
    ]
    mine = [a for a in approved if a.line_no == line_no] or approved
    return tuple(dict.fromkeys(a.gateway_reference for a in reversed(mine)))
