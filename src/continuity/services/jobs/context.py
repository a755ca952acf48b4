"""What every job gets: the request (as_of and filters), its collaborators and a progress sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from continuity.services.jobs.ports import (
    CardExpiryReads,
    ChildOrders,
    JobRuns,
    Lifecycle,
    Mailer,
    Outbox,
    Payments,
    Schedules,
)
from continuity.services.ports import Clock, PaymentGateway, UowFactory


@dataclass(frozen=True)
class JobRequest:
    as_of: date
    item_id: str | None = None
    sales_id: str | None = None
    dry_run: bool = False
    chunk_size: int = 2000

    def filters(self) -> dict[str, object]:
        return {
            k: v
            for k, v in (("item_id", self.item_id), ("sales_id", self.sales_id), ("dry_run", self.dry_run or None))
            if v
        }


class Progress(Protocol):
    """Where a job reports its progress. Jobs call ``advance`` between chunks, never inside an open
    transaction: run_job's heartbeat writes the job-run row from it (SQLite has one writer)."""

    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


def is_silent(progress: Progress) -> bool:
    """Nobody watches this progress (no bar): a job need not count a total for it."""
    return bool(getattr(progress, "silent", False))


class NoProgress:
    silent = True

    def start(self, description: str, total: int | None) -> None:
        return None

    def advance(self, count: int) -> None:
        return None


@dataclass
class JobDeps:
    """Collaborators of the jobs; built by bootstrap (adapters stay out of the services)."""

    uow: UowFactory
    gateway: PaymentGateway
    clock: Clock
    runs: JobRuns
    child_orders: ChildOrders
    payments: Payments
    schedules: Schedules
    outbox: Outbox
    lifecycle: Lifecycle
    card_expiry: CardExpiryReads
    mailer: Mailer | None = None  # none: send-notifications only counts what is pending
    stale_after_seconds: int = 60  # payment attempts pending this long are reconciled
    job_stale_minutes: int = 15  # a running job run with no heartbeat this long is abandoned
    max_as_of_days: int = 7  # a run's as_of at most this many days after today (CONTINUITY_MAX_AS_OF_DAYS)


@dataclass
class JobOutcome:
    counts: dict[str, int]
    details: list[dict[str, object]] = field(default_factory=list)  # JSON objects, shown with the run
