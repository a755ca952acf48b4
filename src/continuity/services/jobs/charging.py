"""Calling the gateway for attempts that are already committed, and recording the answers."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date

from continuity.domain.dunning import DunningPolicy
from continuity.domain.money import Money
from continuity.services.gateway_calls import ATTEMPT_STATUS, begin, call_gateway, call_refund, call_void, each, look_up
from continuity.services.jobs.context import JobDeps
from continuity.services.jobs.records import AttemptOutcome, ClaimedAttempt
from continuity.services.ports import GatewayOutcome, GatewayResult
from continuity.services.refund_sources import captures_of_line

log = logging.getLogger(__name__)


def charge_claimed(
    deps: JobDeps, claimed: list[ClaimedAttempt], as_of: date, policy: DunningPolicy | None = None
) -> Counter[str]:
    """One gateway call per claimed (committed) attempt under its own key, the chunk's calls concurrently
    (captures of one authorization in turn); the chunk's answers in one write, on this thread."""
    return Charges(deps, claimed).record(as_of, policy)


class Charges:
    """A claimed (committed) chunk's gateway calls, each under its own key, begun: concurrently on a
    worker's pooled client, while the caller goes on (the next chunk's calls may be begun once these have
    all started: they take the pool's places as these calls end). ``answers()`` waits for them, ``record`` writes them in one write,
    on the caller's thread; ``cards`` are the chunk's cards."""

    def __init__(self, deps: JobDeps, claimed: list[ClaimedAttempt]) -> None:
        self.deps, self.claimed = deps, claimed
        self.cards = frozenset(a.card_token for a in claimed)
        self._calls = begin(deps.gateway, lambda attempt: _charge(deps, attempt), claimed, _authorization)
        self._answers: list[GatewayResult | None] | None = None

    def answers(self) -> list[GatewayResult | None]:
        """The answers in the claimed attempts' order, once the calls have ended (None: never made)."""
        if self._answers is None:
            self._answers = list[GatewayResult | None](self._calls.results())
        return self._answers

    @property
    def in_flight(self) -> bool:
        """The calls run on the pool's threads while the caller goes on (else they were made already)."""
        return self._calls.in_flight

    def all_started(self) -> None:
        """Return once no call of the chunk is left to start (its last ones may still be in flight)."""
        self._calls.all_started()

    def last_round(self) -> None:
        """Return once no more of the chunk's calls are left to start than the pool has places."""
        self._calls.last_round()

    def stop(self) -> None:
        """Start no more of the calls; wait for those running."""
        self._calls.stop()

    def record(self, as_of: date, policy: DunningPolicy | None = None) -> Counter[str]:
        outcomes = [
            AttemptOutcome(
                attempt, ATTEMPT_STATUS[result.outcome].value, result.reason, result.reference, result.decline_code
            )
            for attempt, result in zip(self.claimed, self.answers())
            if result is not None  # a call never started (stopped): its attempt stays pending, for reconcile
        ]
        self.deps.payments.record_outcomes(outcomes, as_of, policy)
        return Counter(o.status for o in outcomes)


def resolve_by_lookup(deps: JobDeps, stale: list[ClaimedAttempt], as_of: date) -> list[AttemptOutcome]:
    """Ask the gateway what became of each attempt; re-drive ones it never received, same key (the chunk's
    calls concurrently, those of one authorization in turn; the answers written on this thread)."""
    inputs = _redrive_inputs(deps, stale)
    results = each(deps.gateway, lambda attempt: _look_up(deps, attempt, inputs), stale, _authorization)
    outcomes = [
        AttemptOutcome(attempt, ATTEMPT_STATUS[found.outcome].value, found.reason, found.reference, found.decline_code)
        for attempt, found in zip(stale, results)
    ]
    # installment charges, servicing refunds and releases are recorded here; submit authorizations by
    # payment_entry
    deps.payments.record_outcomes(
        [o for o in outcomes if o.attempt.subject != "payment" or o.attempt.operation == "void"], as_of
    )
    return outcomes


def _authorization(attempt: ClaimedAttempt) -> str | None:
    """Calls against one authorization go in turn (a gateway may refuse concurrent changes of one charge)."""
    return attempt.authorization_reference or None


def _charge(deps: JobDeps, attempt: ClaimedAttempt) -> GatewayResult:
    amount = Money.from_minor(attempt.amount_minor, attempt.currency)
    return call_gateway(
        deps.gateway,
        attempt.operation,
        attempt.card_token,
        amount,
        attempt.idempotency_key,
        attempt.authorization_reference or "",
    )


def _redrive_inputs(deps: JobDeps, stale: list[ClaimedAttempt]) -> dict[str, object]:
    """What re-sending an attempt needs from the database, read here on the calling thread (the pool only
    makes calls): the authorization a void names, the captures a refund draws on."""
    inputs: dict[str, object] = {a.idempotency_key: a.authorization_reference for a in stale if a.operation == "void"}
    reads = [a for a in stale if a.operation == "refund" or (a.operation == "void" and not a.authorization_reference)]
    if reads:
        with deps.uow() as uow:
            for a in reads:
                if a.operation == "refund":
                    inputs[a.idempotency_key] = tuple(captures_of_line(uow, a.sales_id, a.line_no))
                else:
                    auth = uow.servicing.authorization_of(a.sales_id, a.line_no, a.seq)
                    inputs[a.idempotency_key] = auth.reference if auth else None
    return inputs


def _look_up(deps: JobDeps, attempt: ClaimedAttempt, inputs: dict[str, object]) -> GatewayResult:
    return look_up(
        deps.gateway, attempt.idempotency_key, lambda: _redrive(deps, attempt, inputs.get(attempt.idempotency_key))
    )


def _redrive(deps: JobDeps, attempt: ClaimedAttempt, read: object) -> GatewayResult:
    """Send an attempt the gateway never received again, under the same key (``read``: what
    _redrive_inputs read for it)."""
    if attempt.operation == "void":
        if not isinstance(read, str):
            return GatewayResult(GatewayOutcome.DECLINED, "", "no authorization on record to void")
        return call_void(deps.gateway, attempt.card_token, read, attempt.idempotency_key)
    if attempt.operation == "refund":  # rare: the refund never reached the gateway
        captures = read if isinstance(read, tuple) else ()
        amount = Money.from_minor(attempt.amount_minor, attempt.currency)
        return call_refund(deps.gateway, attempt.card_token, amount, attempt.idempotency_key, captures)
    return _charge(deps, attempt)
