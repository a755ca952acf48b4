"""What happened to an order or a program, newest first: the audit trail plus the records that are
their own history (child orders created, payment attempts).

One ``HistoryEntry`` per change: the audit entries one change wrote together (same instant, same actor,
same action — a cancel's refund request with it) are one entry whose ``changes`` list each changed field
of each entity, ``before`` and ``after``. Values are codes and JSON-ready values (statuses as codes, dates
ISO, money as decimal strings in ``currency``); each entrypoint words them. A gateway card token is never
in an entry: a card is its brand and last 4 digits (``card``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypedDict

from continuity.domain.audit import AuditEntry, Entity
from continuity.domain.money import Money
from continuity.domain.payments import AttemptStatus
from continuity.domain.servicing import Explanation, Slot, explanation
from continuity.services.ports import AttemptRecord, ChildOrderRecord, UnitOfWork, UowFactory
from continuity.services.projection import load

#: actions written with the change before them (same instant, same actor): part of that change's entry
PART_OF_CHANGE = frozenset({"refund_requested", "recomputed"})
#: what a line entry of a servicing change says about the change itself (its parameters, not its fields)
ADJUSTMENT_KEYS = ("adjustment", "seq", "days", "ship_date", "item_id", "pause_from", "cancel_from", "resume_on")
#: values that name the entity or are folded into another value, not fields of their own
NOT_FIELDS = frozenset(
    {"sales_id", "seq", "currency", "outcome", "authorization", "event_id", "credit_note", "line_no"}
)
#: a return's own values (services/returns.py), parameters of its entry
RETURN_KEYS = ("credit_note", "line_no")
#: the outcomes of a gateway call (an action ``<operation>_<outcome>``)
OUTCOMES = frozenset(s.value for s in AttemptStatus)
#: the order fields are listed in
FIELD_ORDER = ("status", "item_id", "quantity", "ship_date", "order_date", "price", "amount", "card")


class FieldChange(TypedDict):
    """One field of one entity changed by an entry; ``before`` None: the entity was created (``after``
    None: removed). ``line_no`` and ``seq`` locate an occurrence (shipment) or an installment."""

    entity: str
    entity_key: str
    line_no: int | None
    seq: int | None
    field: str
    before: Any
    after: Any


class HistoryEntry(TypedDict):
    """One thing that happened, as JSON-ready values. ``before`` and ``after``: the values of the first
    entity it changed (as recorded, a card token replaced by the card); ``changes``: every changed field of
    every entity; ``params``: what the action needs to be worded (shipment ``seq``, ``date``s, ``days``,
    ``item_id``, ``order``, ``operation`` and ``result`` of a gateway call, ``card``)."""

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
    params: dict[str, Any]
    changes: list[FieldChange]
    currency: str | None  # of the money in ``changes`` and ``params``


def order_history(uow_factory: UowFactory, sales_id: str) -> list[HistoryEntry]:
    """The order's history, newest first; its first entry says who entered it (a child order: the job that
    created it from its parent)."""
    with uow_factory() as uow:
        order = uow.orders.get(sales_id)
        audit = uow.audit.for_order(sales_id)
        children = uow.servicing.children(sales_id)
        attempts = uow.orders.attempts(sales_id)
        cards = _cards(uow, order.account)
        parent = order.parent_sales_id
        made = [c for c in uow.servicing.children(parent) if c.sales_id == sales_id] if parent else []
    currency = order.currency
    entries = grouped(audit, cards, currency)
    # a call the audit trail has (a servicing change's void or refund: with its actor) is shown once
    answered = {e.entity_key for e in audit if e.entity == Entity.PAYMENT}
    entries += [_child_view(child, currency) for child in children]
    entries += [_child_view(child, currency, parent) for child in made]
    entries += [_attempt_view(a, cards) for a in attempts if a.idempotency_key not in answered]
    return sorted(entries, key=lambda e: e["occurred_at"], reverse=True)


def program_history(uow_factory: UowFactory, program_id: str) -> list[HistoryEntry]:
    with uow_factory() as uow:
        uow.setup.program(program_id)
        audit = uow.audit.for_program(program_id)
    return sorted(grouped(audit, {}, None), key=lambda e: e["occurred_at"], reverse=True)


def grouped(audit: list[AuditEntry], cards: dict[str, str], currency: str | None) -> list[HistoryEntry]:
    """One entry per change: consecutive audit entries of one instant, actor, order and action (and the
    entries that are part of such a change, PART_OF_CHANGE) are one; oldest first."""
    groups: list[list[AuditEntry]] = []
    for e in sorted(audit, key=lambda e: (_aware(e.occurred_at), e.entry_id or 0)):
        first = groups[-1][0] if groups else None
        if (
            first is not None
            and (_aware(first.occurred_at), first.actor, first.sales_id) == (_aware(e.occurred_at), e.actor, e.sales_id)
            and (e.action == first.action or e.action in PART_OF_CHANGE)
        ):
            groups[-1].append(e)
        else:
            groups.append([e])
    return [_group_view(g, cards, currency) for g in groups]


def entry_view(e: AuditEntry, cards: dict[str, str] | None = None, currency: str | None = None) -> HistoryEntry:
    """One audit entry on its own."""
    return _group_view([e], cards or {}, currency)


def _group_view(group: list[AuditEntry], cards: dict[str, str], currency: str | None) -> HistoryEntry:
    first = group[0]
    params: dict[str, Any] = {}
    changes: list[FieldChange] = []
    for e in group:
        before, after = _public(e.before, cards, currency), _public(e.after, cards, currency)
        if e.entity == Entity.LINE and after:  # a servicing change's own values (its adjustment) are parameters
            own = {k: after.pop(k) for k in ADJUSTMENT_KEYS if k in after and k not in (before or {})}
            for k, v in own.items():
                params.setdefault(k, v)
        changes += field_changes(e.entity.value, e.entity_key, before, after)
    if first.action == "returned" and first.after:
        params |= {k: first.after[k] for k in RETURN_KEYS if k in first.after}
    if params.get("adjustment") == "cancel" and "pause_from" in params:  # recorded so before issue 18
        params["cancel_from"] = params.pop("pause_from")
    operation, _, result = first.action.partition("_")
    if first.entity == Entity.PAYMENT and result in OUTCOMES:  # <operation>_<outcome> of a gateway call
        params |= {"operation": operation, "result": result}
    return {
        "occurred_at": _aware(first.occurred_at),
        "actor": first.actor.name,
        "actor_kind": first.actor.kind.value,
        "entity": first.entity.value,
        "entity_key": first.entity_key,
        "action": first.action,
        "before": _public(first.before, cards, currency),
        "after": _public(first.after, cards, currency),
        "reason": first.reason,
        "source": "audit_entries",
        "params": params,
        "changes": changes,
        "currency": currency,
    }


def field_changes(
    entity: str, key: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[FieldChange]:
    """The fields whose value differs between ``before`` and ``after`` (all of them when one is None)."""
    line_no, seq = _locate(entity, key)
    old, new = before or {}, after or {}
    names = [n for n in (*FIELD_ORDER, *sorted({*old, *new} - set(FIELD_ORDER))) if n in old or n in new]
    return [
        {
            "entity": entity,
            "entity_key": key,
            "line_no": line_no,
            "seq": seq,
            "field": name,
            "before": old.get(name) if before is not None else None,
            "after": new.get(name) if after is not None else None,
        }
        for name in names
        if name not in NOT_FIELDS and (before is None or after is None or old.get(name) != new.get(name))
    ]


def _public(values: dict[str, Any] | None, cards: dict[str, str], currency: str | None) -> dict[str, Any] | None:
    """Recorded values as shown: a card token becomes the card (brand and last 4; never the token), an
    amount in minor units a decimal amount."""
    if values is None:
        return None
    shown = dict(values)
    token = shown.pop("card_token", None)
    if token is not None and "card" not in shown:
        shown["card"] = cards.get(str(token))
    if "amount_minor" in shown and currency is not None:
        minor = shown.pop("amount_minor")
        shown["amount"] = None if minor is None else str(Money.from_minor(int(minor), currency).amount)
    return shown


def _child_view(child: ChildOrderRecord, currency: str, parent: str | None = None) -> HistoryEntry:
    """A child order created (in its parent's history), or ``created_from`` its parent (in its own)."""
    after = {"sales_id": child.sales_id, "order_date": str(child.order_date), "status": child.status}
    return {
        "occurred_at": _aware(child.created_at),
        "actor": "job:create-child-orders",
        "actor_kind": "job",
        "entity": "order",
        "entity_key": child.sales_id,
        "action": "child_order_created" if parent is None else "created_from",
        "before": None,
        "after": after,
        "reason": "",
        "source": "child_orders",
        "params": {"order": child.sales_id} if parent is None else {"order": parent},
        "changes": field_changes("order", child.sales_id, None, after),
        "currency": currency,
    }


def _attempt_view(a: AttemptRecord, cards: dict[str, str]) -> HistoryEntry:
    amount = Money.from_minor(a.amount_minor, a.currency)
    entity = "installment" if a.subject == "installment" else "payment"
    after = {"amount": str(amount.amount), "currency": amount.currency, "as_of": str(a.as_of), "status": a.status}
    params: dict[str, Any] = {"operation": a.operation, "result": a.status, "as_of": str(a.as_of)}
    if a.card_token in cards:
        params["card"] = cards[a.card_token]
    if entity == "installment":
        params |= {"line_no": a.line_no, "seq": a.seq}
    changes = field_changes(entity, a.idempotency_key, None, {"amount": str(amount.amount), "card": params.get("card")})
    if entity == "installment":
        changes = [{**c, "line_no": a.line_no, "seq": a.seq} for c in changes]
    return {
        "occurred_at": _aware(a.created_at),
        "actor": "gateway",
        "actor_kind": "job",
        "entity": entity,
        "entity_key": a.idempotency_key,
        "action": f"{a.operation}_{a.status}",
        "before": None,
        "after": after,
        "reason": a.reason,
        "source": "payment_attempts",
        "params": params,
        "changes": [c for c in changes if c["after"] is not None],
        "currency": amount.currency,
    }


def _cards(uow: UnitOfWork, account: str) -> dict[str, str]:
    """The customer's cards by token: brand and last 4 digits."""
    return {c.token: c.masked for c in uow.customers.cards(account)}


def _locate(entity: str, key: str) -> tuple[int | None, int | None]:
    """(line_no, seq) of an occurrence or installment key ``sales_id:line:seq`` (line_no of ``sales_id:line``)."""
    parts = key.split(":")
    if entity in (Entity.OCCURRENCE, Entity.INSTALLMENT) and len(parts) >= 3 and parts[-1].isdigit():
        return (int(parts[-2]) if parts[-2].isdigit() else None), int(parts[-1])
    if entity == Entity.LINE and len(parts) >= 2 and parts[-1].isdigit():
        return int(parts[-1]), None
    return None, None


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
