"""tax-rate-change: re-price the open orders after a rate changes (or a new rate starts on a day).

Every order entered and not yet shipped is priced again against the rate table as it now stands: a
parent's continuity lines (their shipments, each taxed at the rate of its ship date) and a child's lines
(the shipping charge it was made with stays; only the tax follows the rate). Unpaid installments share
the new total (domain.servicing.share_unpaid); paid, authorized and in-flight ones never change, and a
child whose charge is settled keeps its tax (what it captured is its total). A dry run lists every
change, before → after, and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from continuity.domain.audit import Actor, AuditEntry, Entity
from continuity.domain.money import Money, total
from continuity.domain.payments import RESHAREABLE, SETTLED, Installment
from continuity.domain.sales_order import BillingMode, SalesLine, SalesOrder
from continuity.domain.schedule import plan_amounts
from continuity.domain.servicing import HISTORY, share_unpaid
from continuity.domain.tax import LineAmounts, summed
from continuity.services.jobs.context import JobDeps, JobOutcome, JobRequest, Progress
from continuity.services.ports import UnitOfWork
from continuity.services.pricing import pricing_for
from continuity.services.projection import load

JOB = "tax-rate-change"


@dataclass
class Repricing:
    """What a rate change does to one order (a detail of the job's outcome)."""

    sales_id: str
    lines: list[tuple[SalesLine, LineAmounts]] = field(default_factory=list)  # (as stored, re-priced)
    installments: list[tuple[Installment, Money]] = field(default_factory=list)  # (as stored, new amount)

    def __bool__(self) -> bool:
        return bool(self.lines or self.installments)

    def as_json(self, included: bool) -> dict[str, object]:
        return {
            "sales_id": self.sales_id,
            "lines": [
                {
                    "line_no": line.line_no,
                    "tax": {"before": _amount(line.tax), "after": str(new.tax.amount)},
                    "total": {"before": str(line.amounts(included).total.amount), "after": str(new.total.amount)},
                }
                for line, new in self.lines
            ],
            "installments": [
                {"line_no": i.line_no, "seq": i.seq, "before": str(i.amount.amount), "after": str(new.amount)}
                for i, new in self.installments
            ],
        }


def _amount(value: Money | None) -> str:
    return str(value.amount) if value is not None else "0.00"


def tax_rate_change(deps: JobDeps, req: JobRequest, progress: Progress) -> JobOutcome:
    """Re-price every open order against today's rate table (one transaction per chunk of orders)."""
    counts: Counter[str] = Counter(orders=0, lines=0, installments=0)
    details: list[dict[str, object]] = []
    progress.start(JOB, None)
    after: str | None = None
    while True:
        with deps.uow() as uow:
            page = uow.orders.repriceable(after, req.chunk_size)
            for sales_id in (i for i in page if _wanted(req, i)):
                order = uow.orders.get(sales_id)
                change = reprice(uow, order)
                if not change:
                    continue
                details.append(change.as_json(order.prices_include_tax))
                counts.update(orders=1, lines=len(change.lines), installments=len(change.installments))
                if not req.dry_run:
                    _write(uow, deps, req, order, change)
            if not req.dry_run:
                uow.commit()
        if not page:
            break
        after = page[-1]
        progress.advance(len(page))
    return JobOutcome(dict(counts), details)


def _wanted(req: JobRequest, sales_id: str) -> bool:
    """The --sales-order filter: that parent and its children."""
    return req.sales_id is None or sales_id == req.sales_id or sales_id.startswith(req.sales_id + "-")


def reprice(uow: UnitOfWork, order: SalesOrder) -> Repricing:
    """What the current rate table makes of an open order (nothing written)."""
    if order.parent_sales_id is not None:
        return _reprice_child(uow, order)
    if order.is_continuity_parent:
        return _reprice_parent(uow, order)
    return Repricing(order.sales_id)  # an ordinary order is paid at submit: it keeps its tax


def _reprice_parent(uow: UnitOfWork, order: SalesOrder) -> Repricing:
    state = load(uow, order.sales_id)
    change = Repricing(order.sales_id)
    for ls in state.lines:
        if ls.status != "open":
            continue
        shipments = [s.occ for s in ls.schedule.slots() if s.status in HISTORY or s.is_open]
        new = plan_amounts(shipments, ls.pricing, order.currency)
        if (new.charge, new.tax) != (ls.line.charge, ls.line.tax):
            change.lines.append((ls.line, new))
        if ls.mode != BillingMode.PAY_ALL_LATER:
            mine = [i for i in state.installments if i.line_no == ls.line.line_no]
            change.installments += _reshared(mine, new.total)
    return change


def _reprice_child(uow: UnitOfWork, order: SalesOrder) -> Repricing:
    change = Repricing(order.sales_id)
    origins = uow.orders.child_line_origins(order.sales_id)
    if not origins or order.parent_sales_id is None:
        return change  # the ordinary lines of a mixed order: paid at submit
    charges = uow.orders.installments(order.sales_id)
    if any(i.status in SETTLED for i in charges):
        return change  # its charge is paid (or authorized, or at the gateway): the child keeps its tax
    parent = uow.orders.get(order.parent_sales_id)
    of_line = {ln.line_no: ln for ln in parent.lines}[next(iter(origins.values()))[0]]
    terms = of_line.continuity
    program = uow.setup.program(terms.program_id) if terms else None
    pricing = pricing_for(uow, order.account, order.prices_include_tax, uow.setup.product(of_line.item_id), program)
    lines = []
    for line in order.lines:
        zero = Money.zero(order.currency)
        new = pricing.taxed(line.item_id, line.amount, line.charge or zero, origins[line.line_no][1])
        lines.append(new)
        if new.tax != (line.tax or zero):
            change.lines.append((line, new))
    if change.lines:
        new_total = summed(lines, order.currency, order.prices_include_tax).total
        change.installments += _reshared(charges, new_total)
    return change


def _reshared(installments: list[Installment], new_total: Money) -> list[tuple[Installment, Money]]:
    """The unpaid installments' new shares of ``new_total`` (the settled ones stay as they are)."""
    settled = total([i.amount for i in installments if i.status in SETTLED], new_total.currency)
    unpaid = [i for i in installments if i.status in RESHAREABLE]
    shares = share_unpaid(new_total, settled, len(unpaid))
    return [(i, share) for i, share in zip(unpaid, shares) if share != i.amount]


def _write(uow: UnitOfWork, deps: JobDeps, req: JobRequest, order: SalesOrder, change: Repricing) -> None:
    actor, now, reason = Actor.job(JOB), deps.clock.now(), f"as of {req.as_of}"
    for line, new in change.lines:
        uow.orders.set_line_amounts(order.sales_id, replace(line, charge=new.charge, tax=new.tax))
        uow.audit.add(
            AuditEntry(
                actor,
                Entity.LINE,
                f"{order.sales_id}:{line.line_no}",
                "tax_repriced",
                {"tax": _amount(line.tax)},
                {"tax": str(new.tax.amount)},
                reason,
                sales_id=order.sales_id,
            ),
            now,
        )
    for inst, amount in change.installments:
        uow.servicing.set_installment(inst, amount, inst.status)
        uow.audit.add(
            AuditEntry(
                actor,
                Entity.INSTALLMENT,
                f"{order.sales_id}:{inst.line_no}:{inst.seq}",
                "recomputed",
                {"amount_minor": inst.amount.minor},
                {"amount_minor": amount.minor},
                reason,
                sales_id=order.sales_id,
            ),
            now,
        )
