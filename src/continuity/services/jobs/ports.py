"""The ports of the batch jobs: the set-based stores JobDeps holds (adapters/batch implements them,
bootstrap wires them). They take and return the records of services/jobs/records.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Protocol

from continuity.domain.dunning import DunningPolicy
from continuity.services.jobs.records import (
    AttemptOutcome,
    CardExpiryCandidate,
    CardExpiryNotice,
    ChildOrderQuery,
    ChunkResult,
    ClaimedAttempt,
    ClaimedChunk,
    ClaimKey,
    ClaimQuery,
    InstallmentRow,
    JobRun,
    JobRunStatus,
    LineQuery,
    LineState,
    OutboxMessage,
    ReviewInstallment,
    ScheduleWrites,
)


class JobRuns(Protocol):
    """The job_runs records: one row per run, written at start and at the end, a heartbeat between."""

    def start(self, name: str, as_of: date, filters: Mapping[str, object], now: datetime) -> int: ...

    def beat(self, run_id: int, now: datetime) -> None: ...

    def abandon_stale(self, older: datetime, now: datetime, reason: str) -> int: ...

    def finish(
        self, run_id: int, status: JobRunStatus, counts: Mapping[str, int], error: str, now: datetime
    ) -> None: ...

    def get(self, run_id: int) -> JobRun: ...

    def recent(self, limit: int = 50, before: int | None = None) -> list[JobRun]: ...


class ChildOrders(Protocol):
    """create-child-orders' chunks: due occurrences of open parents become child orders."""

    def count_due_lines(self, q: ChildOrderQuery) -> int: ...

    def create_chunk(self, q: ChildOrderQuery, after: tuple[str, int] | None, now: datetime) -> ChunkResult: ...


class Payments(Protocol):
    """Claiming due installments as committed attempts, recording gateway outcomes, holds and notices."""

    def claim_next_chunk(self, claim: ClaimQuery, after: ClaimKey | None, now: datetime) -> ClaimedChunk: ...

    def due_left(self, claim: ClaimQuery, after: ClaimKey | None, most: int) -> int: ...

    def stale_attempts(self, older_than: datetime, after_key: str, limit: int) -> list[ClaimedAttempt]: ...

    def record_outcomes(
        self, outcomes: list[AttemptOutcome], as_of: date, policy: DunningPolicy | None = None
    ) -> None: ...

    def release_child_holds(self, as_of: date, job: str = "process-payments") -> int: ...

    def hold_declined_children(self, as_of: date | None = None, job: str = "process-payments") -> int: ...

    def write_upcoming_notices(
        self, as_of: date, notice_until: date, item_id: str | None, until_by_program: Mapping[str, date] | None = None
    ) -> int: ...


class Schedules(Protocol):
    """Chunks of open continuity lines with their occurrences, and bulk writes of schedule changes."""

    def open_lines(self, q: LineQuery, after: tuple[str, int] | None) -> list[LineState]: ...

    def write(self, w: ScheduleWrites, job: str = "continuity-update") -> None: ...

    def installments_of(self, lines: list[LineState]) -> dict[tuple[str, int], list[InstallmentRow]]: ...


#: What the outbox calls for each claimed message: None when sent, else the error (kept, retried later).
Send = Callable[[OutboxMessage], str | None]


class Outbox(Protocol):
    """The notification outbox: rows written with the change, claimed in chunks, marked when sent."""

    def deliver_chunk(self, chunk: int, send: Send, now: datetime) -> tuple[int, int]: ...

    def undelivered(self) -> int: ...


class Lifecycle(Protocol):
    """Set-based order lifecycle statements: fulfil, invoice and close."""

    def fulfil_due_children(self, as_of: date, item_id: str | None) -> int: ...

    def invoice_shipped_children(self, as_of: date) -> int: ...

    def close_orders(self) -> dict[str, int]: ...


class Mailer(Protocol):
    """Sends e-mail (raises OSError when it cannot)."""

    def send(self, to: str, subject: str, body: str, message_id: str) -> None: ...

    def close(self) -> None: ...


class PaymentReviewReads(Protocol):
    """The installments of the payment review worklist (services/payment_review.py)."""

    def exhausted(self, max_attempts: int, window_from: date) -> list[ReviewInstallment]: ...

    def unknown_since(self, tried_by: date) -> list[ReviewInstallment]: ...


class CardExpiryReads(Protocol):
    """Open lines whose card expires before the shipment it pays for, and their card_expiring notices."""

    def candidates(self, expired_by: date, ships_until: date) -> list[CardExpiryCandidate]: ...

    def write_notices(self, notices: list[CardExpiryNotice], as_of: date) -> int: ...
