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
    UNKNOWN = "unknown"
    PAID = "paid"
    CANCELLED = "cancelled"


P = PaymentStatus
#: One table for order payments and installments.
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.NOT_SUBMITTED: frozenset({P.AUTHORIZED, P.DECLINED, P.UNKNOWN, P.PAID, P.CANCELLED}),
    P.DECLINED: frozenset({P.AUTHORIZED, P.DECLINED, P.UNKNOWN, P.PAID, P.CANCELLED}),
    P.UNKNOWN: frozenset({P.AUTHORIZED, P.DECLINED, P.PAID, P.CANCELLED}),
    P.AUTHORIZED: frozenset({P.PAID, P.CANCELLED}),
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
