"""The customer's 360° timeline for the agent on a call (issue 18 item 11): orders, payments (each gateway
call), notices sent and the agents' call notes, newest first; and adding a call note (audited)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from continuity.domain.audit import Actor, AuditEntry, Entity
from continuity.domain.call_note import CallNote, checked_note
from continuity.domain.money import Money
from continuity.services.ports import Clock, UowFactory

MAX_ORDERS = 100


@dataclass(frozen=True)
class Event:
    """One entry: ``kind`` (order, payment, notice, note), its day, its instant when known, the order it
    is about and what the page shows of it."""

    kind: str
    day: date
    at: datetime | None
    sales_id: str | None = None
    details: dict[str, object] = field(default_factory=dict)

    def sort_key(self) -> tuple[date, datetime]:
        at = self.at or datetime.min
        return self.day, at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive UTC instants


def add_note(uow_factory: UowFactory, clock: Clock, actor: Actor, account: str, text: str) -> CallNote:
    """The agent's note of this call, checked as free text (a card number masked); audited."""
    body = checked_note(text)
    with uow_factory() as uow:
        uow.customers.get(account)
        note = CallNote(account, actor.name, clock.now(), body)
        note_id = uow.customers.add_note(note)
        uow.audit.add(AuditEntry(actor, Entity.CALL_NOTE, f"{account}:{note_id}", "add_note", None, {"note": body}))
        uow.commit()
    return CallNote(account, actor.name, note.written_at, body, note_id)


def timeline(uow_factory: UowFactory, account: str) -> list[Event]:
    """The customer's payments (every gateway call, its card as brand and last 4), notices and call notes,
    newest first (the page adds the orders it lists)."""
    events: list[Event] = []
    with uow_factory() as uow:
        uow.customers.get(account)
        cards = {c.token: c.masked for c in uow.customers.cards(account)}
        for sales_id in uow.order_queries.sales_ids(None, account, None, MAX_ORDERS):
            for a in uow.orders.attempts(sales_id):
                details = {
                    "operation": a.operation,
                    "status": a.status,
                    "amount": Money.from_minor(a.amount_minor, a.currency),
                    "card": cards.get(a.card_token, ""),
                    "reason": a.reason,
                }
                events.append(Event("payment", a.as_of, a.created_at, sales_id, details))
        for kind, sales_id, as_of, delivered_at in uow.customers.notices(account):
            details = {"notice": kind, "delivered": delivered_at is not None}
            events.append(Event("notice", as_of, delivered_at, sales_id, details))
        for note in uow.customers.notes(account):
            details = {"author": note.author, "body": note.body}
            events.append(Event("note", note.written_at.date(), note.written_at, None, details))
    return sorted(events, key=Event.sort_key, reverse=True)
