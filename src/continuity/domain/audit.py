"""The audit trail: who changed what, when, from what to what, and why. Entries are never changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from continuity.domain.users import User


class ActorKind(StrEnum):
    AGENT = "agent"
    WAREHOUSE = "warehouse"
    MANAGER = "manager"
    ADMIN = "admin"
    JOB = "job"
    CLI = "cli"


class Entity(StrEnum):
    PROGRAM = "program"
    PARAMETERS = "parameters"
    PAYMENT_SCHEDULE = "payment_schedule"
    PRODUCT = "product"
    ORDER = "order"
    LINE = "line"
    OCCURRENCE = "occurrence"
    INSTALLMENT = "installment"
    PAYMENT = "payment"
    CARD = "card"  # a customer's saved card: set as default, removed (the key names no token)
    TAX_RATE = "tax_rate"  # a row of the rate table (key: group:region:valid_from)
    CALL_NOTE = "call_note"  # an agent's note of a call (the key: account:note_id)
    CUSTOMER = "customer"  # a customer created or changed by an agent (the key: the account)


@dataclass(frozen=True)
class Actor:
    name: str
    kind: ActorKind

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(f"job:{name}", ActorKind.JOB)

    @classmethod
    def for_user(cls, user: User) -> Actor:
        """A logged-in user of the API or the web UI; the kind is the user's role."""
        return cls(user.name, ActorKind(user.role.value))


#: Changes made by code that was given no actor (e.g. a test or a script calling a service directly).
SYSTEM = Actor("system", ActorKind.CLI)


@dataclass(frozen=True)
class AuditEntry:
    actor: Actor
    entity: Entity
    entity_key: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""
    sales_id: str | None = None
    program_id: str | None = None
    occurred_at: datetime | None = None
    entry_id: int | None = field(default=None, compare=False)


#: The action of the entry written when an order is entered (the first entry of every order's history).
ENTERED = "entered"


def order_entered(actor: Actor, sales_id: str, account: str) -> AuditEntry:
    """Who entered the order, for whom: the first entry of its history."""
    return AuditEntry(actor, Entity.ORDER, sales_id, ENTERED, None, {"account": account}, sales_id=sales_id)
