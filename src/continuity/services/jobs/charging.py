"""Calling the gateway for attempts that are already committed, and recording the answers."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import date

from continuity.adapters.batch.payments import AttemptOutcome, ClaimedAttempt
from continuity.domain.money import Money
from continuity.services.gateway_calls import ATTEMPT_STATUS, call_gateway, call_lookup, no_answer
from continuity.services.jobs.context import JobDeps
from continuity.services.ports import GatewayOutcome, GatewayResult, PaymentGateway

log = logging.getLogger(__name__)


def charge_claimed(deps: JobDeps, claimed: list[ClaimedAttempt], as_of: date) -> Counter[str]:
    """One gateway call per claimed attempt under its own key; the chunk's answers in one write."""
    outcomes = []
    for attempt in claimed:
        amount = Money.from_minor(attempt.amount_minor, attempt.currency)
        result = call_gateway(deps.gateway, attempt.operation, attempt.card_token, amount, attempt.idempotency_key)
        outcomes.append(AttemptOutcome(attempt, ATTEMPT_STATUS[result.outcome].value, result.reason,
                                       result.reference))
    deps.payments.record_outcomes(outcomes, as_of)
    return Counter(o.status for o in outcomes)


def resolve_by_lookup(deps: JobDeps, stale: list[ClaimedAttempt], as_of: date) -> list[AttemptOutcome]:
    """Ask the gateway what became of each attempt; re-drive ones it never received, same key."""
    outcomes = []
    for attempt in stale:
        found = call_lookup(deps.gateway, attempt.idempotency_key)
        if found.outcome == GatewayOutcome.DECLINED and found.reason.startswith("no such transaction"):
            found = _redrive(deps, attempt)
        outcomes.append(AttemptOutcome(attempt, ATTEMPT_STATUS[found.outcome].value, found.reason, found.reference))
    # installment charges and servicing refunds are recorded here; submit authorizations by payment_entry
    deps.payments.record_outcomes([o for o in outcomes if o.attempt.subject != "payment"], as_of)
    return outcomes


def _redrive(deps: JobDeps, attempt: ClaimedAttempt) -> GatewayResult:
    """Send an attempt the gateway never received again, under the same key."""
    if attempt.operation == "void":
        with deps.uow() as uow:
            auth = uow.servicing.authorization_of(attempt.sales_id, attempt.line_no, attempt.seq)
        if auth is None:
            return GatewayResult(GatewayOutcome.DECLINED, "", "no authorization on record to void")
        return call_void(deps.gateway, attempt.card_token, auth["reference"], attempt.idempotency_key)
    amount = Money.from_minor(attempt.amount_minor, attempt.currency)
    return call_gateway(deps.gateway, attempt.operation, attempt.card_token, amount, attempt.idempotency_key)


def call_void(gateway: PaymentGateway, token: str, reference: str, key: str) -> GatewayResult:
    """Release an authorization (``reference``) under ``key``; no answer is UNKNOWN, never a retry."""
    try:
        return gateway.void(token, reference, key)
    except Exception as exc:  # noqa: BLE001 - a timeout, a reset or a client bug: it may have happened
        return no_answer(f"void under key {key}", exc)
