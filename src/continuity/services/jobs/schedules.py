"""update-event-period, extend-lines and continuity-update."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace

from continuity.domain.audit import Actor, AuditEntry, Entity
from continuity.domain.money import Money
from continuity.domain.payments import RESHAREABLE, SETTLED, PaymentStatus
from continuity.domain.program import Program
from continuity.domain.schedule import (
    Occurrence,
    OccurrenceStatus,
    due_until,
    is_due,
    materialise,
    occurrences_to_extend,
    plan_occurrences,
    plan_value,
)
from continuity.domain.servicing import HISTORY, Adjustment, AdjustmentKind, Slot, apply_all, share_unpaid
from continuity.domain.tax import NO_TAX, Pricing
from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, Progress
from continuity.services.jobs.records import (
    AdjustmentRow,
    AuditRow,
    InstallmentAmount,
    InstallmentRow,
    LineQuery,
    LineState,
    OccurrenceKey,
    OccurrenceRow,
    PlannedCount,
    ScheduleWrites,
    UnitPrice,
)
from continuity.services.pricing import pricing_for

FIELDS = ("event_id", "item_id", "quantity", "price_minor", "currency", "ship_date")


def update_event_period(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Set each active program's current event from its events' start dates."""
    changed = 0
    with deps.uow() as uow:
        programs = [p for p in uow.setup.programs() if p.active]
        progress.start("update-event-period", len(programs))
        for program in programs:
            current = program.current_event_on(req.as_of)
            if current != program.current_event:
                before = program.current_event
                program.current_event = current
                uow.setup.save_program(program)
                uow.audit.add(
                    AuditEntry(
                        Actor.job("update-event-period"),
                        Entity.PROGRAM,
                        program.program_id,
                        "current_event_changed",
                        {"current_event": before},
                        {"current_event": current},
                        f"as of {req.as_of}",
                        program_id=program.program_id,
                    ),
                    deps.clock.now(),
                )
                changed += 1
        uow.commit()
    progress.advance(len(programs))  # after the commit: the heartbeat writes (SQLite has one writer)
    return JobOutcome({"programs": len(programs), "changed": changed})


class _Plans:
    """Programs and prices, read once per job run."""

    def __init__(self, deps: JobDeps) -> None:
        with deps.uow() as uow:
            self.programs: dict[str, Program] = {p.program_id: p for p in uow.setup.programs()}
            self.prices = {p.item_id: p.price for p in uow.setup.products()}
            self.threshold = uow.setup.parameters().repeat_threshold
            self.lead_days = uow.setup.parameters().delivery_lead_days

    def pricing(self, deps: JobDeps, line: LineState) -> Pricing:
        """The line's tax and shipping charge (its order's customer, the rate table in force)."""
        with deps.uow() as uow:
            order = uow.orders.get(line.sales_id)
            parent = uow.setup.product(line.item_id)
            program = self.programs[line.program_id]
            return pricing_for(uow, order.account, order.prices_include_tax, parent, program)

    def plan(self, line: LineState) -> list[Occurrence]:
        plan = plan_occurrences(self.programs[line.program_id], self.prices, line.start_date, line.start_event)
        return [replace(o, quantity=o.quantity * line.quantity) for o in plan]

    def slots(self, line: LineState) -> list[Slot]:
        """The plan with the line's servicing adjustments applied; unstored cancelled ones are gone."""
        slots = apply_all([Slot(o) for o in self.plan(line)], [_adjustment(a) for a in line.adjustments])
        return [s for s in slots if s.status != OccurrenceStatus.CANCELLED or s.seq in line.occurrences]


def _adjustment(row: AdjustmentRow) -> Adjustment:
    price = (
        Money.from_minor(row.price_minor, row.currency)
        if row.price_minor is not None and row.currency is not None
        else None
    )
    return Adjustment(
        AdjustmentKind(row.kind),
        row.seq,
        row.days,
        row.ship_date,
        row.item_id,
        price,
        row.pause_from,
        row.resume_on,
        row.adjustment_id,
    )


def _row(line: LineState, occ: Occurrence) -> OccurrenceRow:
    return OccurrenceRow(
        line.sales_id,
        line.line_no,
        occ.seq,
        occ.event_id,
        occ.item_id,
        occ.quantity,
        occ.price.minor,
        occ.price.currency,
        occ.ship_date,
        occ.basis,
        json.dumps(occ.basis_args, sort_keys=True, default=str),
    )


def _key(row: OccurrenceRow) -> str:
    return f"{row.sales_id}:{row.line_no}:{row.seq}"


