"""Card payments on a sales order and submitting the order (authorization at submit)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from continuity.domain.card import Card, Expiry
from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.free_text import checked_name
from continuity.domain.holds import PAYMENT_DECLINED, PAYMENT_UNANSWERED
from continuity.domain.money import Money, parse_amount, total
from continuity.domain.payments import (
    AttemptOperation,
    AttemptStatus,
    Payment,
    PaymentStatus,
    check_payment_transition,
    next_status,
)
from continuity.domain.sales_order import OrderStatus, SalesOrder
from continuity.services.gateway_calls import ATTEMPT_STATUS, call_gateway
from continuity.services.order_entry import amount_due_now
from continuity.services.ports import (
    CardSetup,
    Clock,
    GatewayCustomer,
    GatewayOutcome,
    GatewayResult,
    PaymentGateway,
    UnitOfWork,
    UowFactory,
)

log = logging.getLogger(__name__)

EDITABLE = (OrderStatus.DRAFT, OrderStatus.ON_HOLD)
LIVE = (PaymentStatus.NOT_SUBMITTED, PaymentStatus.AUTHORIZED)
#: the holds a submit puts on (and a new payment and submit clear); "" before migration 0021 named codes
SUBMIT_CODES = (PAYMENT_DECLINED, PAYMENT_UNANSWERED, "")


def tokenize_card(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    account: str,
    card_number: str,
    expiry: str,
    holder: str = "",
) -> Card:
    """Send the number to the gateway and keep only the token, brand, last 4 and expiry."""
    checked_name(holder, "holder")
    with uow_factory() as uow:
        customer = uow.customers.get(account)
        card = gateway.tokenize(card_number, Expiry.parse(expiry), holder or customer.name, clock.today())
        uow.customers.save_card(account, card)
        uow.commit()
    log.info("card tokenized for %s: %s", account, card.masked)
    return card


def takes_card_numbers(gateway: PaymentGateway) -> bool:
    """True when the card number is sent to the gateway by us (the test connector); False under stripe."""
    return bool(getattr(gateway, "takes_card_numbers", True))


def save_payment_method(
    uow_factory: UowFactory, gateway: PaymentGateway, clock: Clock, account: str, payment_method: str
) -> Card:
    """Keep a card entered at the gateway (a Stripe PaymentMethod id): only its reference, brand, last 4 and
    expiry. Saving the same one again returns it."""
    with uow_factory() as uow:
        customer = uow.customers.get(account)
        cards = uow.customers.cards(account)
    known = next((c for c in cards if c.token == payment_method), None)
    if known is not None:
        return known
    card = gateway.save_payment_method(
        payment_method,
        GatewayCustomer(account, customer.name, customer.email, tuple(c.token for c in cards)),
        clock.today(),
    )
    with uow_factory() as uow:
        uow.customers.save_card(account, card)
        uow.commit()
    log.info("card saved for %s: %s", account, card.masked)
    return card


def card_setup(uow_factory: UowFactory, gateway: PaymentGateway, account: str) -> CardSetup:
    """What the browser needs to enter a card at the gateway for this customer (CONTINUITY_GATEWAY=stripe)."""
    with uow_factory() as uow:
        customer = uow.customers.get(account)
        cards = uow.customers.cards(account)
    return gateway.card_setup(GatewayCustomer(account, customer.name, customer.email, tuple(c.token for c in cards)))


def add_payment_method_payment(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    sales_id: str,
    payment_method: str,
    amount: str | None = None,
) -> int:
    """The order's card payment with a card entered at the gateway (``orders pay --payment-method``)."""
    with uow_factory() as uow:
        account = uow.orders.get(sales_id).account
    card = save_payment_method(uow_factory, gateway, clock, account, payment_method)
    return add_token_payment(uow_factory, clock, sales_id, card.token, amount)


def add_card_payment(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    sales_id: str,
    card_number: str,
    expiry: str,
    amount: str | None = None,
) -> int:
    with uow_factory() as uow:
        account = uow.orders.get(sales_id).account
    card = tokenize_card(uow_factory, gateway, clock, account, card_number, expiry)
    return add_token_payment(uow_factory, clock, sales_id, card.token, amount)


