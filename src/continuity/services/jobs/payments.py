"""process-payments and reconcile-payments."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from continuity.domain.calendar import add_days
from continuity.services import payment_entry
from continuity.services.jobs.charging import charge_claimed, resolve_by_lookup
from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, Progress


def process_payments(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Charge every installment due on or before as_of (child charges included); write notices."""
    with deps.uow() as uow:
        params = uow.setup.parameters()
    counts: Counter[str] = Counter(approved=0, declined=0, unknown=0)
    progress.start("process-payments", None)
    empty_claims = 0
    while True:
        claimed = deps.payments.claim_due_installments(
            req.as_of, req.item_id, params.reauthorization_limit, req.chunk_size, deps.clock.now())
        if not claimed:
            # A chunk also comes back empty when a concurrent worker committed the very same installments
            # a moment earlier (ON CONFLICT DO NOTHING): look again with a fresh snapshot before stopping.
            empty_claims += 1
            if empty_claims >= 3:
                break
            continue
        empty_claims = 0
        counts.update(charge_claimed(deps, claimed, req.as_of))
        progress.advance(len(claimed))
    counts["children_held"] = deps.payments.hold_declined_children(req.as_of)
    counts["children_released"] = deps.payments.release_child_holds(req.as_of)
    counts["upcoming_notices"] = deps.payments.write_upcoming_notices(
        req.as_of, add_days(req.as_of, params.upcoming_charge_notice_days), req.item_id)
    return JobOutcome(dict(counts))


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
        for o in (o for o in outcomes if o.attempt.subject == "payment"):
            payment_entry.record_submit_outcome(deps.uow, o.attempt.sales_id, o.attempt.seq,
                                                o.attempt.idempotency_key, o.status, o.reason, o.reference)
        progress.advance(len(stale))
    counts["children_released"] = deps.payments.release_child_holds(req.as_of, job="reconcile-payments")
    return JobOutcome(dict(counts))
