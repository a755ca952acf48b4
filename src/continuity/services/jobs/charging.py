"""Calling the gateway for attempts that are already committed, and recording the answers."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import date

from continuity.adapters.batch.payments import AttemptOutcome, ClaimedAttempt
from continuity.domain.money import Money
from continuity.services.gateway_calls import ATTEMPT_STATUS, call_gateway, call_lookup, call_refund, call_void
from continuity.services.jobs.context import JobDeps
from continuity.services.refund_sources import captures_of_line
from continuity.services.ports import GatewayOutcome, GatewayResult

log = logging.getLogger(__name__)


def charge_claimed(deps: JobDeps, claimed: list[ClaimedAttempt], as_of: date,
                   retry_limit: int | None = None) -> Counter[str]:
    """One gateway call per claimed attempt under its own key; the chunk's answers in one write."""
    outcomes = []
    for attempt in claimed:
        amount = Money.from_minor(attempt.amount_minor, attempt.currency)
        result = call_gateway(deps.gateway, attempt.operation, attempt.card_token, amount, attempt.idempotency_key,
                              attempt.authorization_reference or "")
        outcomes.append(AttemptOutcome(attempt, ATTEMPT_STATUS[result.outcome].value, result.reason,
                                       result.reference))
    deps.payments.record_outcomes(outcomes, as_of, retry_limit)
    return Counter(o.status for o in outcomes)


def resolve_by_lookup(deps: JobDeps, stale: list[ClaimedAttempt], as_of: date) -> list[AttemptOutcome]:
    """Ask the gateway what became of each attempt; re-drive ones it never received, same key."""
    outcomes = []
    for attempt in stale:
        found = call_lookup(deps.gateway, attempt.idempotency_key)
        if found.outcome == GatewayOutcome.DECLINED and found.reason.startswith("no such transaction"):
            found = _redrive(deps, attempt)
        outcomes.append(AttemptOutcome(attempt, ATTEMPT_STATUS[found.outcome].value, found.reason, found.reference))
    # installment charges, servicing refunds and releases are recorded here; submit authorizations by
    # payment_entry
    deps.payments.record_outcomes([o for o in outcomes if o.attempt.subject != "payment"
                                   or o.attempt.operation == "void"], as_of)
    return outcomes


def _redrive(deps: JobDeps, attempt: ClaimedAttempt) -> GatewayResult:
    """Send an attempt the gateway never received again, under the same key."""
    if attempt.operation == "void":
        reference = attempt.authorization_reference
        if not reference:
            with deps.uow() as uow:
                auth = uow.servicing.authorization_of(attempt.sales_id, attempt.line_no, attempt.seq)
            reference = auth["reference"] if auth else None
        if reference is None:
            return GatewayResult(GatewayOutcome.DECLINED, "", "no authorization on record to void")
        return call_void(deps.gateway, attempt.card_token, reference, attempt.idempotency_key)
    amount = Money.from_minor(attempt.amount_minor, attempt.currency)
    if attempt.operation == "refund":  # rare (the refund never reached the gateway): its captures read here
        with deps.uow() as uow:
            captures = captures_of_line(uow, attempt.sales_id, attempt.line_no)
        return call_refund(deps.gateway, attempt.card_token, amount, attempt.idempotency_key, captures)
    return call_gateway(deps.gateway, attempt.operation, attempt.card_token, amount, attempt.idempotency_key,
                        attempt.authorization_reference or "")
