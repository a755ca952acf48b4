"""The ports the services depend on; adapters implement them, bootstrap wires them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from continuity.domain.audit import AuditEntry
from continuity.domain.call_note import CallNote
from continuity.domain.card import Card, Expiry, LastCharge
from continuity.domain.customer import Address, Customer
from continuity.domain.dunning import DeclineEpisode
from continuity.domain.holds import HoldCode
from continuity.domain.login_throttle import Failures
from continuity.domain.money import Money
from continuity.domain.payments import AttemptStatus, Installment, Payment, PaymentStatus
from continuity.domain.program import ContinuityParameters, PaymentSchedule, Product, Program
from continuity.domain.returns import ReturnReason
from continuity.domain.sales_order import OrderStatus, SalesLine, SalesOrder
from continuity.domain.schedule import Occurrence, PlannedInstallment
from continuity.domain.servicing import Adjustment, Slot
from continuity.domain.tax import TaxRate, TaxTable
from continuity.domain.users import User


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
    #: False: a lookup found no transaction under the key; the gateway never got it (send it again, same key)
    received: bool = True
    #: a decline's stable code (domain.dunning.DeclineCode; '' : generic, soft)
    decline_code: str = ""


def never_received() -> GatewayResult:
    """A lookup's answer when the gateway has no transaction under the key (a decline: nothing happened)."""
    return GatewayResult(GatewayOutcome.DECLINED, "", "no such transaction at the gateway", received=False)


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


# -- what the repositories return (rows the services read by field) ------------------------------------
@dataclass(frozen=True)
class ScheduledOccurrence:
    """A stored occurrence of a continuity line's schedule."""

    seq: int
    event_id: int
    item_id: str
    quantity: int
    price: Money
    ship_date: date
    status: str  # an OccurrenceStatus value
    child_sales_id: str | None


@dataclass(frozen=True)
class AttemptRecord:
    """A gateway attempt as recorded (table payment_attempts, every column in table order)."""

    attempt_id: int
    idempotency_key: str
    subject: str  # "payment" (line_no 0, seq = payment_id) or "installment"
    sales_id: str
    line_no: int
    seq: int
    operation: str  # authorize, capture, void, refund
    attempt_no: int
    card_token: str
    amount_minor: int
    currency: str
    status: str  # an AttemptStatus value
    reason: str
    gateway_reference: str | None
    authorization_reference: str | None  # a capture: the authorization it settles
    as_of: date
    created_at: datetime


@dataclass(frozen=True)
class ContinuityLineRecord:
    """A continuity line as stored (table continuity_lines)."""

    sales_id: str
    line_no: int
    program_id: str
    item_id: str
    quantity: int
    planned_count: int
    start_date: date
    start_event: int
    bill_up_front: bool
    payment_schedule_id: str | None
    card_token: str | None
    status: str  # a LineStatus value


@dataclass(frozen=True)
class HeldAuthorization:
    """The approved authorization holding an installment's money."""

    card_token: str
    reference: str
    subject: str  # "installment": its own; "payment": the card authorized when the order was submitted


@dataclass(frozen=True)
class ChildOrderRecord:
    sales_id: str
    status: str  # an OrderStatus value
    created_at: datetime
    order_date: date


@dataclass(frozen=True)
class SettleableAuthorization:
    """An approved submit authorization holding no charge left to capture, with what was captured against it."""

    payment_id: int
    sales_id: str
    key: str
    card_token: str
    reference: str
    authorized_minor: int
    currency: str
    captured_minor: int
    release_status: str | None  # the latest release (void) attempt's status, None if none yet

    @property
    def left_minor(self) -> int:
        return self.authorized_minor - self.captured_minor


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    status: str  # running, completed, unstored
    response_status: int | None
    response_content_type: str | None
    response_body: str | None
    created_at: datetime


# -- the repositories of a unit of work ----------------------------------------------------------------
class SetupRepo(Protocol):
    """Parameters, payment schedules, products and programs."""

    def parameters(self) -> ContinuityParameters: ...

    def save_parameters(self, params: ContinuityParameters) -> None: ...

    def payment_schedule(self, schedule_id: str) -> PaymentSchedule: ...

    def payment_schedules(self) -> list[PaymentSchedule]: ...

    def save_payment_schedule(self, s: PaymentSchedule) -> None: ...

    def product(self, item_id: str) -> Product: ...

    def products(self) -> list[Product]: ...

    def item_ids(self) -> set[str]: ...

    def save_product(self, p: Product) -> None: ...

    def program(self, program_id: str) -> Program: ...

    def programs(self) -> list[Program]: ...

    def save_program(self, p: Program) -> None: ...

    def tax_rates(self) -> TaxTable: ...

    def save_tax_rate(self, rate: TaxRate) -> TaxRate | None: ...


