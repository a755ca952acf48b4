"""Calling the gateway for attempts that are already committed, and recording the answers."""
from __future__ import annotations

from collections import Counter
from datetime import date

from continuity.adapters.batch.payments import AttemptOutcome, ClaimedAttempt
from continuity.domain.money import Money
from continuity.services.gateway_calls import ATTEMPT_STATUS, call_gateway
from continuity.services.jobs.context import JobDeps
from continuity.services.ports import GatewayOutcome


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
        found = deps.gateway.lookup(attempt.idempotency_key)
        if found.outcome == GatewayOutcome.DECLINED and found.reason.startswith("no such transaction"):
            amount = Money.from_minor(attempt.amount_minor, attempt.currency)
            found = call_gateway(deps.gateway, attempt.operation, attempt.card_token, amount,
                                 attempt.idempotency_key)
        outcomes.append(AttemptOutcome(attempt, ATTEMPT_STATUS[found.outcome].value, found.reason, found.reference))
    # installment charges and servicing refunds are recorded here; submit authorizations by payment_entry
    deps.payments.record_outcomes([o for o in outcomes if o.attempt.subject != "payment"], as_of)
    return outcomes
