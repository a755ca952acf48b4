"""Calling the gateway safely: the attempt is committed first; no answer means UNKNOWN."""
from __future__ import annotations

import logging

from continuity.domain.money import Money
from continuity.domain.payments import AttemptStatus
from continuity.services.ports import GatewayOutcome, GatewayResult, PaymentGateway

log = logging.getLogger(__name__)

ATTEMPT_STATUS = {
    GatewayOutcome.APPROVED: AttemptStatus.APPROVED,
    GatewayOutcome.DECLINED: AttemptStatus.DECLINED,
    GatewayOutcome.UNKNOWN: AttemptStatus.UNKNOWN,
}


def call_gateway(gateway: PaymentGateway, operation: str, token: str, amount: Money, key: str) -> GatewayResult:
    """One gateway call under ``key``; any failure to get an answer is UNKNOWN, never a retry."""
    try:
        if operation == "authorize":
            return gateway.authorize(token, amount, key)
        if operation == "capture":
            return gateway.capture(token, amount, key)
        if operation == "refund":
            return gateway.refund(token, amount, key)
        raise ValueError(f"unknown gateway operation {operation}")
    except (OSError, TimeoutError) as exc:
        log.warning("gateway %s under key %s got no answer: %s", operation, key, type(exc).__name__)
        return GatewayResult(GatewayOutcome.UNKNOWN, "", "no answer from the gateway")
