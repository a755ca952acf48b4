"""Order holds: every hold names a hold code (set-up data) and may carry a note.

Two kinds of code. A *manual* code (fraud review, address check, customer request, payment review, and
whatever a manager adds) is put on and cleared by an agent or a manager. A *payment* code is put on by a
payment outcome (a submit declined or unanswered, a child's own charge declined, an installment of its
parent declined) and cleared by the payment that settles it (submit again, process- or reconcile-payments),
never by hand. The codes built in here are always known, whether or not the hold_codes table lists them
(it lists them from migration 0021 on, and any code a manager adds)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from continuity.domain.errors import RuleViolation, ValidationFailed


class HoldKind(StrEnum):
    MANUAL = "manual"
    PAYMENT = "payment"


@dataclass(frozen=True)
class HoldCode:
    code: str
    description: str
    kind: HoldKind = HoldKind.MANUAL


# the payment codes (put on and cleared by payments)
PAYMENT_DECLINED = "payment_declined"  # a submit authorization was declined
PAYMENT_UNANSWERED = "payment_unanswered"  # a submit authorization got no answer (reconcile-payments)
CHARGE_DECLINED = "charge_declined"  # a child order's own charge is declined or unresolved
PARENT_PAYMENT = "parent_payment"  # an installment of the child's parent is declined or unresolved
# the manual codes set up out of the box
FRAUD_REVIEW = "fraud_review"
ADDRESS_CHECK = "address_check"
CUSTOMER_REQUEST = "customer_request"
PAYMENT_REVIEW = "payment_review"

BUILT_IN: tuple[HoldCode, ...] = (
    HoldCode(FRAUD_REVIEW, "Fraud review"),
    HoldCode(ADDRESS_CHECK, "Address check"),
    HoldCode(CUSTOMER_REQUEST, "Customer request"),
    HoldCode(PAYMENT_REVIEW, "Payment review"),
    HoldCode(PAYMENT_DECLINED, "Card payment declined at submit", HoldKind.PAYMENT),
    HoldCode(PAYMENT_UNANSWERED, "Card payment unanswered at submit", HoldKind.PAYMENT),
    HoldCode(CHARGE_DECLINED, "Charge of this shipment declined or unresolved", HoldKind.PAYMENT),
    HoldCode(PARENT_PAYMENT, "Installment of the parent order declined or unresolved", HoldKind.PAYMENT),
)
#: the codes a payment outcome puts on a child order, and that process- and reconcile-payments clear
CHILD_PAYMENT_CODES = (CHARGE_DECLINED, PARENT_PAYMENT)

_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")


def checked_code(code: str) -> str:
    """A new hold code: 2-40 lower-case letters, digits and underscores, starting with a letter."""
    code = code.strip()
    if not _CODE.fullmatch(code):
        raise ValidationFailed(
            f"a hold code is 2-40 lower-case letters, digits or _ (starting with a letter): {code!r}",
            "hold_code_invalid",
            {"field": "code"},
        )
    return code


def check_manual(code: HoldCode) -> None:
    """Only a manual code is put on or cleared by hand: a payment hold is cleared by the payment."""
    if code.kind != HoldKind.MANUAL:
        raise RuleViolation(
            f"hold code {code.code} is put on and cleared by payments, not by hand",
            "hold_code_not_manual",
            {"code": code.code},
        )
