"""The ports the services depend on; adapters implement them, bootstrap wires them."""

from __future__ import annotations

from collections.abc import Sequence
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


class GatewayBusy(Exception):
    """The gateway turned the request away unprocessed ("too many requests", HTTP 429): send it again
    later under the same key. Never a decline. ``retry_after``: the seconds the gateway asked for."""

    def __init__(self, message: str = "too many requests", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class GatewayCustomer:
    """Whom a card is saved for: our account, and the references of its cards already saved."""

    account: str
    name: str
    email: str = ""
    cards: tuple[str, ...] = ()


@dataclass(frozen=True)
class CardSetup:
    """What a browser needs to enter a card straight at the gateway (Stripe: a SetupIntent)."""

    client_secret: str
    publishable_key: str
    script_url: str


class PaymentGateway(Protocol):
    """Every call carries an idempotency key: the same key never charges twice. A call may raise
    GatewayBusy (nothing happened: ask again, same key); any other exception means no answer."""

    takes_card_numbers: bool  # False: the card is entered at the gateway, we register its reference

    def tokenize(self, card_number: str, expiry: Expiry, holder: str, today: date) -> Card: ...

    def save_payment_method(self, payment_method: str, customer: GatewayCustomer, today: date) -> Card:
        """Keep a card entered at the gateway (a Stripe PaymentMethod id) for this customer's off-session
        charges; the Card's token is that reference."""
        ...

    def card_setup(self, customer: GatewayCustomer) -> CardSetup: ...

    def authorize(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult: ...

    def capture(self, token: str, amount: Money, idempotency_key: str, authorization: str = "") -> GatewayResult:
        """Settle ``amount`` of the authorization whose reference is ``authorization`` (on the card that
        made it); with no authorization, a sale: authorize and capture at once."""
        ...

    def void(self, token: str, reference: str, idempotency_key: str) -> GatewayResult: ...

    def refund(self, token: str, amount: Money, idempotency_key: str, captures: Sequence[str] = ()) -> GatewayResult:
        """Send ``amount`` back to the card; ``captures``: the references of the captures whose money it
        returns, newest first (a gateway that refunds per charge draws on them in that order)."""
        ...

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
