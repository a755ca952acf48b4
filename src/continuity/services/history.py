"""What happened to an order or a program, newest first: the audit trail plus the records that are
their own history (child orders created, payment attempts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypedDict

from continuity.domain.audit import AuditEntry
from continuity.domain.money import Money
from continuity.domain.servicing import Explanation, Slot, explanation
from continuity.services.ports import UowFactory
from continuity.services.projection import load


class HistoryEntry(TypedDict):
    """One thing that happened, as JSON-ready values; ``before`` and ``after``: the changed values."""

    occurred_at: datetime
    actor: str
    actor_kind: str
    entity: str
    entity_key: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    source: str  # audit_entries, child_orders or payment_attempts


def order_history(uow_factory: UowFactory, sales_id: str) -> list[HistoryEntry]:
    with uow_factory() as uow:
        uow.orders.get(sales_id)
        entries = [entry_view(e) for e in uow.audit.for_order(sales_id)]
        children = uow.servicing.children(sales_id)
        attempts = uow.orders.attempts(sales_id)
    for child in children:
        entries.append(
            {
                "occurred_at": _aware(child.created_at),
                "actor": "job:create-child-orders",
                "actor_kind": "job",
                "entity": "order",
                "entity_key": child.sales_id,
                "action": "child_order_created",
                "before": None,
                "after": {
                    "sales_id": child.sales_id,
                    "order_date": str(child.order_date),
                    "status": child.status,
                },
                "reason": "",
                "source": "child_orders",
            }
        )
    for a in attempts:
        amount = Money.from_minor(a.amount_minor, a.currency)
        entries.append(
            {
                "occurred_at": _aware(a.created_at),
                "actor": "gateway",
                "actor_kind": "job",
                "entity": "payment" if a.subject != "installment" else "installment",
                "entity_key": a.idempotency_key,
                "action": f"{a.operation}_{a.status}",
                "before": None,
                "after": {
                    "amount": str(amount.amount),
                    "currency": amount.currency,
                    "as_of": str(a.as_of),
                    "status": a.status,
                },
                "reason": a.reason,
                "source": "payment_attempts",
            }
        )
    return sorted(entries, key=lambda e: e["occurred_at"], reverse=True)


def program_history(uow_factory: UowFactory, program_id: str) -> list[HistoryEntry]:
    with uow_factory() as uow:
        uow.setup.program(program_id)
        return [entry_view(e) for e in uow.audit.for_program(program_id)]


def entry_view(e: AuditEntry) -> HistoryEntry:
    return {
        "occurred_at": _aware(e.occurred_at),
        "actor": e.actor.name,
        "actor_kind": e.actor.kind.value,
        "entity": e.entity.value,
        "entity_key": e.entity_key,
        "action": e.action,
        "before": e.before,
        "after": e.after,
        "reason": e.reason,
        "source": "audit_entries",
    }


@dataclass(frozen=True)
class ExplainedOccurrence:
    """Why an occurrence ships on its date: its code and parameters (``why``), for the entrypoint to word."""

    sales_id: str
    line_no: int
    status: str  # the occurrence's status; paused while a pause holds it
    ship_date: date
    why: Explanation

    @property
    def seq(self) -> int:
        return self.why.seq


def explain(uow_factory: UowFactory, sales_id: str, seq: int, line_no: int | None = None) -> ExplainedOccurrence:
    """Why occurrence ``seq`` ships when it does: a code and its parameters."""
    with uow_factory() as uow:
        state = load(uow, sales_id)
    ls = state.line(line_no)
    slot: Slot = ls.schedule.slot(seq)
    return ExplainedOccurrence(
        sales_id,
        ls.line.line_no,
        "paused" if slot.is_paused else slot.status.value,
        slot.occ.ship_date,
        explanation(slot),
    )


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
