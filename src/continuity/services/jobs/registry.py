"""The jobs by name, how one run is recorded, and the nightly sequence (run-all)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from continuity.domain.calendar import add_days_within_calendar
from continuity.domain.errors import NotFound, ValidationFailed
from continuity.services.jobs.child_orders import create_child_orders
from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, NoProgress, Progress
from continuity.services.jobs.liveness import Heartbeat, reap_abandoned
from continuity.services.jobs.notifications import send_notifications
from continuity.services.jobs.payments import process_payments, reconcile_payments
from continuity.services.jobs.records import JobRunJson, JobRunStatus
from continuity.services.jobs.schedules import continuity_update, extend_lines, update_event_period
from continuity.services.jobs.tax_rates import tax_rate_change

log = logging.getLogger(__name__)
Job = Callable[[JobDeps, JobRequest, Progress], JobOutcome]


def close_orders(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Close parent lines whose occurrences are all invoiced, skipped or cancelled, then their orders."""
    return JobOutcome(deps.lifecycle.close_orders())


def invoice_shipped(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Invoice child orders shipped on or before as_of (and mark their occurrences invoiced)."""
    return JobOutcome({"invoiced": deps.lifecycle.invoice_shipped_children(req.as_of)})


def fulfil_children(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Warehouse stand-in for simulations: release and ship paid child orders whose date has come."""
    return JobOutcome({"shipped": deps.lifecycle.fulfil_due_children(req.as_of, req.item_id)})


JOBS: dict[str, Job] = {
    "update-event-period": update_event_period,
    "create-child-orders": create_child_orders,
    "process-payments": process_payments,
    "extend-lines": extend_lines,
    "continuity-update": continuity_update,
    "tax-rate-change": tax_rate_change,
    "close-orders": close_orders,
    "reconcile-payments": reconcile_payments,
    "send-notifications": send_notifications,
    "invoice-shipped": invoice_shipped,
    "fulfil-children": fulfil_children,
}

#: The nightly order: programs first, then money owed, then shipments, then closing and mail.
NIGHTLY = [
    "update-event-period",
    "extend-lines",
    "reconcile-payments",
    "process-payments",
    "create-child-orders",
    "process-payments",
    "invoice-shipped",
    "close-orders",
    "send-notifications",
]


#: The earliest as_of of a job run (no schedule of this system starts before it).
EARLIEST_AS_OF = date(2000, 1, 1)


def check_request(deps: JobDeps, req: JobRequest) -> None:
    """The one validation of a job request, whoever asks (CLI, API, web, worker): the as_of lies from
    EARLIEST_AS_OF to today + max_as_of_days (CONTINUITY_MAX_AS_OF_DAYS; today is the clock's), and the
    filters name a continuity item and a continuity (parent) order that exist. Nothing is recorded."""
    today = deps.clock.today()
    if req.as_of < EARLIEST_AS_OF or (req.as_of - today).days > deps.max_as_of_days:
        latest = add_days_within_calendar(today, deps.max_as_of_days)
        raise ValidationFailed(
            f"as_of {req.as_of.isoformat()} is out of range: it must be from {EARLIEST_AS_OF.isoformat()} to "
            f"{latest.isoformat()} (today {today.isoformat()} + {deps.max_as_of_days} days, "
            "CONTINUITY_MAX_AS_OF_DAYS)",
            "as_of_out_of_range",
        )
    if req.item_id is None and req.sales_id is None:
        return
    with deps.uow() as uow:
        if req.item_id is not None and not uow.setup.product(req.item_id).is_parent:  # NotFound item_unknown
            raise ValidationFailed(
                f"item {req.item_id} is not a continuity item: the jobs work on continuity (parent) items",
                "not_continuity_item",
            )
        if req.sales_id is not None and not any(line.continuity for line in uow.orders.get(req.sales_id).lines):
            raise NotFound(f"{req.sales_id} is not a continuity (parent) order", "continuity_order_not_found")


def run_job(deps: JobDeps, name: str, req: JobRequest, progress: Progress | None = None) -> JobRunJson:
    """Run one job and record it in job_runs (status, counts, filters, a heartbeat while it makes
    progress); returns the record. The request is checked first (check_request); runs left 'running' by
    a dead worker are marked abandoned first."""
    job = JOBS.get(name)
    if job is None:
        raise NotFound(f"no job {name!r}; jobs: {', '.join(sorted(JOBS))}", "job_unknown")
    check_request(deps, req)
    abandoned = reap_abandoned(deps)
    if abandoned:
        log.warning(
            "%s job run(s) with no heartbeat for %s minutes marked abandoned", abandoned, deps.job_stale_minutes
        )
    started = deps.clock.now()
    run_id = deps.runs.start(name, req.as_of, req.filters(), started)
    try:
        outcome = job(deps, req, Heartbeat(progress or NoProgress(), deps.runs, deps.clock, run_id, started))
    except Exception as exc:
        deps.runs.finish(run_id, JobRunStatus.FAILED, {}, f"{type(exc).__name__}: {exc}"[:500], deps.clock.now())
        log.exception("job %s failed (run %s)", name, run_id)
        raise
    deps.runs.finish(run_id, JobRunStatus.SUCCEEDED, outcome.counts, "", deps.clock.now())
    record = deps.runs.get(run_id).as_json()
    if outcome.details:
        record["details"] = outcome.details
    return record


def run_all(
    deps: JobDeps,
    req: JobRequest,
    progress: Progress | None = None,
    fulfil: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> list[JobRunJson]:
    """The nightly sequence for one as_of; with ``fulfil`` paid children are also shipped (simulation).

    ``stop`` is asked between jobs (a worker's SIGTERM): every job is idempotent and catches up,
    so the next sequence finishes what this one left."""
    names = list(NIGHTLY)
    if fulfil:
        names.insert(names.index("invoice-shipped"), "fulfil-children")
    runs: list[JobRunJson] = []
    for name in names:
        if stop():
            break
        runs.append(run_job(deps, name, req, progress))
    return runs
