"""The built-in test connector: deterministic test cards, a ledger of every call.

4111111111111111 approves, 4000000000000002 declines, 4000000000000119 times out (the
charge is made but no answer comes back: UNKNOWN until looked up). Any other valid number
approves. Tokens carry the test behaviour, never the number; the ledger keeps one row per
idempotency key, so a repeated key returns the first result and never charges again.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from continuity.adapters.orm import gateway_ledger
from continuity.domain.card import Card, Expiry, brand_of, validate_card_number
from continuity.domain.errors import CardExpired, ValidationFailed
from continuity.domain.money import Money
from continuity.services.ports import CardSetup, GatewayCustomer, GatewayOutcome, GatewayResult

BEHAVIOUR = {
    "4111111111111111": "approve",
    "4000000000000002": "decline",
    "4000000000000119": "timeout",
}


class TestConnector:
    __test__ = False  # not a pytest class
    takes_card_numbers = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_payment_method(self, payment_method: str, customer: GatewayCustomer, today: date) -> Card:
        raise ValidationFailed("the test gateway takes the card number itself: send card_number and expiry, "
                               "not payment_method", "payment_method_not_accepted")

    def card_setup(self, customer: GatewayCustomer) -> CardSetup:
        raise ValidationFailed("the test gateway takes the card number itself", "payment_method_not_accepted")

    def tokenize(self, card_number: str, expiry: Expiry, holder: str, today: date) -> Card:
        digits = validate_card_number(card_number)
        if expiry.is_expired_on(today):
            raise CardExpired(f"the card ending {digits[-4:]} expired {expiry}")
        behaviour = BEHAVIOUR.get(digits, "approve")
        token = f"tok_test_{behaviour}_{secrets.token_hex(8)}"
        return Card(token, brand_of(digits), digits[-4:], expiry, holder)

    def authorize(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult:
        return self._call("authorize", token, amount, idempotency_key)

    def capture(self, token: str, amount: Money, idempotency_key: str, authorization: str = "") -> GatewayResult:
        return self._call("capture", token, amount, idempotency_key, authorization)

    def void(self, token: str, reference: str, idempotency_key: str) -> GatewayResult:
        """Release what is left of the authorization ``reference``."""
        return self._call("void", token, Money.zero("EUR"), idempotency_key, reference)

    def refund(self, token: str, amount: Money, idempotency_key: str, captures: Sequence[str] = ()) -> GatewayResult:
        return self._call("refund", token, amount, idempotency_key)

    def lookup(self, idempotency_key: str) -> GatewayResult:
        row = self._recorded(idempotency_key)
        if row is None:
            return GatewayResult(GatewayOutcome.DECLINED, "", "no such transaction at the gateway")
        return GatewayResult(GatewayOutcome(row.outcome), row.reference, row.reason)

    def _call(self, operation: str, token: str, amount: Money, key: str, authorization: str = "") -> GatewayResult:
        row = self._recorded(key)
        if row is None:
            row = self._record(operation, token, amount, key, authorization)
        if _behaviour(token) == "timeout" and operation in ("authorize", "capture"):
            return GatewayResult(GatewayOutcome.UNKNOWN, "", "the gateway did not answer in time")
        return GatewayResult(GatewayOutcome(row.outcome), row.reference, row.reason)

    def _recorded(self, key: str):  # type: ignore[no-untyped-def]
        with self.engine.connect() as conn:
            return conn.execute(select(gateway_ledger).where(gateway_ledger.c.idempotency_key == key)).first()

    def _record(self, operation: str, token: str, amount: Money, key: str,  # type: ignore[no-untyped-def]
                authorization: str):
        declined = _behaviour(token) == "decline" and operation in ("authorize", "capture") and not authorization
        refusal = self._against(authorization, operation, token, amount) if authorization else ""
        if operation == "void" and authorization and not refusal:
            amount = self._left(authorization)
        values = {
            "idempotency_key": key,
            "operation": operation,
            "card_token": token,
            "amount_minor": amount.minor,
            "currency": amount.currency,
            "outcome": (GatewayOutcome.DECLINED if declined or refusal else GatewayOutcome.APPROVED).value,
            "reference": f"gw_{secrets.token_hex(6)}",
            "reason": refusal or ("do not honour" if declined else ""),
            "authorization_reference": authorization or None,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(gateway_ledger).values(**values))
        except IntegrityError:  # the same key arrived twice at once: the first call wins, this one replays it
            row = self._recorded(key)
            if row is None:
                raise
            return row
        return self._recorded(key)


    def _against(self, reference: str, operation: str, token: str, amount: Money) -> str:
        """Why a capture or void of the authorization ``reference`` is refused ('' when it is not): it
        must be an approved authorization on this very card, and a capture no more than is left of it."""
        with self.engine.connect() as conn:
            auth = conn.execute(select(gateway_ledger).where(
                gateway_ledger.c.reference == reference, gateway_ledger.c.operation == "authorize")).first()
        if auth is None or auth.outcome != GatewayOutcome.APPROVED.value:
            return "no such authorization"
        if auth.card_token != token:
            return "the authorization belongs to another card"
        left = self._left(reference)
        if operation == "capture" and (amount.currency != auth.currency or amount.minor > left.minor):
            return f"the authorization has {left} left"
        if left.minor == 0:
            return "the authorization is already settled"
        return ""

    def _left(self, reference: str) -> Money:
        """What is left of an authorization: authorized minus approved captures and voids against it."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(gateway_ledger).where(
                (gateway_ledger.c.reference == reference) | (gateway_ledger.c.authorization_reference == reference))).all()
        auth = next(r for r in rows if r.reference == reference)
        used = sum(r.amount_minor for r in rows if r.authorization_reference == reference
                   and r.outcome == GatewayOutcome.APPROVED.value)
        return Money.from_minor(auth.amount_minor - used, auth.currency)


def _behaviour(token: str) -> str:
    parts = token.split("_")
    return parts[2] if len(parts) > 3 and parts[0] == "tok" and parts[1] == "test" else "approve"