def add_token_payment(
    uow_factory: UowFactory, clock: Clock, sales_id: str, card_token: str, amount: str | None = None
) -> int:
    """Add the order's card payment by token; the amount defaults to what is due now and may not exceed
    it. An order is paid by one card: the new payment replaces any payment not yet submitted."""
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        lock_editable(uow, order)
        card = uow.customers.card(card_token)
        if card_token not in {c.token for c in uow.customers.cards(order.account)}:
            raise ValidationFailed("that card belongs to another customer", "card_not_found")
        if card_token in uow.customers.removed_cards(order.account):
            raise ValidationFailed("that card was removed: ask the caller for another card", "card_removed")
        card.ensure_usable_on(clock.today())
        due = _due_now(uow, order)
        money = Money(parse_amount(amount), order.currency) if amount is not None else due
        if money.amount <= 0 and due.amount > 0:
            raise ValidationFailed("the payment amount must be greater than 0", "amount_invalid")
        if money > due:
            raise ValidationFailed(
                f"the payment ({money}) is more than what is due now ({due}); pay at most {due}", "payment_exceeds_due"
            )
        _replace_unsubmitted(uow, sales_id)
        payment_id = uow.orders.add_payment(sales_id, "card", card_token, money)
        uow.commit()
    return payment_id


def _replace_unsubmitted(uow: UnitOfWork, sales_id: str) -> None:
    for payment in uow.orders.payments(sales_id):
        if payment.status == PaymentStatus.NOT_SUBMITTED:
            check_payment_transition(payment.status, PaymentStatus.CANCELLED)
            payment.status, payment.reason = PaymentStatus.CANCELLED, "replaced by another payment"
            uow.orders.save_payment(payment)


def _due_now(uow: UnitOfWork, order: SalesOrder) -> Money:
    return amount_due_now(order, uow.orders.installments(order.sales_id), order.order_date)


@dataclass
class SubmitResult:
    sales_id: str
    status: str
    hold_reason: str


def submit(uow_factory: UowFactory, gateway: PaymentGateway, clock: Clock, sales_id: str) -> SubmitResult:
    """Authorize the order's new payments; approve → open, decline or no answer → on hold."""
    pending = _prepare_submit(uow_factory, clock, sales_id)
    outcomes = [(p, key, call_gateway(gateway, "authorize", p.card_token, p.amount, key)) for p, key in pending]
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        for payment, key, result in outcomes:
            uow.orders.finish_attempt(key, ATTEMPT_STATUS[result.outcome], result.reason, result.reference)
            new_status = _after(result)
            check_payment_transition(payment.status, new_status)
            payment.status, payment.reason = new_status, result.reason
            uow.orders.save_payment(payment)
        _settle_order(uow, order, outcomes, clock.now())
        uow.commit()
    return SubmitResult(order.sales_id, order.status.value, order.hold_reason)


def _after(result: GatewayResult) -> PaymentStatus:
    """A submit payment's status once its authorization's answer is ``result``."""
    status = next_status(AttemptOperation.AUTHORIZE, ATTEMPT_STATUS[result.outcome])
    assert status is not None  # an authorization always moves its payment
    return status


def _prepare_submit(uow_factory: UowFactory, clock: Clock, sales_id: str) -> list[tuple[Payment, str]]:
    """Check the order can be submitted and commit one pending attempt per new payment."""
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        _ensure_submittable(order)
        if not order.lines:
            raise RuleViolation(f"order {sales_id} has no lines", "order_empty")
        payments = uow.orders.payments(sales_id)
        if any(p.status == PaymentStatus.UNKNOWN for p in payments):
            raise RuleViolation(
                f"order {sales_id} has a card authorization whose outcome is unknown; "
                "run reconcile-payments before taking another payment",
                "payment_outcome_unknown",
            )
        live = [p for p in payments if p.status in LIVE]
        declined = [p for p in payments if p.status == PaymentStatus.DECLINED]
        if not live and declined:
            raise RuleViolation(
                f"the card payment of order {sales_id} was declined ({declined[-1].reason}): ask "
                "the caller for another card, add it as the payment and submit again",
                "payment_required",
            )
        if not live:
            raise RuleViolation(
                f"order {sales_id} has no payment: add a card payment before submitting", "payment_required"
            )
        due = _due_now(uow, order)
        paid = total([p.amount for p in live], order.currency)
        if paid < due:
            raise RuleViolation(f"the payments ({paid}) do not cover what is due now ({due})", "payment_insufficient")
        new = [p for p in live if p.status == PaymentStatus.NOT_SUBMITTED]
        for p in new:
            uow.customers.card(p.card_token).ensure_usable_on(clock.today())
        if not uow.orders.lock_if_in(sales_id, EDITABLE, OrderStatus.SUBMITTING):
            raise _in_progress(sales_id)
        pending = [
            (
                p,
                uow.orders.add_attempt(
                    "payment",
                    sales_id,
                    0,
                    p.payment_id,
                    "authorize",
                    p.card_token,
                    p.amount,
                    clock.today(),
                    clock.now(),
                ),
            )
            for p in new
        ]
        uow.commit()
    return pending


