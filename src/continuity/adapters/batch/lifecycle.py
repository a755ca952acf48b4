"""Set-based order lifecycle statements: fulfil, invoice and close. Every status change is recorded in
the audit trail by one INSERT … SELECT with the change's own WHERE, in its transaction, just before it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, Engine

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.audit import audit_orders, audit_select, status_json
from continuity.adapters.batch.sql import (
    as_text,
    is_postgres,
    key_in,
    sql_text,
    status_updates,
    temp_table,
)
from continuity.domain.payments import FINAL, PaymentStatus
from continuity.domain.sales_order import LineStatus, OrderStatus
from continuity.domain.schedule import OccurrenceStatus
from continuity.services.ports import Clock

S, L, Occ = OrderStatus, LineStatus, OccurrenceStatus

_BY_CHILD = "ix_schedule_occurrences_child_sales_id"


class LifecycleStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock  # the audit entries' time

    def fulfil_due_children(self, as_of: date, item_id: str | None) -> int:
        """Stand-in for the warehouse: release and ship open child orders whose ship date has come."""
        where = (
            f"WHERE {R.among('status', (S.OPEN, S.RELEASED))} AND parent_sales_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM installments i WHERE i.sales_id = sales_orders.sales_id "
            f" AND {R.not_among('i.status', (PaymentStatus.PAID, PaymentStatus.AUTHORIZED))}) "
            "AND NOT EXISTS (SELECT 1 FROM schedule_occurrences o WHERE o.child_sales_id = sales_orders.sales_id"
            " AND o.ship_date > :as_of)"
        )
        if item_id:
            where += (
                " AND EXISTS (SELECT 1 FROM continuity_lines cl WHERE cl.sales_id = sales_orders.parent_sales_id"
                " AND cl.item_id = :item_id)"
            )
        params = {"as_of": as_of, "item_id": item_id}
        with status_updates(self.engine) as conn:
            audit_orders(conn, self.clock.now(), "fulfil-children", S.SHIPPED.value, where, params, S.SHIPPED)
            # released, then shipped: the two steps of the order's transition table, in one transaction
            conn.execute(sql_text(R.set_status("sales_orders", S.RELEASED, where, also="released_on = :as_of")), params)
            return conn.execute(
                sql_text(
                    R.set_status(
                        "sales_orders",
                        S.SHIPPED,
                        where,
                        also="released_on = :as_of, shipped_on = :as_of, tracking_number = 'AUTO-' || sales_id",
                    )
                ),
                params,
            ).rowcount

    def invoice_shipped_children(self, as_of: date) -> int:
        """Invoice child orders shipped on or before as_of, their occurrences and their lines. The
        shipped orders are found through the partial index ix_sales_orders_shipped (migration 0009)
        and kept in a scratch table that drives every statement by key: the work grows with what was
        shipped since the last run, never with the years of children already invoiced."""
        with status_updates(self.engine) as conn:
            temp_table(conn, "tmp_invoicing", "sales_id VARCHAR(60) PRIMARY KEY")
            count = conn.execute(
                sql_text(
                    "INSERT INTO tmp_invoicing (sales_id) SELECT sales_id FROM sales_orders "
                    f"WHERE {R.equals('status', S.SHIPPED)} AND shipped_on <= :as_of AND parent_sales_id IS NOT NULL"
                ),
                {"as_of": as_of},
            ).rowcount
            if not count:
                return 0
            invoicing = "SELECT sales_id FROM tmp_invoicing"
            where = "WHERE " + key_in(conn, "sales_id", invoicing) + " AND " + R.equals("status", S.SHIPPED)
            audit_orders(conn, self.clock.now(), "invoice-shipped", S.INVOICED.value, where, {}, S.INVOICED)
            conn.execute(
                sql_text(R.set_status("sales_orders", S.INVOICED, where, also="invoiced_on = :as_of")),
                {"as_of": as_of},
            )
            # by their child's key (SQLite: INDEXED BY, as statistics taken before any child was made
            # would have it read every occurrence)
            table = "schedule_occurrences" + ("" if is_postgres(conn) else " INDEXED BY " + _BY_CHILD)
            occurrences = "WHERE " + key_in(conn, "child_sales_id", invoicing)
            audit_select(
                conn,
                self.clock.now(),
                "invoice-shipped",
                "occurrence",
                "invoiced",
                key="schedule_occurrences.sales_id || ':' || "
                + as_text("schedule_occurrences.line_no")
                + " || ':' || "
                + as_text("schedule_occurrences.seq"),
                sales_id="schedule_occurrences.sales_id",
                before=status_json("status"),
                after=status_json(R.lit(Occ.INVOICED)),
                source=table
                + " "
                + occurrences
                + " AND "
                + R.among("status", R.sources("schedule_occurrences", Occ.INVOICED)),
                params={},
            )
            lines = "WHERE " + key_in(conn, "sales_id", invoicing)
            for statement in R.invoicing_effects(occurrences, lines, occurrences_source=table):
                conn.execute(sql_text(statement))
        return count

    def close_orders(self) -> dict[str, int]:
        """Close parent lines whose occurrences are all invoiced, skipped or cancelled (and paid), then
        the parent orders left with no open or paused line. The closable lines are worked out once,
        into a scratch table; everything else is by key. What is read whole is the open parents' side
        (their continuity lines, and their orders through a partial index): never the child orders or
        their lines, which grow with every month of history."""
        now = self.clock.now()
        with status_updates(self.engine) as conn:
            temp_table(conn, "tmp_closing", "sales_id VARCHAR(40), line_no INTEGER, PRIMARY KEY (sales_id, line_no)")
            lines = conn.execute(
                sql_text(
                    "INSERT INTO tmp_closing (sales_id, line_no) SELECT sales_id, line_no FROM continuity_lines "
                    + _CLOSABLE_LINES
                )
            ).rowcount
            closing = "WHERE (sales_id, line_no) IN (SELECT sales_id, line_no FROM tmp_closing) AND " + R.equals(
                "status", L.OPEN
            )
            if lines:
                _audit_closed_lines(conn, now, "continuity_lines", closing, program_id="program_id")
                conn.execute(sql_text(R.set_status("continuity_lines", L.CLOSED, closing)))
                conn.execute(sql_text(R.set_status("sales_lines", L.CLOSED, closing)))
            lines += _close_ordinary_lines(conn, now)
            orders_where = (  # the open parents, through ix_sales_orders_open_parents (migration 0009)
                f"WHERE {R.equals('status', S.OPEN)} AND is_continuity_parent "
                "AND NOT EXISTS (SELECT 1 FROM continuity_lines cl WHERE cl.sales_id = sales_orders.sales_id "
                f" AND {R.equals('cl.status', L.OPEN)}) "
                "AND NOT EXISTS (SELECT 1 FROM sales_lines sl WHERE sl.sales_id = sales_orders.sales_id "
                f" AND {R.equals('sl.status', L.OPEN)} AND " + _ORDINARY.format(line="sl") + ")"
            )
            audit_select(
                conn,
                now,
                "close-orders",
                "order",
                "closed",
                key="sales_id",
                sales_id="sales_id",
                before=status_json("status"),
                after=status_json(R.lit(S.CLOSED)),
                source="sales_orders " + orders_where,
                params={},
            )
            orders = conn.execute(sql_text(R.set_status("sales_orders", S.CLOSED, orders_where))).rowcount
        return {"lines_closed": lines, "orders_closed": orders}


#: Open parent lines with every occurrence made and none still to ship, and nothing left to charge.
_CLOSABLE_LINES = (
    f"WHERE {R.equals('status', L.OPEN)} "
    "AND planned_count <= (SELECT COUNT(*) FROM schedule_occurrences o "
    " WHERE o.sales_id = continuity_lines.sales_id AND o.line_no = continuity_lines.line_no) "
    "AND NOT EXISTS (SELECT 1 FROM schedule_occurrences o WHERE o.sales_id = continuity_lines.sales_id "
    f" AND o.line_no = continuity_lines.line_no AND {R.among('o.status', (Occ.PENDING, Occ.PAUSED, Occ.CHILD_CREATED))}) "
    "AND NOT EXISTS (SELECT 1 FROM installments i WHERE i.parent_sales_id = continuity_lines.sales_id "
    f" AND i.parent_line_no = continuity_lines.line_no AND {R.not_among('i.status', FINAL)})"
)


#: ``{line}`` (a sales_lines row) is an ordinary line: no continuity line of that number.
_ORDINARY = (
    "NOT EXISTS (SELECT 1 FROM continuity_lines ol WHERE ol.sales_id = {line}.sales_id AND ol.line_no = {line}.line_no)"
)
#: The open ordinary lines of open (mixed) parents whose child order is invoiced and fully charged.
_CLOSABLE_ORDINARY = (
    f"WHERE {R.equals('status', L.OPEN)} AND sales_id IN (SELECT sales_id FROM sales_orders "
    f"WHERE {R.equals('status', S.OPEN)} AND is_continuity_parent) "
    "AND " + _ORDINARY.format(line="sales_lines") + " "
    "AND EXISTS (SELECT 1 FROM sales_lines c WHERE c.parent_sales_id = sales_lines.sales_id "
    f" AND c.parent_line_no = sales_lines.line_no AND {R.equals('c.status', L.CLOSED)}) "
    "AND NOT EXISTS (SELECT 1 FROM sales_lines c JOIN installments i ON i.sales_id = c.sales_id "
    " WHERE c.parent_sales_id = sales_lines.sales_id AND c.parent_line_no = sales_lines.line_no "
    f" AND {R.not_among('i.status', FINAL)})"
)


def _close_ordinary_lines(conn: Connection, now: datetime) -> int:
    """A mixed order's ordinary lines close once the child order that ships them is invoiced and paid."""
    _audit_closed_lines(conn, now, "sales_lines", _CLOSABLE_ORDINARY)
    return conn.execute(sql_text(R.set_status("sales_lines", L.CLOSED, _CLOSABLE_ORDINARY))).rowcount


def _audit_closed_lines(conn: Connection, now: datetime, table: str, where: str, program_id: str = "NULL") -> None:
    """One audit entry per line of ``table`` (continuity_lines or sales_lines) the UPDATE with ``where`` closes."""
    audit_select(
        conn,
        now,
        "close-orders",
        "line",
        L.CLOSED.value,
        key=f"{table}.sales_id || ':' || " + as_text(f"{table}.line_no"),
        sales_id="sales_id",
        program_id=program_id,
        before=status_json("status"),
        after=status_json(R.lit(L.CLOSED)),
        source=f"{table} {where}",
        params={},
    )
