"""Set-based payment work: claim due installments as attempts, record gateway outcomes in bulk.

An attempt row (natural key: installment + operation + attempt number; idempotency key derived
from it) is committed before the gateway is called. Two workers can never insert the same
attempt; a re-run for the same as_of finds nothing due (a declined installment is retried only on
a later as_of, up to the reauthorization limit).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from continuity.adapters.batch.audit import audit_select, status_json
from continuity.adapters.batch.sql import (
    as_text,
    one_worker_at_a_time,
    skip_locked,
    sql_text,
    temp_table,
    transaction,
)


PARENT_PAYMENT_HOLD = "an installment of the parent order is declined or unresolved"
OWN_PAYMENT_HOLD = "the charge for this shipment was declined or is unresolved"


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


@dataclass(frozen=True)
class AttemptOutcome:
    attempt: ClaimedAttempt
    status: str  # approved / declined / unknown
    reason: str
    reference: str


_KEY = (
    "'installment:' || x.sales_id || ':' || " + as_text("x.line_no") + " || ':' || " + as_text("x.seq")
    + " || ':' || :op || ':' || " + as_text("x.attempt_no")
)
_CLAIMABLE = {"capture": "('not_submitted', 'authorized', 'declined')", "authorize": "('not_submitted')"}
_ATTEMPT_COLUMNS = (
    "idempotency_key, subject, sales_id, line_no, seq, operation, card_token, amount_minor, currency"
)


class PaymentStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim_due_installments(self, as_of: date, item_id: str | None, retry_limit: int, chunk: int,
                               now: datetime, operation: str = "capture",
                               sales_ids: list[str] | None = None) -> list[ClaimedAttempt]:
        """Insert the next attempt of each due installment (one chunk) and commit; returns them."""
        where = " AND i.item_id = :item_id" if item_id else ""
        if sales_ids is not None:
            where += " AND i.sales_id IN (SELECT value FROM tmp_ids)"
        with transaction(self.engine) as conn:
            if sales_ids is not None:
                _ids_table(conn, sales_ids)
            rows = conn.execute(sql_text(
                f"INSERT INTO payment_attempts ({_ATTEMPT_COLUMNS}, attempt_no, status, reason, as_of, created_at) "
                f"SELECT {_KEY}, 'installment', x.sales_id, x.line_no, x.seq, :op, x.card_token, x.amount_minor, "
                "x.currency, x.attempt_no, 'pending', '', :as_of, :now FROM ("
                "SELECT i.sales_id, i.line_no, i.seq, i.amount_minor, i.currency, i.due_date, cl.card_token, "
                "(SELECT COUNT(*) FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = i.sales_id "
                " AND a.line_no = i.line_no AND a.seq = i.seq AND a.operation = :op) + 1 AS attempt_no "
                "FROM installments i "
                "JOIN continuity_lines cl ON cl.sales_id = i.parent_sales_id AND cl.line_no = i.parent_line_no "
                "JOIN sales_orders so ON so.sales_id = i.sales_id "
                "WHERE i.due_date <= :as_of AND i.status IN " + _CLAIMABLE[operation] + " "
                "AND cl.card_token IS NOT NULL AND so.status NOT IN ('draft', 'cancelled') "
                # exhausted installments must not fill the chunk's LIMIT (they would starve the rest); a new
                # card (change-card) gets its own reauthorization_limit
                "AND (SELECT COUNT(*) FROM payment_attempts a WHERE a.subject = 'installment' "
                " AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq AND a.operation = :op"
                " AND a.card_token = cl.card_token) < :max_attempts "
                "AND (so.parent_sales_id IS NOT NULL OR so.status IN ('open', 'closed'))"
                + where +
                " AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.subject = 'installment' "
                " AND a.sales_id = i.sales_id AND a.line_no = i.line_no AND a.seq = i.seq "
                # a declined installment is retried on a later as_of, or at once with a new card
                " AND (a.status IN ('pending', 'unknown') OR (i.status = 'declined' AND a.as_of >= :as_of"
                " AND a.card_token = cl.card_token))) "
                "ORDER BY i.due_date, i.sales_id, i.line_no, i.seq LIMIT :chunk"
                # concurrent workers claim different installments instead of colliding on the same chunk
                + skip_locked(conn, "i") + ") x "
                "WHERE 1 = 1 ON CONFLICT DO NOTHING "
                f"RETURNING {_ATTEMPT_COLUMNS}"
            ), {"as_of": as_of, "now": now, "op": operation, "item_id": item_id, "chunk": chunk,
                "max_attempts": retry_limit + 1}).all()
        return [ClaimedAttempt(*r) for r in rows]

    def stale_attempts(self, older_than: datetime, after_key: str, limit: int) -> list[ClaimedAttempt]:
        """Attempts whose outcome is unknown, or pending ones left behind by a crashed worker."""
        with self.engine.connect() as conn:
            rows = conn.execute(sql_text(
                f"SELECT {_ATTEMPT_COLUMNS} FROM payment_attempts WHERE idempotency_key > :after "
                "AND (status = 'unknown' OR (status = 'pending' AND created_at < :older)) "
                "ORDER BY idempotency_key LIMIT :limit"
            ), {"older": older_than, "after": after_key, "limit": limit}).all()
        return [ClaimedAttempt(*r) for r in rows]

    def record_outcomes(self, outcomes: list[AttemptOutcome], as_of: date) -> None:
        """Write a chunk's gateway answers in one transaction: stage them, then three set statements."""
        if not outcomes:
            return
        with transaction(self.engine) as conn:
            temp_table(conn, "tmp_outcome", _OUTCOME_COLUMNS)
            conn.execute(sql_text(
                "INSERT INTO tmp_outcome VALUES (:key, :subject, :sales_id, :line_no, :seq, :status, :next_status, "
                ":reason, :reference, :notice_kind, :payload)"), [_outcome_row(o) for o in outcomes])
            conn.execute(sql_text(
                "UPDATE payment_attempts SET status = t.status, reason = t.reason, gateway_reference = t.reference "
                "FROM tmp_outcome t WHERE payment_attempts.idempotency_key = t.idempotency_key "
                "AND payment_attempts.status IN ('pending', 'unknown')"))
            conn.execute(sql_text(
                "UPDATE installments SET status = t.next_status FROM tmp_outcome t WHERE t.subject = 'installment' "
                "AND t.next_status IS NOT NULL "
                "AND installments.sales_id = t.sales_id AND installments.line_no = t.line_no "
                "AND installments.seq = t.seq AND installments.status NOT IN ('paid', 'cancelled')"))
            conn.execute(sql_text(
                "INSERT INTO notifications (dedupe_key, kind, account, sales_id, language, email, payload, as_of, "
                "attempts, last_error) SELECT t.notice_kind || ':' || t.idempotency_key, t.notice_kind, c.account, "
                "so.sales_id, c.language, c.email, t.payload, :as_of, 0, '' FROM tmp_outcome t "
                "JOIN sales_orders so ON so.sales_id = t.sales_id JOIN customers c ON c.account = so.account "
                "WHERE t.subject = 'installment' AND t.notice_kind IS NOT NULL ON CONFLICT DO NOTHING"),
                {"as_of": as_of})

    def release_child_holds(self, as_of: date, job: str = "process-payments") -> int:
        """Child orders held for a payment problem go back to open once nothing due is unpaid."""
        where = (
            "WHERE status = 'on_hold' AND parent_sales_id IS NOT NULL AND hold_reason IN (:r1, :r2) "
            "AND NOT EXISTS (SELECT 1 FROM installments i WHERE "
            " (i.parent_sales_id = sales_orders.parent_sales_id OR i.sales_id = sales_orders.sales_id) "
            " AND i.status IN ('declined', 'unknown') AND i.due_date <= :as_of)")
        params = {"as_of": as_of, "r1": PARENT_PAYMENT_HOLD, "r2": OWN_PAYMENT_HOLD}
        with transaction(self.engine) as conn:
            one_worker_at_a_time(conn)
            _audit_status(conn, job, "released", where, params, "open")
            return conn.execute(sql_text(
                "UPDATE sales_orders SET status = 'open', hold_reason = '' " + where), params).rowcount

    def hold_declined_children(self, as_of: date | None = None, job: str = "process-payments") -> int:
        """Hold open children whose own charge is declined or unresolved; with ``as_of`` also those
        (made earlier) whose parent now has such an installment due on or before as_of."""
        own = ("WHERE status = 'open' AND parent_sales_id IS NOT NULL AND EXISTS (SELECT 1 FROM installments i "
               "WHERE i.sales_id = sales_orders.sales_id AND i.status IN ('declined', 'unknown'))")
        parents = ("WHERE status = 'open' AND parent_sales_id IS NOT NULL AND EXISTS (SELECT 1 FROM installments i "
                   "WHERE i.parent_sales_id = sales_orders.parent_sales_id AND i.status IN ('declined', 'unknown') "
                   "AND i.due_date <= :as_of)")
        with transaction(self.engine) as conn:
            one_worker_at_a_time(conn)
            held = 0
            for where, params in ((own, {"reason": OWN_PAYMENT_HOLD}),
                                  (parents, {"reason": PARENT_PAYMENT_HOLD, "as_of": as_of})):
                if where is parents and as_of is None:
                    continue
                _audit_status(conn, job, "held", where, params, "on_hold", params["reason"])
                held += conn.execute(sql_text(
                    "UPDATE sales_orders SET status = 'on_hold', hold_reason = :reason " + where), params).rowcount
            return held

    def write_upcoming_notices(self, as_of: date, notice_until: date, item_id: str | None) -> int:
        where = " AND i.item_id = :item_id" if item_id else ""
        with transaction(self.engine) as conn:
            return conn.execute(sql_text(
                "INSERT INTO notifications (dedupe_key, kind, account, sales_id, language, email, payload, as_of, "
                "attempts, last_error) "
                "SELECT 'upcoming:' || i.sales_id || ':' || " + as_text("i.line_no") + " || ':' || "
                + as_text("i.seq") + ", 'upcoming_charge', c.account, i.sales_id, c.language, c.email, "
                "'{\"amount_minor\": ' || " + as_text("i.amount_minor") + " || ', \"currency\": \"' || i.currency "
                "|| '\", \"due_date\": \"' || " + as_text("i.due_date") + " || '\"}', :as_of, 0, '' "
                "FROM installments i JOIN sales_orders so ON so.sales_id = i.sales_id "
                "JOIN customers c ON c.account = so.account "
                "WHERE i.status IN ('not_submitted', 'authorized') AND i.due_date > :as_of "
                "AND i.due_date <= :until AND so.status NOT IN ('draft', 'cancelled')" + where +
                " ON CONFLICT DO NOTHING"
            ), {"as_of": as_of, "until": notice_until, "item_id": item_id}).rowcount