def lock_editable(uow: UnitOfWork, order: SalesOrder) -> None:
    """Refuse a payment change unless the order is draft or on hold, and hold its row until commit: a
    submit claiming the order at the same time waits for this change, or this change sees it submitting."""
    _ensure_submittable(order)
    if not uow.orders.lock_if_in(order.sales_id, EDITABLE):
        raise _in_progress(order.sales_id)


def _ensure_submittable(order: SalesOrder) -> None:
    if order.status == OrderStatus.SUBMITTING:
        raise _in_progress(order.sales_id)
    if order.status not in EDITABLE or (order.status == OrderStatus.ON_HOLD and order.hold_code not in SUBMIT_CODES):
        raise RuleViolation(f"order {order.sales_id} is already {order.status.value}", "order_not_editable")


def _in_progress(sales_id: str) -> RuleViolation:
    return RuleViolation(
        f"order {sales_id} is being submitted by another request; look at the order again in a moment",
        "submit_in_progress",
    )


def _settle_order(
    uow: UnitOfWork, order: SalesOrder, answers: list[tuple[Payment, str, GatewayResult]], now: datetime
) -> None:
    """``answers``: (payment, attempt key, gateway result) of the authorizations just answered."""
    results = [r for _, _, r in answers]
    declined = [r for r in results if r.outcome == GatewayOutcome.DECLINED]
    unknown = [r for r in results if r.outcome == GatewayOutcome.UNKNOWN]
    if declined:
        order.move_to(
            OrderStatus.ON_HOLD,
            f"card declined ({declined[0].reason}): ask the caller for another "
            "card, add it as a payment and submit again",
            PAYMENT_DECLINED,
        )
    elif unknown:
        order.move_to(
            OrderStatus.ON_HOLD,
            "the card authorization got no answer; it is resolved by "
            "reconcile-payments — do not take the payment again",
            PAYMENT_UNANSWERED,
        )
    else:
        order.move_to(OrderStatus.OPEN)
        payment, key, _ = answers[-1] if answers else _earlier_authorization(uow, order.sales_id)
        _authorize_due_installments(uow, order, payment, key, now)
    uow.orders.save_header(order)


def _authorize_due_installments(uow: UnitOfWork, order: SalesOrder, payment: Payment, key: str, now: datetime) -> None:
    """The approved submit authorization (``key``) holds what was due now: the installments due at order
    date and, on a mixed order, the ordinary lines (as a child order of their own). Each names it, so its
    capture settles this authorization on this card, even after a change of card."""
    uow.orders.set_continuity_card(order.sales_id, payment.card_token)
    for inst in uow.orders.installments(order.sales_id):
        if inst.due_date <= order.order_date and inst.status == PaymentStatus.NOT_SUBMITTED:
            uow.orders.set_installment_status(inst, PaymentStatus.AUTHORIZED, key)
    ordinary = [ln for ln in order.lines if ln.continuity is None]
    if order.is_continuity_parent and ordinary and order.parent_sales_id is None:
        uow.orders.add_fulfilment_child(order, ordinary, key, now)


def _earlier_authorization(uow: UnitOfWork, sales_id: str) -> tuple[Payment, str, None]:
    """A submit with no new payment: the payment authorized before, with its approved attempt's key."""
    payment = next(p for p in reversed(uow.orders.payments(sales_id)) if p.status == PaymentStatus.AUTHORIZED)
    key = next(
        a.idempotency_key
        for a in reversed(uow.orders.attempts(sales_id))
        if a.subject == "payment"
        and a.seq == payment.payment_id
        and a.operation == "authorize"
        and a.status == AttemptStatus.APPROVED
    )
    return payment, key, None


def record_submit_outcome(
    uow_factory: UowFactory,
    sales_id: str,
    payment_id: int,
    key: str,
    status: str,
    reason: str,
    reference: str,
    now: datetime,
) -> None:
    """Record what the gateway says became of a submit authorization (reconcile-payments)."""
    result = GatewayResult(GatewayOutcome(status), reference, reason)
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        payment = next(p for p in uow.orders.payments(sales_id) if p.payment_id == payment_id)
        uow.orders.finish_attempt(key, ATTEMPT_STATUS[result.outcome], reason, reference)
        if result.outcome == GatewayOutcome.UNKNOWN or payment.status not in (
            PaymentStatus.UNKNOWN,
            PaymentStatus.NOT_SUBMITTED,
        ):
            uow.commit()
            return
        payment.status = _after(result)
        payment.reason = reason
        uow.orders.save_payment(payment)
        if order.status in (OrderStatus.ON_HOLD, OrderStatus.SUBMITTING):
            _settle_order(uow, order, [(payment, key, result)], now)
        uow.commit()
