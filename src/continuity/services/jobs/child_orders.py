"""create-child-orders: every due occurrence of an open parent becomes a child sales order."""

from __future__ import annotations

from collections import Counter

from continuity.domain.dunning import DunningPolicy
from continuity.domain.schedule import due_until
from continuity.services.card_expiry import write_card_expiry_notices
from continuity.services.jobs.charging import charge_claimed
from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, Progress, is_silent
from continuity.services.jobs.records import ChildOrderQuery, ClaimQuery


def create_child_orders(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Create a child sales order for every due occurrence of open parents (filters: item, order)."""
    with deps.uow() as uow:
        params = uow.setup.parameters()
    query = ChildOrderQuery(
        req.as_of,
        due_until(req.as_of, params.delivery_lead_days),
        req.item_id,
        req.sales_id,
        req.chunk_size,
        params.max_child_orders_per_run,
        want_ids=params.authorize_child_orders,
    )
    # the total is for a visible progress bar only: counting walks every open line once more
    silent = is_silent(progress)
    progress.start("create-child-orders", None if silent else deps.child_orders.count_due_lines(query))
    counts: Counter[str] = Counter(created=0, on_hold=0, skipped_expired_card=0)
    after, authorized = None, False
    while True:
        chunk = deps.child_orders.create_chunk(query, after, deps.clock.now())
        if not chunk.claimed:
            break
        counts["created"] += chunk.created
        counts["on_hold"] += chunk.held
        counts["skipped_expired_card"] += chunk.skipped_expired
        if params.authorize_child_orders and chunk.new_children:  # chunk by chunk: memory stays flat
            counts.update(_authorize(deps, req, chunk.new_children))
            authorized = True
        after = chunk.last_key
        progress.advance(chunk.claimed)
        if params.max_child_orders_per_run:
            query.cap -= chunk.created
            if query.cap <= 0:
                break
    if authorized:
        deps.payments.hold_declined_children(req.as_of, job="create-child-orders")
    if not (req.item_id or req.sales_id):  # a filtered run is about those orders only
        counts["card_expiry_notices"] = write_card_expiry_notices(deps.card_expiry, req.as_of, params)
    return JobOutcome(dict(counts))


def _authorize(deps: JobDeps, req: JobRequest, children: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for start in range(0, len(children), req.chunk_size):
        claim = ClaimQuery(
            req.as_of, None, DunningPolicy(), req.chunk_size, "authorize", children[start : start + req.chunk_size]
        )
        claimed = deps.payments.claim_next_chunk(claim, None, deps.clock.now()).attempts  # all of these orders'
        counts.update({f"authorize_{k}": v for k, v in charge_claimed(deps, claimed, req.as_of).items()})
    return counts
