"""The records the batch jobs and their set-based stores exchange: what a job asks a store for (queries)
and what the store hands back (claimed attempts, chunk results, lines with their occurrences). They live
on the services' side so that the jobs never import an adapter; the stores in adapters/batch take and
return them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from continuity.domain.dunning import DunningPolicy
from continuity.services.ports import ContinuityLineRecord

#: A job-run record as the entrypoints show it (JSON: instants and dates as ISO text).
JobRunJson = dict[str, Any]


@dataclass
class ChunkResult:
    claimed: int
    created: int
    held: int
    skipped_expired: int
    last_key: tuple[str, int] | None
    new_children: list[str]  # only with ChildOrderQuery.want_ids


@dataclass
class ChildOrderQuery:
    as_of: date
    due_until: date  # as_of + delivery_lead_days
    item_id: str | None
    sales_id: str | None
    chunk_size: int
    cap: int  # remaining child orders allowed in this run; 0 = no limit
    want_ids: bool = False  # ChunkResult.new_children is filled only when asked (authorize_child_orders)


@dataclass(frozen=True)
class ClaimedAttempt:
    idempotency_key: str
    subject: str
    sales_id: str
    line_no: int
    seq: int
    operation: str
    card_token: str
    amount_minor: int
    currency: str
    authorization_reference: str | None = None  # a capture of an authorization: its gateway reference


@dataclass(frozen=True)
class AttemptOutcome:
    attempt: ClaimedAttempt
    status: str  # approved / declined / unknown
    reason: str
    reference: str
    decline_code: str = ""  # a decline's domain.dunning.DeclineCode


ClaimKey = tuple[date, str, int, int]  # (due_date, sales_id, line_no, seq): the claim order


@dataclass(frozen=True)
class ClaimQuery:
    as_of: date
    item_id: str | None
    policy: DunningPolicy  # when a declined installment is retried, and a card's retry budget
    chunk: int
    operation: str = "capture"
    sales_ids: list[str] | None = None  # only these orders' installments (at most ``chunk`` of them)
    installment: tuple[int, int] | None = None  # only this one (line_no, seq) of the one order in sales_ids
    #: an agent's retry from the payment review: past the retry schedule, its window and the one try per
    #: day, on a held order too; never while the installment's charge is in flight (the same claim as the
    #: job's), never after a hard decline of the card, never beyond the card's retry budget
    manual: bool = False
    #: cards with a charge in flight (the worker's previous chunk): their installments are left to the next
    #: pass, once those answers are written (a hard decline of the card stops its other charges)
    busy_cards: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ClaimedChunk:
    attempts: list[ClaimedAttempt]
    last_key: ClaimKey | None  # the last installment looked at; None: nothing left after the cursor


@dataclass(frozen=True)
class OccurrenceRow:
    """A schedule occurrence of a continuity line: as read (with its status) and as written (the
    inserts and updates of a schedule change, always pending)."""

    sales_id: str
    line_no: int
    seq: int
    event_id: int
    item_id: str
    quantity: int
    price_minor: int
    currency: str
    ship_date: date
    date_basis: str
    date_basis_args: str  # JSON
    status: str = "pending"


@dataclass(frozen=True)
class AdjustmentRow:
    """A servicing change of a line's schedule (a schedule_adjustments row)."""

    adjustment_id: int
    kind: str
    seq: int
    days: int | None
    ship_date: date | None
    item_id: str | None
    price_minor: int | None
    currency: str | None
    pause_from: date | None
    resume_on: date | None


@dataclass(frozen=True)
class InstallmentRow:
    """An installment of a line as continuity-update re-shares it (``status``: a PaymentStatus value; one
    whose charge is in flight reads in_flight or unknown, domain.payments.IN_FLIGHT)."""

    sales_id: str
    line_no: int
    seq: int
    amount_minor: int
    status: str


@dataclass(frozen=True)
class LineQuery:
    """Which open continuity lines of open parents a schedule job walks, a chunk at a time."""

    chunk: int
    item_id: str | None
    sales_id: str | None
    needs_extension: bool = False  # only lines with fewer occurrences than planned (extend-lines)


@dataclass(frozen=True)
class LineState(ContinuityLineRecord):
    """An open continuity line as stored, with its schedule: the occurrences and servicing changes (the
    store fills both in as it reads them)."""

    occurrences: dict[int, OccurrenceRow] = field(default_factory=dict)  # by seq
    adjustments: list[AdjustmentRow] = field(default_factory=list)  # servicing changes, in the order made


@dataclass(frozen=True)
class OccurrenceKey:
    sales_id: str
    line_no: int
    seq: int


@dataclass(frozen=True)
class PlannedCount:
    sales_id: str
    line_no: int
    planned_count: int


@dataclass(frozen=True)
class InstallmentAmount:
    sales_id: str
    line_no: int
    seq: int
    amount_minor: int


@dataclass(frozen=True)
class UnitPrice:
    sales_id: str
    line_no: int
    unit_price_minor: int


@dataclass(frozen=True)
class AuditRow:
    """An audit entry a job builds in Python (``before``/``after``: JSON objects)."""

    entity: str
    entity_key: str
    sales_id: str | None
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    program_id: str | None = None
    reason: str = ""


@dataclass
class ScheduleWrites:
    inserts: list[OccurrenceRow] = field(default_factory=list)
    updates: list[OccurrenceRow] = field(default_factory=list)
    deletes: list[OccurrenceKey] = field(default_factory=list)
    planned_counts: list[PlannedCount] = field(default_factory=list)
    installments: list[InstallmentAmount] = field(default_factory=list)
    unit_prices: list[UnitPrice] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


@dataclass(frozen=True)
class OutboxMessage:
    """An undelivered notification, claimed for sending."""

    notification_id: int
    kind: str
    account: str
    sales_id: str
    language: str
    email: str
    payload: dict[str, object]  # JSON


@dataclass(frozen=True)
class ReviewInstallment:
    """An installment in payment review: its retries used up on its card, or its charge's outcome unknown."""

    sales_id: str
    line_no: int
    seq: int
    due_date: date
    amount_minor: int
    currency: str
    status: str  # declined or unknown
    account: str
    name: str
    attempts: int  # charge attempts on its current card
    last_reason: str
    last_tried: date
    card: str  # brand and last 4 of the card of the last attempt


@dataclass(frozen=True)
class CardExpiryCandidate:
    """An open continuity line whose card is expired by a given month, with its next pending shipment."""

    sales_id: str
    line_no: int
    account: str
    name: str
    language: str
    email: str
    token: str
    brand: str
    last4: str
    expiry_month: int
    expiry_year: int
    next_ship: date


@dataclass(frozen=True)
class CardExpiryNotice:
    """The card_expiring notice of one line and card."""

    line: CardExpiryCandidate
    expiry: str  # MM/YY
    ship_date: date


class JobRunStatus(StrEnum):
    RUNNING = "running"  # started; its heartbeat moves while it makes progress
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"  # left running by a dead worker (no heartbeat): marked by the next run


@dataclass(frozen=True)
class JobRun:
    """One run of a job (a job_runs row)."""

    run_id: int
    name: str
    as_of: date
    filters: dict[str, object]
    counts: dict[str, int]
    status: JobRunStatus
    error: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None

    def as_json(self) -> JobRunJson:
        return {
            "run_id": self.run_id,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "filters": self.filters,
            "counts": self.counts,
            "status": self.status.value,
            "error": self.error,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "heartbeat_at": self.heartbeat_at.isoformat() if self.heartbeat_at else None,
        }
