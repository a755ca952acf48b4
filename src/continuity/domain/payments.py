"""Order payments, installments and payment attempts, with their statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from continuity.domain.errors import InvalidTransition
from continuity.domain.money import Money


class PaymentStatus(StrEnum):
    NOT_SUBMITTED = "not_submitted"
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    IN_FLIGHT = "in_flight"  # an installment's charge attempt is committed; the gateway's answer is not recorded yet
    UNKNOWN = "unknown"
    PAID = "paid"
    CANCELLED = "cancelled"


P = PaymentStatus
#: One table for order payments and installments. A charge moves its installment to IN_FLIGHT in the
#: transaction that commits its attempt (before the gateway call); the recorded answer moves it on.
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.NOT_SUBMITTED: frozenset({P.IN_FLIGHT, P.AUTHORIZED, P.DECLINED, P.UNKNOWN, P.PAID, P.CANCELLED}),
    P.DECLINED: frozenset({P.IN_FLIGHT, P.AUTHORIZED, P.DECLINED, P.UNKNOWN, P.PAID, P.CANCELLED}),
    P.IN_FLIGHT: frozenset({P.AUTHORIZED, P.DECLINED, P.UNKNOWN, P.PAID}),
    P.UNKNOWN: frozenset({P.AUTHORIZED, P.DECLINED, P.UNKNOWN, P.PAID, P.CANCELLED}),
    P.AUTHORIZED: frozenset({P.IN_FLIGHT, P.PAID, P.CANCELLED}),
    P.PAID: frozenset(),
    P.CANCELLED: frozenset(),
}


def check_payment_transition(current: PaymentStatus, target: PaymentStatus, entity: str = "payment") -> None:
    if target not in PAYMENT_TRANSITIONS[current]:
        raise InvalidTransition(entity, current.value, target.value)


class AttemptStatus(StrEnum):
    PENDING = "pending"  # written before the gateway call
    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"  # the gateway did not answer; resolved by reconcile-payments


@dataclass
class Payment:
    payment_id: int
    sales_id: str
    method: str
    card_token: str
    amount: Money
    status: PaymentStatus = PaymentStatus.NOT_SUBMITTED
    reason: str = ""


@dataclass
class Installment:
    sales_id: str
    line_no: int
    seq: int
    due_date: date
    amount: Money
    status: PaymentStatus = PaymentStatus.NOT_SUBMITTED


class AttemptOperation(StrEnum):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


#: The operations that charge an installment (a void or a refund never moves its status).
CHARGES = frozenset({AttemptOperation.CAPTURE, AttemptOperation.AUTHORIZE})

_A = AttemptStatus
#: An attempt is answered once: pending until the gateway's answer is recorded; unknown until a lookup
#: resolves it (a lookup without an answer leaves it unknown).
ATTEMPT_TRANSITIONS: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    _A.PENDING: frozenset({_A.APPROVED, _A.DECLINED, _A.UNKNOWN}),
    _A.UNKNOWN: frozenset({_A.APPROVED, _A.DECLINED, _A.UNKNOWN}),
    _A.APPROVED: frozenset(),
    _A.DECLINED: frozenset(),
}

#: The attempts whose outcome is not recorded yet.
UNANSWERED = frozenset({_A.PENDING, _A.UNKNOWN})


# -- the installment rules (the batch SQL renders the same ones: adapters/sql_rules.py) ----------------
#: Installments a charge (``operation``) may claim: an authorized one is captured against its
#: authorization; an authorize only claims one not submitted yet.
CLAIMABLE: dict[AttemptOperation, frozenset[PaymentStatus]] = {
    AttemptOperation.CAPTURE: frozenset({P.NOT_SUBMITTED, P.AUTHORIZED, P.DECLINED}),
    AttemptOperation.AUTHORIZE: frozenset({P.NOT_SUBMITTED}),
}

#: A charge is in flight: its attempt is committed and no answer is recorded (IN_FLIGHT), or the gateway
#: gave none (UNKNOWN). The gateway may take the attempt's amount at any moment: a change neither
#: re-shares nor cancels it.
IN_FLIGHT = frozenset({P.IN_FLIGHT, P.UNKNOWN})

#: What counts as settled when the unpaid installments re-share what a line costs.
SETTLED = frozenset({P.PAID, P.AUTHORIZED}) | IN_FLIGHT

#: Unpaid installments whose amount a change may re-share (or a cancel lower or cancel).
RESHAREABLE = frozenset({P.NOT_SUBMITTED, P.DECLINED})

#: A payment problem: a child order of such a parent (or with such a charge) is held.
PROBLEM = frozenset({P.DECLINED, P.UNKNOWN})

#: Still to be paid (shown as coming charges).
UNSETTLED = frozenset({P.NOT_SUBMITTED, P.AUTHORIZED, P.DECLINED}) | IN_FLIGHT

#: Settled for good: nothing more is charged or released.
FINAL = frozenset({P.PAID, P.CANCELLED})


def is_in_flight(status: PaymentStatus) -> bool:
    return status in IN_FLIGHT


def is_claimable(
    status: PaymentStatus, due_date: date, as_of: date, operation: AttemptOperation = AttemptOperation.CAPTURE
) -> bool:
    """An installment a charge run on ``as_of`` claims (its order and card permitting)."""
    return status in CLAIMABLE[operation] and due_date <= as_of


def next_status(operation: str, outcome: AttemptStatus) -> PaymentStatus | None:
    """The installment's (or submit payment's) status once ``operation``'s answer is ``outcome``; None
    for an operation that does not move it (a void, a refund)."""
    if operation not in CHARGES:
        return None
    if outcome == _A.APPROVED:
        return P.PAID if operation == AttemptOperation.CAPTURE else P.AUTHORIZED
    if outcome == _A.DECLINED:
        return P.DECLINED
    return P.UNKNOWN


def attempt_key(subject: str, sales_id: str, line_no: int, seq: int, operation: str, attempt_no: int) -> str:
    """The gateway idempotency key of an attempt: derived from its natural key, never random."""
    return ":".join(str(part) for part in (subject, sales_id, line_no, seq, operation, attempt_no))
