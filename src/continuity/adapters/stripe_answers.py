"""Stripe's answers as ours: PaymentIntent statuses and card errors → GatewayResult; a PaymentMethod → Card."""

from __future__ import annotations

from datetime import date
from typing import Any

import stripe

from continuity.domain.card import Card, Expiry
from continuity.domain.dunning import DeclineCode
from continuity.services.ports import GatewayOutcome, GatewayResult, never_received

AUTHENTICATION_REQUIRED = "authentication_required: the customer must confirm this card"

_D = DeclineCode
#: Stripe's decline codes (https://docs.stripe.com/declines/codes) in our classes; any other: generic.
DECLINE_CODES: dict[str, DeclineCode] = {
    "insufficient_funds": _D.INSUFFICIENT_FUNDS,
    "withdrawal_count_limit_exceeded": _D.INSUFFICIENT_FUNDS,
    "card_velocity_exceeded": _D.INSUFFICIENT_FUNDS,
    "issuer_not_available": _D.ISSUER_UNAVAILABLE,
    "processing_error": _D.ISSUER_UNAVAILABLE,
    "try_again_later": _D.ISSUER_UNAVAILABLE,
    "reenter_transaction": _D.ISSUER_UNAVAILABLE,
    "lost_card": _D.LOST_CARD,
    "stolen_card": _D.STOLEN_CARD,
    "expired_card": _D.EXPIRED_CARD,
    "fraudulent": _D.FRAUD,
    "pickup_card": _D.FRAUD,
    "merchant_blacklist": _D.FRAUD,
    "security_violation": _D.FRAUD,
    "invalid_account": _D.INVALID_ACCOUNT,
    "incorrect_number": _D.INVALID_ACCOUNT,
    "invalid_number": _D.INVALID_ACCOUNT,
    "new_account_information_available": _D.INVALID_ACCOUNT,
    "card_not_supported": _D.INVALID_ACCOUNT,
    "restricted_card": _D.INVALID_ACCOUNT,
    "stop_payment_order": _D.INVALID_ACCOUNT,
    "revocation_of_authorization": _D.INVALID_ACCOUNT,
    "revocation_of_all_authorizations": _D.INVALID_ACCOUNT,
    "transaction_not_allowed": _D.INVALID_ACCOUNT,
}


def decline_code_of(code: str | None, decline_code: str | None) -> DeclineCode:
    """Our code for a Stripe decline: its decline_code, else its error code (expired_card comes as the
    error code), else generic."""
    return DECLINE_CODES.get(decline_code or "") or DECLINE_CODES.get(code or "") or _D.GENERIC


def intent_result(intent: Any, mode: str = "") -> GatewayResult:
    """A PaymentIntent's status as our outcome. ``mode="capture"``: only a captured intent is approved (one
    still waiting for capture was not captured under this key)."""
    status = intent.status
    if status == "succeeded" or (status == "requires_capture" and mode != "capture"):
        return GatewayResult(GatewayOutcome.APPROVED, intent.id)
    if status == "requires_capture":
        return never_received()
    if status == "processing":
        return GatewayResult(GatewayOutcome.UNKNOWN, intent.id, "processing at Stripe")
    if status == "requires_action":
        return GatewayResult(GatewayOutcome.DECLINED, intent.id, AUTHENTICATION_REQUIRED)
    error = getattr(intent, "last_payment_error", None)
    if status == "requires_payment_method" and error is not None:
        code, decline = getattr(error, "code", None), getattr(error, "decline_code", None)
        return GatewayResult(
            GatewayOutcome.DECLINED,
            intent.id,
            _reason(code, decline, getattr(error, "message", None)),
            decline_code=decline_code_of(code, decline),
        )
    return GatewayResult(GatewayOutcome.DECLINED, intent.id, f"the payment intent is {status}")


def declined(exc: stripe.CardError) -> GatewayResult:
    """A card error: a decline, its decline_code kept in the reason; authentication_required has its own."""
    error = getattr(exc, "error", None)
    code = getattr(exc, "code", None) or getattr(error, "code", None)
    if code == "authentication_required" or getattr(error, "decline_code", None) == "authentication_required":
        return GatewayResult(GatewayOutcome.DECLINED, _intent_id(error), AUTHENTICATION_REQUIRED)
    decline = getattr(error, "decline_code", None)
    return GatewayResult(
        GatewayOutcome.DECLINED,
        _intent_id(error),
        _reason(code, decline, exc.user_message),
        decline_code=decline_code_of(code, decline),
    )


def no_answer() -> GatewayResult:
    return GatewayResult(GatewayOutcome.UNKNOWN, "", "no answer from the gateway")


def card_of(pm: Any, holder: str, today: date) -> Card:
    """Only references leave Stripe: the PaymentMethod id, brand, last 4 digits and expiry it reports."""
    card = pm.card
    expiry = Expiry(int(card.exp_month), int(card.exp_year))
    saved = Card(
        pm.id,
        str(card.brand),
        str(card.last4),
        expiry,
        getattr(getattr(pm, "billing_details", None), "name", None) or holder,
    )
    saved.ensure_usable_on(today)
    return saved


def _reason(code: str | None, decline_code: str | None, message: str | None) -> str:
    """e.g. 'card_declined (insufficient_funds): Your card has insufficient funds.'"""
    head = (code or "card_declined") + (f" ({decline_code})" if decline_code else "")
    return f"{head}: {message}" if message else head


def _intent_id(error: Any) -> str:
    intent = getattr(error, "payment_intent", None)
    return str(getattr(intent, "id", intent) or "")