_NEXT_STATUS = {("capture", "approved"): "paid", ("authorize", "approved"): "authorized",
                ("capture", "declined"): "declined", ("authorize", "declined"): "declined"}
#: Attempts that do not move their installment (a void releases an authorization of a cancelled one).
_NO_STATUS = ("void",)


_OUTCOME_COLUMNS = (
    "idempotency_key VARCHAR(120) PRIMARY KEY, subject VARCHAR(20), sales_id VARCHAR(40), line_no INTEGER, "
    "seq INTEGER, status VARCHAR(20), next_status VARCHAR(20), reason TEXT, reference VARCHAR(80), "
    "notice_kind VARCHAR(30), payload TEXT"
)
_NOTICE = {("capture", "approved"): "paid", ("capture", "declined"): "payment_declined",
           ("authorize", "declined"): "payment_declined"}


def _outcome_row(o: AttemptOutcome) -> dict:
    a = o.attempt
    return {"key": a.idempotency_key, "subject": a.subject, "sales_id": a.sales_id, "line_no": a.line_no,
            "seq": a.seq, "status": o.status,
            "next_status": None if a.operation in _NO_STATUS else _NEXT_STATUS.get((a.operation, o.status), "unknown"),
            "reason": o.reason, "reference": o.reference or None, "notice_kind": _NOTICE.get((a.operation, o.status)),
            "payload": json.dumps({"amount_minor": a.amount_minor, "currency": a.currency, "reason": o.reason})}


def _ids_table(conn: Connection, ids: list[str]) -> None:
    temp_table(conn, "tmp_ids", "value VARCHAR(60)")
    if ids:
        conn.execute(sql_text("INSERT INTO tmp_ids (value) VALUES (:v)"), [{"v": i} for i in ids])


def _audit_status(conn: Connection, job: str, action: str, where: str, params: dict, target: str,
                  reason: str = "") -> None:
    audit_select(conn, job, "order", action, key="sales_id", sales_id="sales_id", before=status_json("status"),
                 after=status_json("'" + target + "'"), source="sales_orders " + where, params=params, reason=reason)
