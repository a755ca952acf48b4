"""Set-based creation of child orders: a handful of statements per chunk of parent lines.

Per chunk, in one transaction: claim parent lines (SKIP LOCKED on PostgreSQL), stage their due
occurrences in a scratch table, then INSERT … SELECT the child orders, their lines and (when
billed per shipment) their charge, and UPDATE the occurrences. Child sales_id and the unique
(parent_sales_id, parent_line_no, parent_seq) of child lines are natural keys: a re-run or a
second worker inserts nothing twice (ON CONFLICT DO NOTHING).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from continuity.adapters.batch.payments import PARENT_PAYMENT_HOLD
from continuity.adapters.batch.sql import as_text, filters_sql, skip_locked, sql_text, temp_table, transaction

DUE_COLUMNS = """
    sales_id VARCHAR(40), line_no INTEGER, seq INTEGER, item_id VARCHAR(40), quantity INTEGER,
    price_minor BIGINT, currency VARCHAR(3), ship_date DATE, child_sales_id VARCHAR(60),
    account VARCHAR(40), parent_item_id VARCHAR(40), pay_later INTEGER, held INTEGER, expired INTEGER,
    PRIMARY KEY (sales_id, line_no, seq)
"""


@dataclass
class ChunkResult:
    claimed: int
    created: int
    held: int
    skipped_expired: int
    last_key: tuple[str, int] | None
    new_children: list[str]


@dataclass
class ChildOrderQuery:
    as_of: date
    due_until: date  # as_of + delivery_lead_days
    item_id: str | None
    sales_id: str | None
    chunk_size: int
    cap: int  # remaining child orders allowed in this run; 0 = no limit


class ChildOrderStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def count_due_lines(self, q: ChildOrderQuery) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sql_text(
                "SELECT COUNT(*) FROM continuity_lines cl JOIN sales_orders so ON so.sales_id = cl.sales_id "
                "WHERE cl.status = 'open' AND so.status = 'open'" + filters_sql(q.item_id, q.sales_id)
                + " AND EXISTS (" + _DUE_OCCURRENCE + ")"
            ), _params(q)).scalar_one()

    def create_chunk(self, q: ChildOrderQuery, after: tuple[str, int] | None, now: datetime) -> ChunkResult:
        with transaction(self.engine) as conn:
            claimed, last_key = _claim_lines(conn, q, after)
            if not claimed:
                return ChunkResult(0, 0, 0, 0, None, [])
            _stage_due(conn, q)
            skipped = conn.execute(sql_text("DELETE FROM tmp_due WHERE expired = 1")).rowcount
            if q.cap:
                _keep_first_children(conn, q.cap)
            children = _insert_children(conn, q, now)
            _insert_lines_and_charges(conn, q)
            _mark_occurrences(conn)
        held = sum(1 for _, status in children if status == "on_hold")
        return ChunkResult(claimed, len(children), held, skipped, last_key, [c for c, _ in children])


_DUE_OCCURRENCE = (
    "SELECT 1 FROM schedule_occurrences o WHERE o.sales_id = cl.sales_id AND o.line_no = cl.line_no "
    "AND o.status = 'pending' AND o.ship_date <= :due_until"
)


def _params(q: ChildOrderQuery) -> dict:
    return {"as_of": q.as_of, "due_until": q.due_until, "item_id": q.item_id, "sales_id": q.sales_id,
            "chunk": q.chunk_size, "month_index": q.as_of.year * 12 + q.as_of.month}


def _claim_lines(conn: Connection, q: ChildOrderQuery, after: tuple[str, int] | None):  # type: ignore[no-untyped-def]
    """Claim the next chunk of parent lines with due work, in key order, straight into tmp_claim."""
    temp_table(conn, "tmp_claim", "sales_id VARCHAR(40), line_no INTEGER, PRIMARY KEY (sales_id, line_no)")
    cursor = " AND (cl.sales_id, cl.line_no) > (:after_id, :after_line)" if after else ""
    order = ("(SELECT MIN(o.ship_date) FROM schedule_occurrences o WHERE o.sales_id = cl.sales_id "
             "AND o.line_no = cl.line_no AND o.status = 'pending'), " if q.cap else "")
    claimed = conn.execute(sql_text(
        "INSERT INTO tmp_claim (sales_id, line_no) "
        "SELECT cl.sales_id, cl.line_no FROM continuity_lines cl JOIN sales_orders so ON so.sales_id = cl.sales_id "
        "WHERE cl.status = 'open' AND so.status = 'open'" + filters_sql(q.item_id, q.sales_id) + cursor
        + " AND EXISTS (" + _DUE_OCCURRENCE + ")"
        + f" ORDER BY {order}cl.sales_id, cl.line_no LIMIT :chunk" + skip_locked(conn, "cl")
    ), {**_params(q), "after_id": after[0] if after else None, "after_line": after[1] if after else None}).rowcount
    if not claimed:
        return 0, None
    last = conn.execute(sql_text(
        "SELECT sales_id, line_no FROM tmp_claim ORDER BY sales_id DESC, line_no DESC LIMIT 1")).one()
    return claimed, (last[0], last[1])


def _stage_due(conn: Connection, q: ChildOrderQuery) -> None:
    temp_table(conn, "tmp_due", DUE_COLUMNS)
    own_child = ("o.sales_id || '-' || " + as_text("o.line_no") + " || '-' || ")
    conn.execute(sql_text(
        "INSERT INTO tmp_due SELECT o.sales_id, o.line_no, o.seq, o.item_id, o.quantity, o.price_minor, "
        "o.currency, o.ship_date, "
        f"CASE WHEN p.consolidate_past_orders THEN {own_child}"
        + as_text("(SELECT MIN(o2.seq) FROM schedule_occurrences o2 WHERE o2.sales_id = o.sales_id "
                  "AND o2.line_no = o.line_no AND o2.status = 'pending' AND o2.ship_date <= :due_until)")
        + f" ELSE {own_child}" + as_text("o.seq") + " END, "
        "so.account, cl.item_id, "
        "CASE WHEN cl.payment_schedule_id IS NULL AND NOT cl.bill_up_front THEN 1 ELSE 0 END, "
        "CASE WHEN EXISTS (SELECT 1 FROM installments i WHERE i.parent_sales_id = cl.sales_id "
        "  AND i.status IN ('declined', 'unknown') AND i.due_date <= :as_of) THEN 1 ELSE 0 END, "
        "CASE WHEN c.expiry_year * 12 + c.expiry_month < :month_index THEN 1 ELSE 0 END "
        "FROM tmp_claim t "
        "JOIN schedule_occurrences o ON o.sales_id = t.sales_id AND o.line_no = t.line_no "
        "JOIN continuity_lines cl ON cl.sales_id = t.sales_id AND cl.line_no = t.line_no "
        "JOIN programs p ON p.program_id = cl.program_id "
        "JOIN sales_orders so ON so.sales_id = t.sales_id "
        "LEFT JOIN cards c ON c.token = cl.card_token "
        "WHERE o.status = 'pending' AND o.ship_date <= :due_until"
    ), _params(q))


def _keep_first_children(conn: Connection, cap: int) -> None:
    conn.execute(sql_text(
        "DELETE FROM tmp_due WHERE child_sales_id NOT IN (SELECT child_sales_id FROM ("
        "SELECT child_sales_id, MIN(ship_date) AS first_date FROM tmp_due GROUP BY child_sales_id "
        "ORDER BY first_date, child_sales_id LIMIT :cap) AS kept)"
    ), {"cap": cap})


def _insert_children(conn: Connection, q: ChildOrderQuery, now: datetime) -> list[tuple[str, str]]:
    rows = conn.execute(sql_text(
        "INSERT INTO sales_orders (sales_id, account, order_date, currency, status, hold_reason, "
        "is_continuity_parent, parent_sales_id, created_at) "
        "SELECT child_sales_id, MIN(account), :as_of, MIN(currency), "
        "CASE WHEN MAX(held) = 1 THEN 'on_hold' ELSE 'open' END, "
        "CASE WHEN MAX(held) = 1 THEN :hold_reason ELSE '' END, FALSE, MIN(sales_id), :now "
        "FROM tmp_due WHERE 1 = 1 GROUP BY child_sales_id "
        "ON CONFLICT DO NOTHING RETURNING sales_id, status"
    ), {"as_of": q.as_of, "now": now, "hold_reason": PARENT_PAYMENT_HOLD}).all()
    return [(r[0], r[1]) for r in rows]


def _insert_lines_and_charges(conn: Connection, q: ChildOrderQuery) -> None:
    conn.execute(sql_text(
        "INSERT INTO sales_lines (sales_id, line_no, item_id, quantity, unit_price_minor, currency, status, "
        "parent_sales_id, parent_line_no, parent_seq) "
        "SELECT child_sales_id, ROW_NUMBER() OVER (PARTITION BY child_sales_id ORDER BY seq), item_id, quantity, "
        "price_minor, currency, 'open', sales_id, line_no, seq FROM tmp_due WHERE 1 = 1 ON CONFLICT DO NOTHING"
    ))
    conn.execute(sql_text(
        "INSERT INTO installments (sales_id, line_no, seq, due_date, amount_minor, currency, status, "
        "parent_sales_id, parent_line_no, item_id) "
        "SELECT child_sales_id, 0, 1, :as_of, SUM(price_minor * quantity), MIN(currency), 'not_submitted', "
        "MIN(sales_id), MIN(line_no), MIN(parent_item_id) FROM tmp_due WHERE pay_later = 1 "
        "GROUP BY child_sales_id ON CONFLICT DO NOTHING"
    ), {"as_of": q.as_of})


def _mark_occurrences(conn: Connection) -> None:
    conn.execute(sql_text(
        "UPDATE schedule_occurrences SET status = 'child_created', child_sales_id = d.child_sales_id "
        "FROM tmp_due d WHERE schedule_occurrences.sales_id = d.sales_id "
        "AND schedule_occurrences.line_no = d.line_no AND schedule_occurrences.seq = d.seq "
        "AND schedule_occurrences.status = 'pending'"
    ))
