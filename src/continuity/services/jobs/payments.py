"""process-payments and reconcile-payments."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from continuity.domain.calendar import add_days
from continuity.domain.dunning import DunningPolicy
from continuity.services import payment_entry
from continuity.services.authorizations import settle_authorizations
from continuity.services.gateway_calls import places
from continuity.services.jobs.charging import Charges, resolve_by_lookup
from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, Progress
from continuity.services.jobs.records import ClaimKey, ClaimQuery


def process_payments(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Charge every installment due on or before as_of (child charges included), and retry the declined
    ones the dunning policy retries today (domain/dunning.py); write notices."""
    with deps.uow() as uow:
        params = uow.setup.parameters()
        leads = {p.program_id: p.upcoming_charge_notice_days for p in uow.setup.programs()}
    counts: Counter[str] = Counter(approved=0, declined=0, unknown=0)
    progress.start("process-payments", None)
    policy = params.dunning()
    claim = ClaimQuery(req.as_of, req.item_id, policy, req.chunk_size)
    after, claimed_in_pass = None, 0
    charging: Charges | None = None  # the chunk whose calls are in flight
    try:
        while True:
            # the next chunk is claimed while the last one's last calls are in flight (claimed sooner, it
            # would wait in this worker while the other workers run out of work at the end of a run); it
            # leaves their cards to the next pass (a hard decline among their answers stops the card's
            # other charges)
            if charging is not None:
                charging.last_round()
            busy = charging.cards if charging else frozenset()
            size = _claim_size(deps, claim, after)
            chunk = deps.payments.claim_next_chunk(replace(claim, busy_cards=busy, chunk=size), after, deps.clock.now())
            if chunk.last_key is None:
                # The end of a pass (keyset cursor, in claim order): the calls in flight are answered and
                # recorded. Installments a concurrent worker held locked, or whose card had a call in
                # flight, were passed over, and ones a worker committed a moment earlier came back empty
                # (ON CONFLICT DO NOTHING): once a pass has claimed anything, look again from the start.
                _recorded(charging, counts, progress, req, policy)
                charging = None
                if not claimed_in_pass:
                    break
                after, claimed_in_pass = None, 0
                continue
            after, claimed_in_pass = chunk.last_key, claimed_in_pass + len(chunk.attempts)
            if chunk.attempts:
                done = charging
                if done is not None:
                    done.all_started()
                # its calls take the pool's places as the last chunk's calls end, and go out while the last
                # chunk's answers are written
                charging = Charges(deps, chunk.attempts)
                _recorded(done, counts, progress, req, policy)
                if not charging.in_flight:  # the calls were made one by one, here: nothing to overlap
                    _recorded(charging, counts, progress, req, policy)
                    charging = None
    finally:
        if charging is not None:  # an error, or an interrupt: no call starts any more, those made are written
            charging.stop()
            _recorded(charging, counts, progress, req, policy)
    counts.update(_settle(deps, req))
    counts["children_held"] = deps.payments.hold_declined_children(req.as_of)
    counts["children_released"] = deps.payments.release_child_holds(req.as_of)
    counts["upcoming_notices"] = deps.payments.write_upcoming_notices(
        req.as_of,
        add_days(req.as_of, params.upcoming_charge_notice_days),
        req.item_id,
        {program: add_days(req.as_of, days) for program, days in leads.items() if days is not None},
    )
    return JobOutcome(dict(counts))


#: near the end of a run a claim takes at most this share of the due installments left, however many
#: workers share the run (guided self-scheduling), so that they end together: not one of them alone with a
#: whole chunk while the others have nothing left
TAIL_SHARE = 4


def _claim_size(deps: JobDeps, claim: ClaimQuery, after: ClaimKey | None) -> int:
    """``claim.chunk``, or less near the end of a run: a TAIL_SHARE of what is left after the cursor, and at
    least as many as the pool has places (a round of calls). With calls made one at a time a smaller
    chunk would save nothing: the chunk as given, no count."""
    pool = places(deps.gateway)
    if pool < 2 or claim.chunk <= pool:
        return claim.chunk
    left = deps.payments.due_left(claim, after, claim.chunk * TAIL_SHARE)
    return max(pool, min(claim.chunk, -(-left // TAIL_SHARE)))


def _recorded(
    charging: Charges | None, counts: Counter[str], progress: Progress, req: JobRequest, policy: DunningPolicy
) -> None:
    """Wait for ``charging``'s answers (if any are in flight) and write them."""
    if charging is not None:
        counts.update(charging.record(req.as_of, policy))
        progress.advance(len(charging.claimed))


def reconcile_payments(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Resolve attempts whose outcome is unknown (or left pending by a crash) by asking the gateway."""
    older = deps.clock.now() - timedelta(seconds=deps.stale_after_seconds)
    counts: Counter[str] = Counter(approved=0, declined=0, unknown=0)
    progress.start("reconcile-payments", None)
    after = ""
    while True:
        stale = deps.payments.stale_attempts(older, after, req.chunk_size)
        if not stale:
            break
        after = stale[-1].idempotency_key
        outcomes = resolve_by_lookup(deps, stale, req.as_of)
        counts.update(o.status for o in outcomes)
        for o in (o for o in outcomes if o.attempt.subject == "payment" and o.attempt.operation == "authorize"):
            payment_entry.record_submit_outcome(
                deps.uow,
                o.attempt.sales_id,
                o.attempt.seq,
                o.attempt.idempotency_key,
                o.status,
                o.reason,
                o.reference,
                deps.clock.now(),
            )
        progress.advance(len(stale))
    counts.update(_settle(deps, req))
    counts["children_released"] = deps.payments.release_child_holds(req.as_of, job="reconcile-payments")
    return JobOutcome(dict(counts))


def _settle(deps: JobDeps, req: JobRequest) -> Counter[str]:
    """Release what is left of submit authorizations that hold nothing more to capture."""
    return settle_authorizations(
        deps.uow, deps.gateway, deps.clock, req.as_of, [req.sales_id] if req.sales_id else None
    )
