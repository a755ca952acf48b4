"""The ports the services depend on; adapters implement them, bootstrap wires them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from continuity.domain.card import Card, Expiry
from continuity.domain.money import Money


class Clock(Protocol):
    def today(self) -> date: ...

    def now(self) -> datetime: ...


class GatewayOutcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"  # no answer: may or may not have happened; look it up later


@dataclass(frozen=True)
class GatewayResult:
    outcome: GatewayOutcome
    reference: str = ""
    reason: str = ""


class PaymentGateway(Protocol):
    """Every call carries an idempotency key: the same key never charges twice."""

    def tokenize(self, card_number: str, expiry: Expiry, holder: str, today: date) -> Card: ...

    def authorize(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult: ...

    def capture(self, token: str, amount: Money, idempotency_key: str,
                authorization: str = "") -> GatewayResult:
        """Settle ``amount`` of the authorization whose reference is ``authorization`` (on the card that
        made it); with no authorization, a sale: authorize and capture at once."""
        ...

    def void(self, token: str, reference: str, idempotency_key: str) -> GatewayResult: ...

    def refund(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult: ...

    def lookup(self, idempotency_key: str) -> GatewayResult: ...


class UnitOfWork(Protocol):
    """A transaction: ``with uow_factory() as uow: ...; uow.commit()``; rolls back otherwise."""

    setup: object
    customers: object
    orders: object
    order_queries: object
    users: object
    idempotency: object

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...
