"""The records the batch jobs and their set-based stores exchange: what a job asks a store for (queries)
and what the store hands back (claimed attempts, chunk results, lines with their occurrences). They live
on the services' side so that the jobs never import an adapter; the stores in adapters/batch take and
return them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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


ClaimKey = tuple[date, str, int, int]  # (due_date, sales_id, line_no, seq): the claim order


@dataclass(frozen=True)
class ClaimQuery:
    as_of: date
    item_id: str | None
    retry_limit: int  # reauthorization_limit: attempts per card after the first
    chunk: int
    operation: str = "capture"
    sales_ids: list[str] | None = None  # only these orders' installments (at most ``chunk`` of them)


@dataclass(frozen=True)
class ClaimedChunk:
    attempts: list[ClaimedAttempt]
    last_key: ClaimKey | None  # the last installment looked at; None: nothing left after the cursor


@dataclass
class LineState:
    sales_id: str
    line_no: int
    program_id: str
    item_id: str
    quantity: int
    planned_count: int
    start_date: date
    start_event: int
    bill_up_front: bool
    payment_schedule_id: str | None
    occurrences: dict[int, dict] = field(default_factory=dict)  # seq -> row
    adjustments: list[dict] = field(default_factory=list)  # servicing changes (schedule_adjustments rows)


@dataclass
class ScheduleWrites:
    inserts: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    deletes: list[dict] = field(default_factory=list)
    planned_counts: list[dict] = field(default_factory=list)
    installments: list[dict] = field(default_factory=list)
    unit_prices: list[dict] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)  # entity, entity_key, sales_id, action, before, after
