"""Which captures a refund gives money back from: a gateway that refunds per charge (Stripe) needs them."""

from __future__ import annotations

from continuity.domain.payments import AttemptStatus
from continuity.services.ports import UnitOfWork


def captures_of_line(uow: UnitOfWork, sales_id: str, line_no: int) -> tuple[str, ...]:
    """The gateway references of the line's approved captures (the order's, when the line has none), newest
    first: a cancel's refund returns the money taken last first."""
    approved = [
        (a.line_no, a.gateway_reference)
        for a in uow.orders.attempts(sales_id)
        if a.operation == "capture" and a.status == AttemptStatus.APPROVED and a.gateway_reference
    ]
    mine = [a for a in approved if a[0] == line_no] or approved
    return tuple(dict.fromkeys(reference for _, reference in reversed(mine)))
