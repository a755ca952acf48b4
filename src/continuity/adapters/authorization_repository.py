"""Submit authorizations whose charges are all settled: what was captured against each, and its release."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, bindparam, text

from continuity.adapters import sql_rules as R
from continuity.domain.payments import IN_FLIGHT, UNANSWERED, AttemptStatus, PaymentStatus, attempt_key
from continuity.domain.sales_order import OrderStatus
from continuity.services.ports import SettleableAuthorization

_APPROVED, _AUTHORIZED = AttemptStatus.APPROVED, PaymentStatus.AUTHORIZED

# Approved submit authorizations of authorized payments that hold no charge still to capture (no
# installment linked to them authorized or unknown, no capture against them in flight), with what was
# captured against them and their latest release attempt (continuity orders: a plain sales order has no
# fulfilment here yet, so its authorization is left to capture). Payments still 'authorized' are few (the
# partial index ix_payments_authorized, migration 0010): the walk never grows with history.
_SETTLEABLE = (
    "SELECT p.payment_id, p.sales_id, a.idempotency_key, a.card_token, a.gateway_reference, a.amount_minor, "
    "a.currency, (SELECT COALESCE(SUM(c.amount_minor), 0) FROM payment_attempts c "
    " WHERE c.authorization_reference = a.gateway_reference AND c.operation = 'capture' "
    f" AND {R.equals('c.status', _APPROVED)}) AS captured_minor, "
    "(SELECT v.status FROM payment_attempts v WHERE v.subject = 'payment' AND v.sales_id = p.sales_id "
    " AND v.line_no = 0 AND v.seq = p.payment_id AND v.operation = 'void' ORDER BY v.attempt_id DESC LIMIT 1) "
    " AS release_status "
    "FROM payments p JOIN sales_orders so ON so.sales_id = p.sales_id "
    "JOIN payment_attempts a ON a.subject = 'payment' AND a.sales_id = p.sales_id AND a.line_no = 0 "
    f" AND a.seq = p.payment_id AND a.operation = 'authorize' AND {R.equals('a.status', _APPROVED)} "
    f"WHERE {R.equals('p.status', _AUTHORIZED)} AND so.is_continuity_parent "
    f"AND {R.not_among('so.status', (OrderStatus.DRAFT, OrderStatus.SUBMITTING, OrderStatus.ON_HOLD))}"
    "{only} AND a.gateway_reference IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM installments i WHERE i.authorization_key = a.idempotency_key "
    f" AND {R.among('i.status', IN_FLIGHT | {_AUTHORIZED})}) "
    "AND NOT EXISTS (SELECT 1 FROM payment_attempts c WHERE c.authorization_reference = a.gateway_reference "
    f" AND c.operation = 'capture' AND {R.among('c.status', UNANSWERED)}) "
    "ORDER BY p.payment_id"
)


class AuthorizationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def settleable(self, sales_ids: list[str] | None = None) -> list[SettleableAuthorization]:
        only = " AND p.sales_id IN :ids" if sales_ids is not None else ""
        statement = text(_SETTLEABLE.format(only=only))
        params: dict[str, object] = {}
        if sales_ids is not None:
            statement = statement.bindparams(bindparam("ids", expanding=True))
            params["ids"] = sales_ids or [""]
        return [SettleableAuthorization(*r) for r in self.conn.execute(statement, params)]

    def add_release_attempt(self, auth: SettleableAuthorization, as_of: date, now: datetime) -> str | None:
        """The one release (void) attempt of what is left of a submit authorization; None when another
        worker wrote it first (its natural key is unique)."""
        key = attempt_key("payment", auth.sales_id, 0, auth.payment_id, "void", 1)
        inserted = self.conn.execute(
            text(
                "INSERT INTO payment_attempts (idempotency_key, subject, sales_id, line_no, seq, operation, attempt_no, "
                "card_token, amount_minor, currency, status, reason, authorization_reference, as_of, created_at) "
                "VALUES (:key, 'payment', :sales_id, 0, :seq, 'void', 1, :token, :amount, :currency, "
                f"{R.lit(AttemptStatus.PENDING)}, '', "
                ":reference, :as_of, :now) ON CONFLICT DO NOTHING"
            ),
            {
                "key": key,
                "sales_id": auth.sales_id,
                "seq": auth.payment_id,
                "token": auth.card_token,
                "amount": auth.left_minor,
                "currency": auth.currency,
                "reference": auth.reference,
                "as_of": as_of,
                "now": now,
            },
        ).rowcount
        return key if inserted else None
