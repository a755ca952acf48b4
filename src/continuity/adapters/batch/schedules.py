"""Chunks of continuity lines with their occurrences, and bulk writes of schedule changes."""

from __future__ import annotations

from dataclasses import asdict, fields

from sqlalchemy import Connection, Date, Engine

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.audit import audit_rows
from continuity.adapters.batch.sql import filters_sql, sql_text, transaction, typed_columns
from continuity.domain.payments import RESHAREABLE
from continuity.domain.sales_order import LineStatus, OrderStatus
from continuity.domain.schedule import OccurrenceStatus
from continuity.services.jobs.records import (
    AdjustmentRow,
    InstallmentRow,
    LineQuery,
    LineState,
    OccurrenceRow,
    ScheduleWrites,
)
from continuity.services.ports import Clock

_PENDING = R.equals("status", OccurrenceStatus.PENDING)

_LINE_COLUMNS = (
    "cl.sales_id, cl.line_no, cl.program_id, cl.item_id, cl.quantity, cl.planned_count, cl.start_date, "
    "cl.start_event, cl.bill_up_front, cl.payment_schedule_id, cl.card_token, cl.status"
)  # LineState's fields, in order


_ADJUSTMENT_COLUMNS = ", ".join(f"a.{f.name}" for f in fields(AdjustmentRow))  # in AdjustmentRow's order


class ScheduleStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock  # the audit entries' time

    def open_lines(self, q: LineQuery, after: tuple[str, int] | None) -> list[LineState]:
        """A chunk of open continuity lines of open parents (keyset order), with their occurrences."""
        where = filters_sql(q.item_id, q.sales_id)
        if q.needs_extension:
            where += (
                " AND NOT cl.bill_up_front AND cl.planned_count > (SELECT COUNT(*) FROM schedule_occurrences o"
                " WHERE o.sales_id = cl.sales_id AND o.line_no = cl.line_no)"
            )
        if after:
            where += " AND (cl.sales_id, cl.line_no) > (:after_id, :after_line)"
        params = {
            "item_id": q.item_id,
            "sales_id": q.sales_id,
            "chunk": q.chunk,
            "after_id": after[0] if after else None,
            "after_line": after[1] if after else None,
        }
        with self.engine.connect() as conn:
            rows = conn.execute(
                typed_columns(
                    sql_text(
                        f"SELECT {_LINE_COLUMNS} FROM continuity_lines cl JOIN sales_orders so ON so.sales_id = cl.sales_id "
                        f"WHERE {R.equals('cl.status', LineStatus.OPEN)} "
                        f"AND {R.among('so.status', (OrderStatus.OPEN, OrderStatus.ON_HOLD))}"
                        + where
                        + " ORDER BY cl.sales_id, cl.line_no LIMIT :chunk"
                    ),
                    "start_date",
                    "bill_up_front",
                ),
                params,
            ).all()
            lines = [LineState(*r) for r in rows]
            if lines:
                _attach_occurrences(conn, lines)
        return lines

    def write(self, w: ScheduleWrites, job: str = "continuity-update") -> None:
        with transaction(self.engine) as conn:
            audit_rows(conn, self.clock.now(), job, w.audit)
            if w.deletes:
                conn.execute(
                    sql_text(
                        "DELETE FROM schedule_occurrences WHERE sales_id = :sales_id "
                        "AND line_no = :line_no "
                        f"AND seq = :seq AND {_PENDING}"
                    ),
                    [asdict(d) for d in w.deletes],
                )
            if w.updates:
                conn.execute(
                    sql_text(
                        "UPDATE schedule_occurrences SET event_id = :event_id, item_id = :item_id, quantity = :quantity, "
                        "price_minor = :price_minor, currency = :currency, ship_date = :ship_date, "
                        "date_basis = :date_basis, "
                        "date_basis_args = :date_basis_args WHERE sales_id = :sales_id "
                        f"AND line_no = :line_no AND seq = :seq AND {_PENDING}"
                    ),
                    [asdict(u) for u in w.updates],
                )
            if w.inserts:
                conn.execute(
                    sql_text(
                        "INSERT INTO schedule_occurrences (sales_id, line_no, seq, event_id, item_id, quantity, "
                        "price_minor, "
                        "currency, ship_date, status, date_basis, date_basis_args) VALUES (:sales_id, :line_no, :seq, "
                        ":event_id, :item_id, :quantity, :price_minor, :currency, :ship_date, "
                        f"{R.lit(OccurrenceStatus.PENDING)}, :date_basis, :date_basis_args) ON CONFLICT DO NOTHING"
                    ),
                    [asdict(i) for i in w.inserts],
                )
            if w.planned_counts:
                conn.execute(
                    sql_text(
                        "UPDATE continuity_lines SET planned_count = :planned_count "
                        "WHERE sales_id = :sales_id"
                        " AND line_no = :line_no"
                    ),
                    [asdict(p) for p in w.planned_counts],
                )
            if w.unit_prices:
                conn.execute(
                    sql_text(
                        "UPDATE sales_lines SET unit_price_minor = :unit_price_minor WHERE "
                        "sales_id = :sales_id AND line_no = :line_no"
                    ),
                    [asdict(p) for p in w.unit_prices],
                )
            if w.installments:
                conn.execute(
                    sql_text(
                        "UPDATE installments SET amount_minor = :amount_minor WHERE sales_id = :sales_id "
                        f"AND line_no = :line_no AND seq = :seq AND {R.among('status', RESHAREABLE)}"
                    ),
                    [asdict(i) for i in w.installments],
                )

    def installments_of(self, lines: list[LineState]) -> dict[tuple[str, int], list[InstallmentRow]]:
        """The installments of a chunk of lines (one range query), by (sales_id, line_no). One whose charge
        is in flight reads so (domain.payments.IN_FLIGHT): it is settled, not re-shared."""
        result: dict[tuple[str, int], list[InstallmentRow]] = {(ln.sales_id, ln.line_no): [] for ln in lines}
        if not lines:
            return result
        with self.engine.connect() as conn:
            rows = conn.execute(
                sql_text(
                    "SELECT i.sales_id, i.line_no, i.seq, i.amount_minor, i.status FROM installments i WHERE i.sales_id >= :first AND i.sales_id <= :last "
                    "ORDER BY i.sales_id, i.line_no, i.seq"
                ),
                {"first": lines[0].sales_id, "last": lines[-1].sales_id},
            ).mappings()
            for row in rows:
                if (row["sales_id"], row["line_no"]) in result:
                    result[(row["sales_id"], row["line_no"])].append(InstallmentRow(**row))
        return result


