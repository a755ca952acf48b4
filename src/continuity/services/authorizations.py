"""Every submit authorization ends captured or released: once no charge it holds is left to capture,
what is left of it is voided at the gateway (under an attempt committed first) and its payment says
what became of it — ``paid`` when anything was captured against it, ``cancelled`` when nothing was."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date

from continuity.domain.audit import SYSTEM, Actor
from continuity.domain.money import Money
from continuity.domain.payments import AttemptStatus, PaymentStatus, check_payment_transition
from continuity.services.gateway_calls import call_void, each, record_answer
from continuity.services.ports import (
    Clock,
    GatewayOutcome,
    GatewayResult,
    PaymentGateway,
    SettleableAuthorization,
    UnitOfWork,
    UowFactory,
)

log = logging.getLogger(__name__)

#: a release attempt in one of these is waiting for reconcile-payments: leave the payment alone
_IN_FLIGHT = (AttemptStatus.PENDING.value, AttemptStatus.UNKNOWN.value)


def settle_authorizations(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    as_of: date,
    sales_ids: list[str] | None = None,
    actor: Actor = SYSTEM,
) -> Counter[str]:
    """Settle the submit authorizations (of ``sales_ids``, or all) that hold nothing left to capture: the
    release attempts committed first, the voids sent concurrently, the answers written on this thread."""
    counts: Counter[str] = Counter(authorizations_settled=0, authorizations_released=0)
    with uow_factory() as uow:
        settleable = [a for a in uow.authorizations.settleable(sales_ids) if a.release_status not in _IN_FLIGHT]
    to_release = [a for a in settleable if a.release_status is None and a.left_minor > 0]
    answered = _release(uow_factory, gateway, clock, as_of, to_release, actor)
    for auth in settleable:
        releasing = auth.release_status is None and auth.left_minor > 0
        if releasing and auth.reference not in answered:
            continue
        counts["authorizations_released"] += int(releasing)
        _finish_payment(uow_factory, auth)
        counts["authorizations_settled"] += 1
    return counts


def _release(
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
    as_of: date,
    auths: list[SettleableAuthorization],
    actor: Actor,
) -> set[str]:
    """Void what is left of each of ``auths``; the references of those the gateway answered (approved or
    declined). One already being released by another worker is left to it."""
    if not auths:
        return set()
    with uow_factory() as uow:
        keyed = [
            (auth, key)
            for auth in auths
            if (key := uow.authorizations.add_release_attempt(auth, as_of, clock.now())) is not None
        ]
        uow.commit()
    results = each(gateway, lambda pair: call_void(gateway, pair[0].card_token, pair[0].reference, pair[1]), keyed)
    with uow_factory() as uow:
        for (auth, key), result in zip(keyed, results):
            _record_release(uow, clock, auth, key, result, actor)
        uow.commit()
    return {auth.reference for (auth, _), result in zip(keyed, results) if result.outcome != GatewayOutcome.UNKNOWN}


def _record_release(
    uow: UnitOfWork, clock: Clock, auth: SettleableAuthorization, key: str, result: GatewayResult, actor: Actor
) -> None:
    left = Money.from_minor(auth.left_minor, auth.currency)
    record_answer(uow, actor, "void", key, auth.sales_id, left, result, clock.now(), auth.reference)
    if result.outcome == GatewayOutcome.DECLINED:
        log.warning(
            "release of authorization %s (payment %s) declined: %s", auth.reference, auth.payment_id, result.reason
        )


def _finish_payment(uow_factory: UowFactory, auth: SettleableAuthorization) -> None:
    captured = Money.from_minor(auth.captured_minor, auth.currency)
    left = Money.from_minor(auth.left_minor, auth.currency)
    target = PaymentStatus.PAID if auth.captured_minor > 0 else PaymentStatus.CANCELLED
    with uow_factory() as uow:
        payment = next(p for p in uow.orders.payments(auth.sales_id) if p.payment_id == auth.payment_id)
        if payment.status != PaymentStatus.AUTHORIZED:
            return
        check_payment_transition(payment.status, target)
        payment.status = target
        payment.reason = f"captured {captured}" + (f"; {left} released" if left.minor else "")
        uow.orders.save_payment(payment)
        uow.commit()
