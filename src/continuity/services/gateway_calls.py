"""Calling the gateway safely: the attempt is committed first; no answer means UNKNOWN."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from continuity.domain.money import Money
from continuity.domain.payments import AttemptStatus
from continuity.services.ports import GatewayOutcome, GatewayResult, PaymentGateway

log = logging.getLogger(__name__)

ATTEMPT_STATUS = {
    GatewayOutcome.APPROVED: AttemptStatus.APPROVED,
    GatewayOutcome.DECLINED: AttemptStatus.DECLINED,
    GatewayOutcome.UNKNOWN: AttemptStatus.UNKNOWN,
}


def call_gateway(gateway: PaymentGateway, operation: str, token: str, amount: Money, key: str,
                 authorization: str = "") -> GatewayResult:
    """One gateway call under ``key``; any failure to get an answer is UNKNOWN, never a retry. A capture
    of an authorization names it (``authorization``: its gateway reference)."""
    if operation not in ("authorize", "capture", "refund"):
        raise ValueError(f"unknown gateway operation {operation}")
    try:
        if operation == "capture":
            return gateway.capture(token, amount, key, authorization)
        return getattr(gateway, operation)(token, amount, key)
    except Exception as exc:  # noqa: BLE001 - a timeout, a reset or a client bug: it may have happened
        return no_answer(f"{operation} under key {key}", exc)


def call_refund(gateway: PaymentGateway, token: str, amount: Money, key: str,
                captures: Sequence[str] = ()) -> GatewayResult:
    """A refund under ``key`` drawing on ``captures`` (the references of the captures whose money it returns,
    newest first); no answer is UNKNOWN, never a retry."""
    try:
        return gateway.refund(token, amount, key, tuple(captures))
    except Exception as exc:  # noqa: BLE001 - a timeout, a reset or a client bug: it may have happened
        return no_answer(f"refund under key {key}", exc)


def call_lookup(gateway: PaymentGateway, key: str) -> GatewayResult:
    """What the gateway did under ``key``; no answer to the lookup is UNKNOWN (ask again later)."""
    try:
        return gateway.lookup(key)
    except Exception as exc:  # noqa: BLE001
        return no_answer(f"lookup of key {key}", exc)


def call_void(gateway: PaymentGateway, token: str, reference: str, key: str) -> GatewayResult:
    """Release an authorization (``reference``) under ``key``; no answer is UNKNOWN, never a retry."""
    try:
        return gateway.void(token, reference, key)
    except Exception as exc:  # noqa: BLE001 - a timeout, a reset or a client bug: it may have happened
        return no_answer(f"void under key {key}", exc)


def no_answer(call: str, exc: Exception) -> GatewayResult:
    """UNKNOWN for a gateway call that raised: reconcile-payments asks again under the same key. Anything
    but a network error (OSError: timeouts and resets included) is logged with its traceback (a bug)."""
    log.warning("gateway %s got no answer: %s", call, type(exc).__name__, exc_info=not isinstance(exc, OSError))
    return GatewayResult(GatewayOutcome.UNKNOWN, "", "no answer from the gateway")