def _attach_occurrences(conn: Connection, lines: list[LineState]) -> None:
    by_key = {(ln.sales_id, ln.line_no): ln for ln in lines}
    rows = conn.execute(
        typed_columns(
            sql_text(
                "SELECT o.sales_id, o.line_no, o.seq, o.event_id, o.item_id, o.quantity, o.price_minor, o.currency, "
                "o.ship_date, o.status, o.date_basis, o.date_basis_args FROM schedule_occurrences o "
                "WHERE o.sales_id >= :first AND o.sales_id <= :last"
            ),
            "ship_date",
        ),
        {"first": lines[0].sales_id, "last": lines[-1].sales_id},
    ).mappings()
    for row in rows:
        line = by_key.get((row["sales_id"], row["line_no"]))
        if line is not None:
            line.occurrences[row["seq"]] = OccurrenceRow(**row)
    adjustments = conn.execute(
        sql_text(
            f"SELECT a.sales_id, a.line_no, {_ADJUSTMENT_COLUMNS} FROM schedule_adjustments a "
            "WHERE a.sales_id >= :first AND a.sales_id <= :last ORDER BY a.adjustment_id"
        ).columns(ship_date=Date(), pause_from=Date(), resume_on=Date()),
        {"first": lines[0].sales_id, "last": lines[-1].sales_id},
    )
    for sales_id, line_no, *columns in adjustments:
        line = by_key.get((sales_id, line_no))
        if line is not None:
            line.adjustments.append(AdjustmentRow(*columns))
