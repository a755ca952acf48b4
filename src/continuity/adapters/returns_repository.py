"""Return reasons, credit notes and no-charge replacement child orders (tables of orm_returns)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from continuity.adapters import orm
from continuity.adapters.number_sequence import next_number
from continuity.adapters.orm_returns import credit_note_lines, credit_notes, return_reasons
from continuity.domain.errors import NotFound
from continuity.domain.money import Money
from continuity.domain.returns import ReturnReason
from continuity.domain.sales_order import LineStatus, OrderStatus, SalesLine, SalesOrder
from continuity.services.ports import CreditNote, CreditNoteLine


class ReturnsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- reasons --------------------------------------------------------------------------
    def reasons(self) -> list[ReturnReason]:
        rows = self.conn.execute(select(return_reasons).order_by(return_reasons.c.code))
        return [ReturnReason(r.code, r.description, r.active) for r in rows]

    def reason(self, code: str) -> ReturnReason:
        r = self.conn.execute(select(return_reasons).where(return_reasons.c.code == code)).first()
        if r is None:
            raise NotFound(f"no return reason {code!r}", "return_reason_not_found", {"code": code})
        return ReturnReason(r.code, r.description, r.active)

    def save_reason(self, reason: ReturnReason) -> None:
        values = {"description": reason.description, "active": reason.active}
        t = return_reasons
        if self.conn.execute(select(t.c.code).where(t.c.code == reason.code)).first():
            self.conn.execute(update(t).where(t.c.code == reason.code).values(**values))
        else:
            self.conn.execute(insert(t).values(code=reason.code, **values))

    # -- credit notes ---------------------------------------------------------------------
    def next_serial(self) -> int:
        return next_number(self.conn, "credit_note")

    def add_credit_note(self, note: CreditNote, now: datetime) -> None:
        self.conn.execute(
            insert(credit_notes).values(
                credit_note_id=note.credit_note_id,
                serial=note.serial,
                sales_id=note.sales_id,
                parent_sales_id=note.parent_sales_id,
                reason_code=note.reason_code,
                amount_minor=note.amount.minor,
                currency=note.amount.currency,
                refund_sales_id=note.refund_sales_id,
                refund_key=note.refund_key,
                schedule_action=note.schedule_action,
                replacement_sales_id=note.replacement_sales_id,
                note=note.note,
                returned_on=note.returned_on,
                created_at=now,
            )
        )
        self.conn.execute(
            insert(credit_note_lines),
            [
                {
                    "credit_note_id": note.credit_note_id,
                    "line_no": ln.line_no,
                    "item_id": ln.item_id,
                    "quantity": ln.quantity,
                    "unit_price_minor": ln.unit_price.minor,
                    "amount_minor": ln.amount.minor,
                    "currency": ln.unit_price.currency,
                }
                for ln in note.lines
            ],
        )

    def credit_notes(self, sales_id: str) -> list[CreditNote]:
        t = credit_notes
        rows = self.conn.execute(
            select(t).where((t.c.sales_id == sales_id) | (t.c.parent_sales_id == sales_id)).order_by(t.c.serial)
        ).all()
        ids = [r.credit_note_id for r in rows]
        lines: dict[str, list[CreditNoteLine]] = {}
        if ids:
            cl = credit_note_lines
            for ln in self.conn.execute(
                select(cl).where(cl.c.credit_note_id.in_(ids)).order_by(cl.c.credit_note_id, cl.c.line_no)
            ):
                lines.setdefault(ln.credit_note_id, []).append(
                    CreditNoteLine(
                        ln.line_no,
                        ln.item_id,
                        ln.quantity,
                        Money.from_minor(ln.unit_price_minor, ln.currency),
                        Money.from_minor(ln.amount_minor, ln.currency),
                    )
                )
        return [_note(r, tuple(lines.get(r.credit_note_id, ()))) for r in rows]

    def returned_quantities(self, sales_id: str) -> dict[int, int]:
        cl, t = credit_note_lines, credit_notes
        rows = self.conn.execute(
            select(cl.c.line_no, func.sum(cl.c.quantity))
            .join(t, t.c.credit_note_id == cl.c.credit_note_id)
            .where(t.c.sales_id == sales_id)
            .group_by(cl.c.line_no)
        )
        return {int(line_no): int(q) for line_no, q in rows}

    # -- the replacement child order ------------------------------------------------------
    def parent_line_of(self, sales_id: str, line_no: int) -> int | None:
        lines = orm.sales_lines
        value = self.conn.execute(
            select(lines.c.parent_line_no).where(lines.c.sales_id == sales_id, lines.c.line_no == line_no)
        ).scalar()
        return None if value is None else int(value)

    def add_replacement(
        self, credit_note_id: str, child: SalesOrder, line: SalesLine, quantity: int, today: date, now: datetime
    ) -> str:
        parent = child.parent_sales_id
        if parent is None:
            raise ValueError(f"{child.sales_id} is not a child order")
        lines = orm.sales_lines
        parent_line_no = self.parent_line_of(child.sales_id, line.line_no)
        made = self.conn.execute(
            select(func.count())
            .select_from(credit_notes)
            .where(credit_notes.c.sales_id == child.sales_id, credit_notes.c.replacement_sales_id.is_not(None))
        ).scalar_one()
        replacement = f"{child.sales_id}-R{made + 1}"
        self.conn.execute(
            insert(orm.sales_orders).values(
                sales_id=replacement,
                account=child.account,
                order_date=today,
                currency=child.currency,
                status=OrderStatus.OPEN.value,
                hold_reason="",
                is_continuity_parent=False,
                parent_sales_id=parent,
                created_at=now,
            )
        )
        self.conn.execute(
            insert(lines).values(
                sales_id=replacement,
                line_no=1,
                item_id=line.item_id,
                quantity=quantity,
                unit_price_minor=0,
                currency=line.unit_price.currency,
                status=LineStatus.OPEN.value,
                parent_sales_id=parent,
                parent_line_no=parent_line_no,
                parent_seq=None,  # no occurrence of the schedule: the returned one is re-shipped
            )
        )
        self.conn.execute(
            update(credit_notes)
            .where(credit_notes.c.credit_note_id == credit_note_id)
            .values(replacement_sales_id=replacement)
        )
        return replacement


def _note(r: Row[Any], lines: tuple[CreditNoteLine, ...]) -> CreditNote:
    return CreditNote(
        r.credit_note_id,
        r.serial,
        r.sales_id,
        r.parent_sales_id,
        r.reason_code,
        Money.from_minor(r.amount_minor, r.currency),
        r.refund_sales_id,
        r.refund_key,
        r.schedule_action,
        r.replacement_sales_id,
        r.note,
        r.returned_on,
        lines,
    )
