"""Every submit authorization ends captured or released: once no charge it holds is left to capture,
what is left of it is voided at the gateway (under an attempt committed first) and its payment says
what became of it — ``paid`` when anything was captured against it, ``cancelled`` when nothing was."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import date

from continuity.domain.audit import SYSTEM, Actor, AuditEntry, Entity
from continuity.domain.money import Money
from continuity.domain.payments import AttemptStatus, PaymentStatus, check_payment_transition
from continuity.services.gateway_calls import ATTEMPT_STATUS, call_void
from continuity.services.order_entry import UowFactory
from continuity.services.ports import Clock, GatewayOutcome, PaymentGateway

log = logging.getLogger(__name__)

#: a release attempt in one of these is waiting for reconcile-payments: leave the payment alone
_IN_FLIGHT = (AttemptStatus.PENDING.value, AttemptStatus.UNKNOWN.value)


def settle_authorizations(uow_factory: UowFactory, gateway: PaymentGateway, clock: Clock, as_of: date,
                          sales_ids: list[str] | None = None, actor: Actor = SYSTEM) -> Counter[str]:
    """Settle the submit authorizations (of ``sales_ids``, or all) that hold nothing left to capture."""
    counts: Counter[str] = Counter(authorizations_settled=0, authorizations_released=0)
    with uow_factory() as uow:
        settleable = uow.authorizations.settleable(sales_ids)
    for auth in settleable:
        if auth.release_status in _IN_FLIGHT:
            continue
        to_release = auth.release_status is None and auth.left_minor > 0
        if to_release and not _release(uow_factory, gateway, clock, as_of, auth, actor):
            continue
        counts["authorizations_released"] += int(to_release)
        _finish_payment(uow_factory, auth)
        counts["authorizations_settled"] += 1
    return counts


def _release(uow_factory: UowFactory, gateway: PaymentGateway, clock: Clock, as_of: date, auth,  # type: ignore[no-untyped-def]
             actor: Actor) -> bool:
    """Void what is left of ``auth``; True once the gateway has answered (approved or declined)."""
    with uow_factory() as uow:
        key = uow.authorizations.add_release_attempt(auth, as_of, clock.now())
        uow.commit()
    if key is None:  # another worker is releasing it
        return False
    result = call_void(gateway, auth.card_token, auth.reference, key)
    left = Money.from_minor(auth.left_minor, auth.currency)
    with uow_factory() as uow:
        uow.orders.finish_attempt(key, ATTEMPT_STATUS[result.outcome], result.reason, result.reference)
        uow.audit.add(AuditEntry(actor, Entity.PAYMENT, key, f"void_{result.outcome.value}", None,
                                 {"authorization": auth.reference, "amount": str(left.amount),
                                  "currency": left.currency, "outcome": result.outcome.value},
                                 result.reason, auth.sales_id), clock.now())
        uow.commit()
    if result.outcome == GatewayOutcome.DECLINED:
        log.warning("release of authorization %s (payment %s) declined: %s", auth.reference, auth.payment_id,
                    result.reason)
    return result.outcome != GatewayOutcome.UNKNOWN


def _finish_payment(uow_factory: UowFactory, auth) -> None:  # type: ignore[no-untyped-def]
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
