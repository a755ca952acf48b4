"""Set-based creation of child orders: a handful of statements per chunk of parent lines.

Per chunk, in one transaction: claim the next parent lines with due work (SKIP LOCKED on
PostgreSQL) and stage their due occurrences in a scratch table in the same statement, then
INSERT … SELECT the child orders, their lines and (when billed per shipment) their charge, and
UPDATE the occurrences. Child sales_id and the unique (parent_sales_id, parent_line_no,
parent_seq) of child lines are natural keys: a re-run or a second worker inserts nothing twice
(ON CONFLICT DO NOTHING).

Speed: every statement walks the chunk in parent key order through index lookups, never a scan
of a whole table (the chunk drives each join: ``CROSS JOIN`` fixes the join order on SQLite, and
the occurrence update looks its rows up by key). Child keys (PARENT-LINE-SEQ) sort right after
their parent's key, so the inserts go through each B-tree in order. Figures: README, "Benchmark".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, text

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.payments import PARENT_PAYMENT_HOLD
from continuity.adapters.batch.sql import (
    as_text,
    bulk_transaction,
    filters_sql,
    is_postgres,
    skip_locked,
    sql_text,
    temp_table,
)
from continuity.domain.card import month_index
from continuity.domain.holds import PARENT_PAYMENT, PAYMENT_DECLINED, PAYMENT_UNANSWERED
from continuity.domain.payments import PaymentStatus
from continuity.domain.sales_order import LineStatus, OrderStatus
from continuity.domain.schedule import OccurrenceStatus
from continuity.domain.tax import ChargeKind
from continuity.services.jobs.records import ChildOrderQuery, ChunkResult

#: Open continuity lines of open parent orders make child orders, and so do those of a parent held by hand
#: (its children are made on hold with its code); a parent held by its submit's payment makes none.
_HELD_BY_HAND = (
    f"{R.equals('so.status', OrderStatus.ON_HOLD)} AND so.hold_code <> '' "
    f"AND so.hold_code NOT IN ('{PAYMENT_DECLINED}', '{PAYMENT_UNANSWERED}')"
)
_OPEN_LINE = (
    f"{R.equals('cl.status', LineStatus.OPEN)} AND ({R.equals('so.status', OrderStatus.OPEN)} OR ({_HELD_BY_HAND}))"
)

DUE_COLUMNS = """
    sales_id VARCHAR(40), line_no INTEGER, seq INTEGER, item_id VARCHAR(40), quantity INTEGER,
    price_minor BIGINT, currency VARCHAR(3), ship_date DATE, child_sales_id VARCHAR(60),
    child_line_no INTEGER, is_lead INTEGER, child_amount BIGINT, account VARCHAR(40),
    parent_item_id VARCHAR(40), pay_later INTEGER, held INTEGER, expired INTEGER,
    program_id VARCHAR(40), included INTEGER, region VARCHAR(10), ship_kind VARCHAR(20),
    ship_minor BIGINT, charge_minor BIGINT, tax_minor BIGINT,
    hold_code VARCHAR(40), hold_note TEXT,
    PRIMARY KEY (sales_id, line_no, seq)