class CustomerRepo(Protocol):
    """Customers (with search) and their cards."""

    def get(self, account: str) -> Customer: ...

    def any(self) -> bool: ...

    def save(self, c: Customer) -> None: ...

    def add(self, c: Customer) -> None: ...

    def update(self, c: Customer) -> None:
        """Its name, contact details, language and addresses as given (cards and orders stay)."""
        ...

    def next_account(self) -> str:
        """A new account number, never one in use."""
        ...

    def search(self, text: str, limit: int = ..., after: tuple[str, str] | None = None) -> list[Customer]: ...

    def page(self, after: tuple[str, str] | None, limit: int) -> list[Customer]: ...

    def names(self, accounts: list[str]) -> dict[str, str]: ...

    def add_note(self, note: CallNote) -> int: ...

    def notes(self, account: str) -> list[CallNote]: ...

    def notices(self, account: str) -> list[tuple[str, str, date, datetime | None]]:
        """(kind, sales_id, as_of, delivered_at) of the notices made for the customer, newest first."""
        ...

    def name_candidates(self, typed: list[str], limit: int) -> list[tuple[str, str]]:
        """(name, account) of up to ``limit`` customers, by name, whose name may match the typed words
        (every word the start of a name word or one typo from one): name_match.match decides."""
        ...

    def save_card(self, account: str, card: Card) -> None: ...

    def card(self, token: str) -> Card: ...

    def cards(self, account: str) -> list[Card]: ...

    def default_card(self, account: str) -> str | None: ...

    def removed_cards(self, account: str) -> set[str]: ...

    def set_default_card(self, account: str, token: str | None) -> None:
        """Make ``token`` the customer's only default card (None: no default)."""
        ...

    def remove_cards(self, tokens: tuple[str, ...], now: datetime) -> None:
        """Soft-remove: the rows stay (history), never offered again, no longer the default."""
        ...

    def open_orders_paying_with(self, tokens: tuple[str, ...]) -> list[str]:
        """The orders with an open continuity line charged on one of these cards."""
        ...

    def last_charges(self, account: str) -> dict[str, LastCharge]:
        """Per card token of the customer: its last answered charge attempt (authorize or capture)."""
        ...


class OrderRepo(Protocol):
    """Sales orders with their lines, schedules, installments, payments and gateway attempts."""

    def next_sales_id(self) -> str: ...

    def add(self, order: SalesOrder, now: datetime) -> None: ...

    def get(self, sales_id: str) -> SalesOrder: ...

    def save_header(self, order: SalesOrder) -> None: ...

    def set_ship_to(self, sales_id: str, address: Address | None) -> None: ...

    def lock_if_in(
        self, sales_id: str, statuses: tuple[OrderStatus, ...], move_to: OrderStatus | None = None
    ) -> bool: ...

    def save_fulfilment(self, sales_id: str, status: OrderStatus, **values: object) -> None: ...

    def set_line_amounts(self, sales_id: str, line: SalesLine) -> None: ...

    def repriceable(self, after: str | None, limit: int) -> list[str]: ...

    def child_line_origins(self, sales_id: str) -> dict[int, tuple[int, date]]: ...

    def add_line(self, sales_id: str, line: SalesLine, planned_count: int = 0) -> None: ...

    def set_continuity_card(self, sales_id: str, token: str) -> None: ...

    def add_occurrences(self, sales_id: str, line_no: int, occurrences: list[Occurrence]) -> None: ...

    def schedule(self, sales_id: str, line_no: int) -> list[ScheduledOccurrence]: ...

    def add_installments(
        self, sales_id: str, line_no: int, item_id: str, planned: list[PlannedInstallment]
    ) -> None: ...

    def installments(self, sales_id: str) -> list[Installment]: ...

    def decline_episodes(self, sales_id: str) -> dict[tuple[int, int], DeclineEpisode]:
        """The declined installments' episodes by (line_no, seq): their declines on their last card."""
        ...

    def set_installment_status(
        self, inst: Installment, status: PaymentStatus, authorization_key: str | None = None
    ) -> None: ...

    def add_fulfilment_child(
        self, parent: SalesOrder, lines: list[SalesLine], authorization_key: str, now: datetime
    ) -> str: ...

    def add_payment(self, sales_id: str, method: str, token: str, amount: Money) -> int: ...

    def payments(self, sales_id: str) -> list[Payment]: ...

    def save_payment(self, payment: Payment) -> None: ...

    def add_attempt(
        self,
        subject: str,
        sales_id: str,
        line_no: int,
        seq: int,
        operation: str,
        token: str,
        amount: Money,
        as_of: date,
        now: datetime,
    ) -> str: ...

    def finish_attempt(self, key: str, status: AttemptStatus, reason: str, reference: str) -> None: ...

    def attempts(self, sales_id: str) -> list[AttemptRecord]: ...