def _added(job_rows: list[OccurrenceRow]) -> list[AuditRow]:
    return [AuditRow("occurrence", _key(r), r.sales_id, "added", None, _brief(r)) for r in job_rows]


def extend_lines(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Top up repeats beyond the repeat threshold, never beyond the event's times_to_repeat."""
    plans = _Plans(deps)
    until = due_until(req.as_of, plans.lead_days)
    counts: Counter[str] = Counter(lines=0, occurrences_added=0)
    progress.start("extend-lines", None)
    after = None
    query = LineQuery(req.chunk_size, req.item_id, req.sales_id, needs_extension=True)
    while lines := deps.schedules.open_lines(query, after):
        writes = ScheduleWrites()
        for line in lines:
            statuses = {seq: OccurrenceStatus(o.status) for seq, o in line.occurrences.items()}
            plan = [s.occ for s in plans.slots(line) if s.status == OccurrenceStatus.PENDING]
            added = occurrences_to_extend(plan, statuses, plans.threshold)
            # catch-up: repeats already due are materialised too (else a run after a gap creates only
            # `repeat_threshold` of them and the rest wait for later runs)
            seqs = {o.seq for o in added}
            added += [
                o
                for o in plan
                if o.seq not in statuses and o.seq not in seqs and is_due(OccurrenceStatus.PENDING, o.ship_date, until)
            ]
            writes.inserts += [_row(line, occ) for occ in added]
            counts["lines"] += bool(added)
        writes.audit = _added(writes.inserts)
        deps.schedules.write(writes, job="extend-lines")
        counts["occurrences_added"] += len(writes.inserts)
        after = (lines[-1].sales_id, lines[-1].line_no)
        progress.advance(len(lines))
    return JobOutcome(dict(counts))


def continuity_update(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Push program changes into the pending occurrences of open parents; history is never rewritten."""
    plans = _Plans(deps)
    counts: Counter[str] = Counter(orders=0, added=0, changed=0, removed=0, installments_recomputed=0)
    details: list[dict[str, object]] = []
    progress.start("continuity-update", None)
    after = None
    query = LineQuery(req.chunk_size, req.item_id, req.sales_id)
    while lines := deps.schedules.open_lines(query, after):
        writes = ScheduleWrites()
        installments = deps.schedules.installments_of(
            [ln for ln in lines if ln.payment_schedule_id or ln.bill_up_front]
        )
        for line in lines:
            mine = installments.get((line.sales_id, line.line_no))
            pricing = plans.pricing(deps, line) if mine else NO_TAX
            change = _diff_line(line, plans, mine, writes, pricing)
            if change:
                details.append(change.as_json())
                counts["orders"] += 1
                counts["added"] += len(change.added)
                counts["changed"] += len(change.changed)
                counts["removed"] += len(change.removed)
                counts["installments_recomputed"] += len(change.installments)
        if not req.dry_run:
            deps.schedules.write(writes)
        after = (lines[-1].sales_id, lines[-1].line_no)
        progress.advance(len(lines))
    return JobOutcome(dict(counts), details)


@dataclass
class _LineChange:
    """What continuity-update changes on one line (a detail of the job's outcome)."""

    sales_id: str
    line_no: int
    added: list[dict[str, object]] = field(default_factory=list)
    changed: list[dict[str, object]] = field(default_factory=list)
    removed: list[dict[str, object]] = field(default_factory=list)
    installments: list[dict[str, object]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.installments)

    def as_json(self) -> dict[str, object]:
        return {
            "sales_id": self.sales_id,
            "line_no": self.line_no,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "installments": self.installments,
        }


def _diff_line(
    line: LineState,
    plans: _Plans,
    installments: list[InstallmentRow] | None,
    w: ScheduleWrites,
    pricing: Pricing = NO_TAX,
) -> _LineChange | None:
    """Pending occurrences follow the program (with the line's servicing adjustments); created, shipped
    and invoiced history stays, and so do skipped and cancelled occurrences."""
    slots = plans.slots(line)
    plan = [s.occ for s in slots]
    history = {s: o for s, o in line.occurrences.items() if o.status in HISTORY}
    last_history = max(history, default=0)
    pending = {s: o for s, o in line.occurrences.items() if o.status == OccurrenceStatus.PENDING.value}
    future = [
        s.occ
        for s in slots
        if s.seq > last_history
        and s.status == OccurrenceStatus.PENDING
        and (s.seq in pending or s.seq not in line.occurrences)
    ]
    # occurrences held by a pause are not materialised or changed, but they are still owed as stored (the
    # price they ship at when resumed, and what the order's projection counts)
    held = {s: o for s, o in line.occurrences.items() if o.status == OccurrenceStatus.PAUSED.value}
    owed = [
        _stored(held[s.seq]) if s.seq in held else s.occ
        for s in slots
        if s.seq > last_history and s.is_open and (s.seq in pending or s.seq in held or s.seq not in line.occurrences)
    ]
    wanted = {o.seq: o for o in materialise(future, plans.threshold, line.bill_up_front)}
    # repeats beyond the threshold that extend-lines materialised because they were due stay
    wanted.update({o.seq: o for o in future if o.seq in pending and o.seq not in wanted})
    change = _LineChange(line.sales_id, line.line_no)
    for seq, occ in wanted.items():
        new = _row(line, occ)
        if seq not in pending:
            change.added.append(_brief(new))
            w.inserts.append(new)
            w.audit.append(AuditRow("occurrence", _key(new), line.sales_id, "added", None, _brief(new)))
        elif any(getattr(pending[seq], f) != getattr(new, f) for f in FIELDS):
            change.changed.append({"before": _brief(pending[seq]), "after": _brief(new)})
            w.updates.append(new)
            w.audit.append(
                AuditRow("occurrence", _key(new), line.sales_id, "changed", _brief(pending[seq]), _brief(new))
            )
    for seq, old in pending.items():
        if seq not in wanted:
            change.removed.append(_brief(old))
            w.deletes.append(OccurrenceKey(line.sales_id, line.line_no, seq))
            w.audit.append(
                AuditRow(
                    "occurrence", f"{line.sales_id}:{line.line_no}:{seq}", line.sales_id, "removed", _brief(old), None
                )
            )
    if len(plan) != line.planned_count:
        w.planned_counts.append(PlannedCount(line.sales_id, line.line_no, len(plan)))
    if installments:
        _recompute_installments(line, owed, history, installments, change, w, pricing)
    return change if change else None


def _recompute_installments(
    line: LineState,
    future: list[Occurrence],
    history: dict[int, OccurrenceRow],
    installments: list[InstallmentRow],
    change: _LineChange,
    w: ScheduleWrites,
    pricing: Pricing = NO_TAX,
) -> None:
    """Unpaid installments share what the order now costs (shipping charges and tax included) minus what
    is paid or authorized."""
    currency = future[0].price.currency if future else next((o.currency for o in history.values()), "EUR")
    goods_minor = sum(o.price_minor * o.quantity for o in history.values()) + sum(o.amount.minor for o in future)
    shipped = [_stored(o) for o in history.values()]
    total_minor = plan_value(shipped + future, currency, pricing).minor
    settled = sum(i.amount_minor for i in installments if PaymentStatus(i.status) in SETTLED)
    unpaid = [i for i in installments if PaymentStatus(i.status) in RESHAREABLE]
    if not unpaid:
        return
    shares = share_unpaid(Money.from_minor(total_minor, currency), Money.from_minor(settled, currency), len(unpaid))
    for inst, share in zip(unpaid, shares):
        if inst.amount_minor != share.minor:
            change.installments.append(
                {
                    "seq": inst.seq,
                    "before": str(Money.from_minor(inst.amount_minor, currency).amount),
                    "after": str(share.amount),
                }
            )
            w.installments.append(InstallmentAmount(line.sales_id, line.line_no, inst.seq, share.minor))
            w.audit.append(
                AuditRow(
                    "installment",
                    f"{line.sales_id}:{line.line_no}:{inst.seq}",
                    line.sales_id,
                    "recomputed",
                    {"amount_minor": inst.amount_minor},
                    {"amount_minor": share.minor},
                )
            )
    w.unit_prices.append(UnitPrice(line.sales_id, line.line_no, goods_minor // max(line.quantity, 1)))


def _stored(o: OccurrenceRow) -> Occurrence:
    """A stored occurrence as it stands (its price and ship date as written)."""
    return Occurrence(
        o.seq, o.event_id, o.item_id, o.quantity, Money.from_minor(o.price_minor, o.currency), o.ship_date
    )


def _brief(row: OccurrenceRow) -> dict[str, object]:
    return {
        "seq": row.seq,
        "event_id": row.event_id,
        "item_id": row.item_id,
        "quantity": row.quantity,
        "price": str(Money.from_minor(row.price_minor, row.currency).amount),
        "ship_date": row.ship_date.isoformat(),
    }