"""


class ChildOrderStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def count_due_lines(self, q: ChildOrderQuery) -> int:
        with self.engine.connect() as conn:
            count: int = conn.execute(
                sql_text(
                    "SELECT COUNT(*) FROM continuity_lines cl JOIN sales_orders so ON so.sales_id = cl.sales_id "
                    "WHERE " + _OPEN_LINE + filters_sql(q.item_id, q.sales_id) + " AND EXISTS (" + _DUE_OCCURRENCE + ")"
                ),
                _params(q),
            ).scalar_one()
        return count

    def create_chunk(self, q: ChildOrderQuery, after: tuple[str, int] | None, now: datetime) -> ChunkResult:
        with bulk_transaction(self.engine) as conn:
            _plan_by_key(conn)
            claimed, last_key, skipped, any_held = _claim_and_stage(conn, q, after)
            if not claimed:
                return ChunkResult(0, 0, 0, 0, None, [])
            if q.cap:
                _keep_first_children(conn, q.cap)
            if _priced(conn):
                _price_lines(conn)
            created, held, ids = _insert_children(conn, q, now, any_held)
            _insert_lines_and_charges(conn, q)
            _mark_occurrences(conn)
        return ChunkResult(claimed, created, held, skipped, last_key, ids)


def _plan_by_key(conn: Connection) -> None:
    """PostgreSQL: a chunk is a few thousand keys, each best looked up through an index (nested
    loops). Left alone, its planner hashes or merge-joins whole tables for every chunk (seq scan of
    a million occurrences and cards, merge joins from the first key), which makes a run quadratic in
    the number of parents; and JIT compiled these statements for longer than they ran."""
    if is_postgres(conn):
        for setting in ("enable_hashjoin", "enable_mergejoin", "jit"):
            conn.execute(text(f"SET LOCAL {setting} = off"))


_DUE_OCCURRENCE = (
    "SELECT 1 FROM schedule_occurrences o WHERE o.sales_id = cl.sales_id AND o.line_no = cl.line_no "
    f"AND {R.occurrence_due('o')}"
)


def _params(q: ChildOrderQuery) -> dict[str, object]:
    return {
        "as_of": q.as_of,
        "due_until": q.due_until,
        "item_id": q.item_id,
        "sales_id": q.sales_id,
        "chunk": q.chunk_size,
        "month_index": month_index(q.as_of.year, q.as_of.month),
    }


def _claim_and_stage(
    conn: Connection, q: ChildOrderQuery, after: tuple[str, int] | None
) -> tuple[int, tuple[str, int] | None, int, bool]:
    """Claim the next chunk of parent lines with due work, in key order, and stage their due
    occurrences in tmp_due; returns (lines claimed, last line key, occurrences skipped for an
    expired card, whether any child is held). Every claimed line has a due occurrence, so tmp_due
    holds all of them."""
    temp_table(conn, "tmp_due", DUE_COLUMNS)
    # a child's lines by its key (its amount is summed by child; PostgreSQL plans the chunk with nested loops)
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_tmp_due_child ON tmp_due (child_sales_id)"))
    conn.execute(
        sql_text(_STAGE.format(claim=_claim_sql(conn, q, after))),
        {**_params(q), "after_id": after[0] if after else None, "after_line": after[1] if after else None},
    )
    claimed, skipped = conn.execute(
        sql_text(
            "SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT sales_id, line_no FROM tmp_due) AS lines), "
            "(SELECT COUNT(*) FROM tmp_due WHERE expired = 1)"
        )
    ).one()
    if not claimed:
        return 0, None, 0, False
    last = conn.execute(
        sql_text("SELECT sales_id, line_no FROM tmp_due ORDER BY sales_id DESC, line_no DESC LIMIT 1")
    ).one()
    if skipped:
        conn.execute(sql_text("DELETE FROM tmp_due WHERE expired = 1"))
    return claimed, (last[0], last[1]), skipped, _mark_held(conn, q) > 0


def _claim_sql(conn: Connection, q: ChildOrderQuery, after: tuple[str, int] | None) -> str:
    cursor = " AND (cl.sales_id, cl.line_no) > (:after_id, :after_line)" if after else ""
    order = (
        "(SELECT MIN(o.ship_date) FROM schedule_occurrences o WHERE o.sales_id = cl.sales_id "
        f"AND o.line_no = cl.line_no AND {R.equals('o.status', OccurrenceStatus.PENDING)}), "
        if q.cap
        else ""
    )
    return (
        "SELECT cl.sales_id, cl.line_no, cl.item_id, cl.program_id, cl.card_token, so.account, so.hold_code, "
        "so.hold_reason, "
        "CASE WHEN cl.payment_schedule_id IS NULL AND NOT cl.bill_up_front THEN 1 ELSE 0 END AS pay_later, "
        "CASE WHEN so.prices_include_tax THEN 1 ELSE 0 END AS included "
        "FROM continuity_lines cl JOIN sales_orders so ON so.sales_id = cl.sales_id "
        "WHERE "
        + _OPEN_LINE
        + filters_sql(q.item_id, q.sales_id)
        + cursor
        + " AND EXISTS ("
        + _DUE_OCCURRENCE
        + ")"
        + f" ORDER BY {order}cl.sales_id, cl.line_no LIMIT :chunk"
        + skip_locked(conn, "cl")
    )


_OWN_CHILD = "o.sales_id || '-' || " + as_text("o.line_no") + " || '-' || "
_SAME_LINE_DUE = (
    "FROM schedule_occurrences o2 WHERE o2.sales_id = o.sales_id AND o2.line_no = o.line_no "
    f"AND {R.occurrence_due('o2')}"
)
# The claimed lines (a subquery: ORDER BY … LIMIT, FOR UPDATE SKIP LOCKED on PostgreSQL) drive the
# join; CROSS JOIN keeps SQLite from scanning schedule_occurrences (or building a Bloom filter over
# it) for every chunk. Each staged occurrence knows its child: the child's key, its line number in
# the child, whether it is the child's first occurrence ("is_lead": it carries the order and the
# charge) and the child's amount, so the inserts below need no GROUP BY or window sort. With
# consolidate_past_orders all due occurrences of a line share one child (the subqueries then run).
_STAGE = (
    "INSERT INTO tmp_due (sales_id, line_no, seq, item_id, quantity, price_minor, currency, ship_date, "
    "child_sales_id, child_line_no, is_lead, child_amount, account, parent_item_id, pay_later, held, expired, "
    "program_id, included, charge_minor, tax_minor, hold_code, hold_note) "
    "SELECT o.sales_id, o.line_no, o.seq, o.item_id, o.quantity, o.price_minor, o.currency, o.ship_date, "
    f"CASE WHEN p.consolidate_past_orders THEN {_OWN_CHILD}"
    + as_text(f"(SELECT MIN(o2.seq) {_SAME_LINE_DUE})")
    + f" ELSE {_OWN_CHILD}"
    + as_text("o.seq")
    + " END, "
    f"CASE WHEN p.consolidate_past_orders THEN (SELECT COUNT(*) {_SAME_LINE_DUE} AND o2.seq <= o.seq) ELSE 1 END, "
    f"CASE WHEN p.consolidate_past_orders AND EXISTS (SELECT 1 {_SAME_LINE_DUE} AND o2.seq < o.seq) THEN 0 ELSE 1 END, "
    "CASE WHEN p.consolidate_past_orders THEN (SELECT SUM(o2.price_minor * o2.quantity) "
    f"{_SAME_LINE_DUE}) ELSE o.price_minor * o.quantity END, "
    "t.account, t.item_id, t.pay_later, CASE WHEN t.hold_code <> '' THEN 1 ELSE 0 END, "
    f"CASE WHEN {R.card_expired('c')} THEN 1 ELSE 0 END, "
    "t.program_id, t.included, 0, 0, t.hold_code, t.hold_reason "
    "FROM ({claim}) t CROSS JOIN schedule_occurrences o "
    "JOIN programs p ON p.program_id = t.program_id "
    "LEFT JOIN cards c ON c.token = t.card_token "
    f"WHERE o.sales_id = t.sales_id AND o.line_no = t.line_no AND {R.occurrence_due('o')}"
)


def _mark_held(conn: Connection, q: ChildOrderQuery) -> int:
    """Children of a parent held by hand are on hold with its code and note (staged so); those of a parent
    with an installment declined or unresolved and due are created on hold for it. The (usually few) such
    installments come from ix_installments_due, once per chunk. Returns how many staged rows are held."""
    conn.execute(
        sql_text(
            "UPDATE tmp_due SET held = 1, hold_code = :code, hold_note = :note WHERE hold_code = '' "
            "AND sales_id IN (SELECT i.parent_sales_id FROM installments i "
            f"WHERE {R.payment_problem('i')} AND i.due_date <= :as_of)"
        ),
        {"as_of": q.as_of, "code": PARENT_PAYMENT, "note": PARENT_PAYMENT_HOLD},
    )
    held: int = conn.execute(sql_text("SELECT COUNT(*) FROM tmp_due WHERE held = 1")).scalar_one()
    return held


def _keep_first_children(conn: Connection, cap: int) -> None:
    conn.execute(
        sql_text(
            "DELETE FROM tmp_due WHERE child_sales_id NOT IN (SELECT child_sales_id FROM ("
            "SELECT child_sales_id, MIN(ship_date) AS first_date FROM tmp_due GROUP BY child_sales_id "
            "ORDER BY first_date, child_sales_id LIMIT :cap) AS kept)"
        ),
        {"cap": cap},
    )


_PRICED = (
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM tax_rates) OR EXISTS (SELECT 1 FROM programs WHERE shipping_kind <> "
    f"{R.lit(ChargeKind.NONE)}) OR EXISTS (SELECT 1 FROM items WHERE shipping_kind <> {R.lit(ChargeKind.NONE)}) "
    "THEN 1 ELSE 0 END"
)


def _priced(conn: Connection) -> bool:
    """Whether any rate or shipping charge is set up at all (else every charge and tax is 0: nothing to do)."""
    return bool(conn.execute(sql_text(_PRICED)).scalar_one())


_FIRST_ADDRESS = (
    "(SELECT UPPER(a.country) FROM addresses a WHERE a.account = tmp_due.account "
    "ORDER BY CASE WHEN a.purpose = 'delivery' THEN 0 ELSE 1 END, a.id LIMIT 1)"
)
_PARENT_CHARGE = (
    f"FROM items i WHERE i.item_id = tmp_due.parent_item_id AND i.shipping_kind <> {R.lit(ChargeKind.NONE)}"
)
_ITEM_RATE = R.rate_in_force(
    "(SELECT i.tax_group FROM items i WHERE i.item_id = tmp_due.item_id)", "tmp_due.region", "tmp_due.ship_date"
)
_CHARGE_RATE = R.rate_in_force(
    "(SELECT i.tax_group FROM items i WHERE i.item_id = tmp_due.parent_item_id)", "tmp_due.region", "tmp_due.ship_date"
)


def _price_lines(conn: Connection) -> None:
    """Each staged line's shipping charge and tax (domain.tax.Pricing.line, in SQL: the parent product's
    own charge, else its program's; each line taxed at the rate of its ship date in the customer's region,
    goods and charge rounded half-up apart), then each child's amount: the sum of its lines' totals."""
    conn.execute(
        sql_text(
            f"UPDATE tmp_due SET region = COALESCE({_FIRST_ADDRESS}, ''), "
            f"ship_kind = COALESCE((SELECT i.shipping_kind {_PARENT_CHARGE}), "
            "(SELECT p.shipping_kind FROM programs p WHERE p.program_id = tmp_due.program_id)), "
            f"ship_minor = COALESCE((SELECT i.shipping_minor {_PARENT_CHARGE}), "
            "(SELECT p.shipping_minor FROM programs p WHERE p.program_id = tmp_due.program_id))"
        )
    )
    conn.execute(
        sql_text(
            "UPDATE tmp_due SET charge_minor = " + R.charge_minor("ship_kind", "ship_minor", "quantity", "is_lead")
        )
    )
    goods_tax = R.tax_minor("price_minor * quantity", _ITEM_RATE, "included")
    charge_tax = R.tax_minor("charge_minor", _CHARGE_RATE, "included")
    conn.execute(sql_text(f"UPDATE tmp_due SET tax_minor = {goods_tax} + {charge_tax}"))
    # each child's sum worked out once, by grouping, its lines found by key (ix_tmp_due_child): a subquery per
    # child over an unindexed chunk was quadratic in the chunk size (100,000 children: 217 s on SQLite, and
    # 105 s on PostgreSQL, which has no hash join for the chunk, while it knew nothing of tmp_due's rows)
    if is_postgres(conn):  # its row counts, or its planner takes the chunk for 3 rows and skips the index
        conn.execute(text("ANALYZE tmp_due"))
    conn.execute(
        sql_text(
            "UPDATE tmp_due SET child_amount = c.amount FROM (SELECT d.child_sales_id, SUM(d.price_minor * "
            "d.quantity + d.charge_minor + CASE WHEN d.included = 1 THEN 0 ELSE d.tax_minor END) AS amount "
            "FROM tmp_due d GROUP BY d.child_sales_id) c WHERE c.child_sales_id = tmp_due.child_sales_id "
            "AND tmp_due.is_lead = 1"
        )
    )


_INSERT_CHILDREN = (
    "INSERT INTO sales_orders (sales_id, account, order_date, currency, status, hold_reason, hold_code, "
    "is_continuity_parent, parent_sales_id, created_at, prices_include_tax) "
    f"SELECT child_sales_id, account, :as_of, currency, CASE WHEN held = 1 THEN {R.lit(OrderStatus.ON_HOLD)} "
    f"ELSE {R.lit(OrderStatus.OPEN)} END, "
    "CASE WHEN held = 1 THEN hold_note ELSE '' END, CASE WHEN held = 1 THEN hold_code ELSE '' END, FALSE, "
    "sales_id, :now, included = 1 FROM tmp_due WHERE is_lead = 1{only} "
    "ON CONFLICT DO NOTHING"
)


def _insert_children(conn: Connection, q: ChildOrderQuery, now: datetime, any_held: bool) -> tuple[int, int, list[str]]:
    """Insert the chunk's child orders; returns (created, created on hold, their ids if wanted).
    The ids come back (RETURNING) only when the caller wants them: fetching a row per child costs
    more than inserting it. Otherwise the counts are row counts (held and not held apart)."""
    params = {"as_of": q.as_of, "now": now}
    if q.want_ids:
        rows = conn.execute(sql_text(_INSERT_CHILDREN.format(only="") + " RETURNING sales_id, status"), params).all()
        return len(rows), sum(1 for r in rows if r[1] == OrderStatus.ON_HOLD), [r[0] for r in rows]
    if not any_held:
        return conn.execute(sql_text(_INSERT_CHILDREN.format(only="")), params).rowcount, 0, []
    held = conn.execute(sql_text(_INSERT_CHILDREN.format(only=" AND held = 1")), params).rowcount
    return held + conn.execute(sql_text(_INSERT_CHILDREN.format(only=" AND held = 0")), params).rowcount, held, []


def _insert_lines_and_charges(conn: Connection, q: ChildOrderQuery) -> None:
    conn.execute(
        sql_text(
            "INSERT INTO sales_lines (sales_id, line_no, item_id, quantity, unit_price_minor, currency, status, "
            "parent_sales_id, parent_line_no, parent_seq, charge_minor, tax_minor) "
            f"SELECT child_sales_id, child_line_no, item_id, quantity, price_minor, currency, {R.lit(LineStatus.OPEN)}, "
            "sales_id, line_no, seq, charge_minor, tax_minor FROM tmp_due WHERE 1 = 1 ON CONFLICT DO NOTHING"
        )
    )
    conn.execute(
        sql_text(
            "INSERT INTO installments (sales_id, line_no, seq, due_date, amount_minor, currency, status, "
            "parent_sales_id, parent_line_no, item_id) "
            f"SELECT child_sales_id, 0, 1, :as_of, child_amount, currency, {R.lit(PaymentStatus.NOT_SUBMITTED)}, "
            "sales_id, line_no, parent_item_id FROM tmp_due WHERE pay_later = 1 AND is_lead = 1 ON CONFLICT DO NOTHING"
        ),
        {"as_of": q.as_of},
    )


def _mark_occurrences(conn: Connection) -> None:
    """SQLite looks the chunk's occurrences up by key (its UPDATE … FROM scans the whole table);
    PostgreSQL joins (a correlated subquery per row costs it more than the join)."""
    created = OccurrenceStatus.CHILD_CREATED  # from pending only (its transition table)
    if is_postgres(conn):
        conn.execute(
            sql_text(
                R.set_status(
                    "schedule_occurrences",
                    created,
                    "FROM tmp_due d WHERE schedule_occurrences.sales_id = d.sales_id "
                    "AND schedule_occurrences.line_no = d.line_no AND schedule_occurrences.seq = d.seq",
                    also="child_sales_id = d.child_sales_id",
                )
            )
        )
        return
    conn.execute(
        sql_text(
            R.set_status(
                "schedule_occurrences",
                created,
                "WHERE (sales_id, line_no, seq) IN (SELECT sales_id, line_no, seq FROM tmp_due)",
                also="child_sales_id = (SELECT d.child_sales_id FROM tmp_due d WHERE d.sales_id = "
                "schedule_occurrences.sales_id AND d.line_no = schedule_occurrences.line_no "
                "AND d.seq = schedule_occurrences.seq)",
            )
        )
    )