class OrderQueries(Protocol):
    """Read-side queries of sales orders for lists (keyset pages by sales_id)."""

    def sales_ids(self, parent: str | None, account: str | None, after: str | None, limit: int) -> list[str]: ...

    def statuses(self, sales_ids: list[str]) -> dict[str, str]: ...

    def still_ordered(self, account: str, item_id: str) -> list[str]:
        """The customer's orders still ordered (STILL_ORDERED) with an open line for this item."""
        ...


class UserRepo(Protocol):
    """API users and their credentials."""

    def add(self, name: str, role: str, token_hash: str, now: datetime) -> User: ...

    def by_token_hash(self, token_hash: str) -> User | None: ...

    def named(self, name: str) -> User | None: ...

    def all(self) -> list[User]: ...

    def end_credentials(self, user_id: int) -> None: ...

    def revoke_token(self, user_id: int) -> None: ...

    def set_token_hash(self, user_id: int, token_hash: str) -> None: ...

    def set_disabled(self, user_id: int, disabled_at: datetime | None) -> None: ...


class IdempotencyRepo(Protocol):
    """Idempotency-Key records, one per (user, key)."""

    def claim(self, user_id: int, key: str, request_hash: str, method: str, path: str, now: datetime) -> bool: ...

    def get(self, user_id: int, key: str) -> IdempotencyRecord | None: ...

    def finish(
        self,
        user_id: int,
        key: str,
        status: str,
        response_status: int | None,
        content_type: str | None,
        body: str | None,
    ) -> None: ...

    def delete(self, user_id: int, key: str) -> None: ...

    def purge(self, user_id: int, created_before: datetime) -> None: ...


class AuditRepo(Protocol):
    """The append-only audit trail."""

    def add(self, entry: AuditEntry, now: datetime | None = None) -> None: ...

    def add_all(self, entries: list[AuditEntry], now: datetime | None = None) -> None: ...

    def for_order(self, sales_id: str) -> list[AuditEntry]: ...

    def for_program(self, program_id: str) -> list[AuditEntry]: ...


class HoldCodeRepo(Protocol):
    """The hold codes set up in the database (domain/holds.BUILT_IN are known without them)."""

    def listed(self) -> list[HoldCode]: ...

    def add(self, code: HoldCode) -> bool: ...


class ServicingRepo(Protocol):
    """What servicing reads and writes of a continuity line."""

    def line(self, sales_id: str, line_no: int) -> ContinuityLineRecord: ...

    def stored_slots(self, sales_id: str, line_no: int) -> dict[int, Slot]: ...

    def adjustments(self, sales_id: str, line_no: int) -> list[Adjustment]: ...

    def add_adjustment(self, sales_id: str, line_no: int, a: Adjustment, now: datetime) -> None: ...

    def close_pause(self, a: Adjustment) -> None: ...

    def save_slot(self, sales_id: str, line_no: int, s: Slot, insert_it: bool) -> int: ...

    def set_line(self, sales_id: str, line_no: int, **values: object) -> None: ...

    def set_installment(self, inst: Installment, amount: Money, status: PaymentStatus) -> int: ...

    def child_charges(self, sales_id: str) -> list[Installment]: ...

    def unknown_attempts(self, sales_id: str) -> list[AttemptRecord]: ...

    def authorization_of(self, sales_id: str, line_no: int, seq: int) -> HeldAuthorization | None: ...

    def children(self, sales_id: str) -> list[ChildOrderRecord]: ...


class AuthorizationRepo(Protocol):
    """Submit authorizations whose charges are all settled, and their release attempts."""

    def settleable(self, sales_ids: list[str] | None = None) -> list[SettleableAuthorization]: ...

    def add_release_attempt(self, auth: SettleableAuthorization, as_of: date, now: datetime) -> str | None: ...


@dataclass(frozen=True)
class CreditNoteLine:
    line_no: int  # the returned line of the child order
    item_id: str
    quantity: int
    unit_price: Money
    amount: Money  # its share of the line's total as charged: goods, shipping charge and tax


