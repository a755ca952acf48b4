"""The payment review worklist's installments, read set-based: those whose retries on their current card are
used up (declined), and those whose charge's outcome is unknown since before a given time."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Engine, TextClause, bindparam

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.sql import sql_text
from continuity.domain.payments import AttemptStatus, PaymentStatus
from continuity.domain.sales_order import OrderStatus
from continuity.services.jobs.records import ReviewInstallment

# Per installment: its charge attempts on the card of its last one, and that last attempt (by number).
_LAST = (
    "SELECT a.sales_id, a.line_no, a.seq, a.card_token, a.reason, a.as_of, a.created_at, a.status, a.decline_code FROM "
    "payment_attempts a WHERE a.subject = 'installment' AND " + R.charge_operation("a.operation") + " AND "
    "a.attempt_no = (SELECT MAX(b.attempt_no) FROM payment_attempts b WHERE b.subject = 'installment' "
    "AND b.sales_id = a.sales_id AND b.line_no = a.line_no AND b.seq = a.seq AND b.operation = a.operation)"
)
_SELECT = (
    "SELECT i.sales_id, i.line_no, i.seq, i.due_date, i.amount_minor, i.currency, i.status, so.account, cu.name, "
    "(SELECT COUNT(*) FROM payment_attempts c WHERE c.subject = 'installment' AND c.sales_id = i.sales_id "
    "AND c.line_no = i.line_no AND c.seq = i.seq AND c.card_token = l.card_token AND "
    + R.charge_operation("c.operation")
    + ") AS attempts, (SELECT MIN(f.as_of) FROM payment_attempts f WHERE f.subject = 'installment' "
    "AND f.sales_id = i.sales_id AND f.line_no = i.line_no AND f.seq = i.seq AND f.card_token = l.card_token AND "
    + R.charge_operation("f.operation")
    + ") AS first_tried, l.decline_code, l.reason, l.as_of, COALESCE(cd.brand || ' ····' || cd.last4, '') AS card "
    f"FROM installments i JOIN ({_LAST}) l ON l.sales_id = i.sales_id AND l.line_no = i.line_no AND l.seq = i.seq "
    "JOIN sales_orders so ON so.sales_id = i.sales_id JOIN customers cu ON cu.account = so.account "
    "LEFT JOIN cards cd ON cd.token = l.card_token "
    f"WHERE {R.not_among('so.status', (OrderStatus.CANCELLED, OrderStatus.CLOSED))} "
)
_ORDER = " ORDER BY due_date, sales_id, line_no, seq"


class PaymentReviewQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def exhausted(self, max_attempts: int, window_from: date) -> list[ReviewInstallment]:
        """Declined installments the dunning policy retries no more on the card of their last attempt: a hard
        decline, ``max_attempts`` or more charge attempts on it, or first tried on it before ``window_from``."""
        where = f"AND {R.equals('i.status', PaymentStatus.DECLINED)}"
        statement = sql_text(
            f"SELECT * FROM ({_SELECT}{where}) x WHERE attempts >= :max OR {R.hard_decline('x.decline_code')} "
            f"OR x.first_tried < :window_from{_ORDER}"
        ).bindparams(bindparam("window_from", type_=Date()))
        return self._read(statement, {"max": max_attempts, "window_from": window_from})

    def unknown_since(self, tried_by: date) -> list[ReviewInstallment]:
        """Installments whose charge's outcome is unknown, attempted on or before the business day ``tried_by``."""
        where = (
            f"AND {R.equals('i.status', PaymentStatus.UNKNOWN)} AND {R.equals('l.status', AttemptStatus.UNKNOWN)} "
            "AND l.as_of <= :tried_by"
        )
        statement = sql_text(f"SELECT * FROM ({_SELECT}{where}) x{_ORDER}").bindparams(
            bindparam("tried_by", type_=Date())
        )
        return self._read(statement, {"tried_by": tried_by})

    def _read(self, statement: str | TextClause, params: dict[str, object]) -> list[ReviewInstallment]:
        if isinstance(statement, str):
            statement = sql_text(statement)
        with self.engine.connect() as conn:
            rows = conn.execute(statement, params)
            return [
                ReviewInstallment(
                    r.sales_id,
                    int(r.line_no),
                    int(r.seq),
                    _day(r.due_date),
                    int(r.amount_minor),
                    r.currency,
                    r.status,
                    r.account,
                    r.name,
                    int(r.attempts),
                    r.reason,
                    _day(r.as_of),
                    r.card,
                )
                for r in rows
            ]


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