@dataclass(frozen=True)
class CreditNote:
    """A return of a shipped child order (``sales_id``) and the refund it makes: an attempt under
    ``refund_key`` against the captures of ``refund_sales_id`` (the child's own, or its parent's)."""

    credit_note_id: str
    serial: int
    sales_id: str
    parent_sales_id: str
    reason_code: str
    amount: Money
    refund_sales_id: str
    refund_key: str
    schedule_action: str  # a ReturnAction value
    replacement_sales_id: str | None
    note: str
    returned_on: date
    lines: tuple[CreditNoteLine, ...] = ()


class ReturnsRepo(Protocol):
    """Return reasons (set-up data), credit notes and the no-charge replacement child orders."""

    def reasons(self) -> list[ReturnReason]: ...

    def reason(self, code: str) -> ReturnReason: ...

    def save_reason(self, reason: ReturnReason) -> None: ...

    def next_serial(self) -> int: ...

    def add_credit_note(self, note: CreditNote, now: datetime) -> None: ...

    def credit_notes(self, sales_id: str) -> list[CreditNote]:
        """The credit notes of a child order, or of every child of a parent order, oldest first."""
        ...

    def returned_quantities(self, sales_id: str) -> dict[int, int]:
        """Quantity returned so far per line of a child order."""
        ...

    def parent_line_of(self, sales_id: str, line_no: int) -> int | None:
        """The parent's line a child order's line ships for (None: not a child line)."""
        ...

    def add_replacement(
        self, credit_note_id: str, child: SalesOrder, line: SalesLine, quantity: int, today: date, now: datetime
    ) -> str:
        """A new open child order of the same parent shipping ``quantity`` of ``line``'s item at no charge
        (``CHILD-R<n>``), named on the credit note; returns its sales_id."""
        ...


class UnitOfWork(Protocol):
    """A transaction: ``with uow_factory() as uow: ...; uow.commit()``; rolls back otherwise."""

    setup: SetupRepo
    customers: CustomerRepo
    orders: OrderRepo
    order_queries: OrderQueries
    users: UserRepo
    idempotency: IdempotencyRepo
    audit: AuditRepo
    servicing: ServicingRepo
    authorizations: AuthorizationRepo
    returns: ReturnsRepo
    hold_codes: HoldCodeRepo

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


# -- web logins and sessions (adapters/web_auth_store) --------------------------------------------------
@dataclass(frozen=True)
class Login:
    user: User
    password_hash: str
    language: str | None


@dataclass(frozen=True)
class Session:
    session_hash: str
    user: User
    csrf_token: str
    language: str | None
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class ThrottleKeys:
    """SHA-256 of the client address and of the name tried: neither is stored in clear."""

    address: str
    account: str


class WebAuthStore(Protocol):
    def user_named(self, name: str) -> User | None: ...
    def login(self, name: str) -> Login | None: ...
    def replace_password(self, user_id: int, password_hash: str, now: datetime) -> bool: ...
    def rehash_password(self, user_id: int, password_hash: str, now: datetime) -> None: ...
    def failures(self, keys: ThrottleKeys) -> tuple[Failures | None, Failures | None]: ...
    def record_failure(self, keys: ThrottleKeys, now: datetime, forget_before: datetime) -> None: ...
    def clear_failures(self, keys: ThrottleKeys) -> None: ...
    def add_session(
        self, session_hash: str, user_id: int, csrf_token: str, language: str | None, now: datetime
    ) -> None: ...
    def session(self, session_hash: str) -> Session | None: ...
    def touch_session(self, session_hash: str, now: datetime) -> None: ...
    def delete_session(self, session_hash: str) -> None: ...
    def set_language(self, session_hash: str, user_id: int, language: str) -> None: ...


# -- what a simulation reads back from its copy (adapters/snapshot) ---------------------------------------
@dataclass(frozen=True)
class ChildOrderRow:
    sales_id: str
    parent_sales_id: str
    created_on: date
    ship_date: date | None  # the earliest ship date of its occurrences
    shipped_on: date | None
    status: str
    items: tuple[tuple[str, int], ...]  # (item_id, quantity) per line

    @property
    def quantity(self) -> int:
        return sum(q for _, q in self.items)


@dataclass(frozen=True)
class ChargeRow:
    """One gateway attempt to take (capture) or give back (refund) money."""

    as_of: date
    sales_id: str
    seq: int
    operation: str  # capture / refund
    status: str  # approved / declined / unknown / pending
    amount: Money


#: Opens a new unit of work (bootstrap: ``partial(SqlUnitOfWork, engine, clock)``).
UowFactory = Callable[[], UnitOfWork]
