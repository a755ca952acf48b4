"""Sales orders with their lines, continuity schedules, installments, payments and attempts."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, func, insert, select, text, update

from continuity.adapters import orm
from continuity.adapters.number_sequence import next_number
from continuity.adapters.orm_servicing import schedule_adjustments
from continuity.adapters.sql_rules import invoicing_effects, update_status
from continuity.domain.customer import Address
from continuity.domain.dunning import DeclineEpisode
from continuity.domain.errors import NotFound
from continuity.domain.money import Money, total
from continuity.domain.payments import (
    CHARGES,
    FINAL,
    AttemptStatus,
    Installment,
    Payment,
    PaymentStatus,
    attempt_key,
)
from continuity.domain.sales_order import ContinuityTerms, LineStatus, OrderStatus, SalesLine, SalesOrder
from continuity.domain.schedule import Occurrence, OccurrenceStatus, PlannedInstallment
from continuity.domain.servicing import Adjustment, AdjustmentKind, Slot
from continuity.services.ports import (
    AttemptRecord,
    ChildOrderRecord,
    ContinuityLineRecord,
    HeldAuthorization,
    ScheduledOccurrence,
)

_Record = TypeVar("_Record", AttemptRecord, ContinuityLineRecord, ChildOrderRecord)


def _record(cls: type[_Record], row: Row[Any]) -> _Record:
    """The record of a row: its columns named by the record's fields (a column added later is left out)."""
    values = row._mapping
    return cls(**{f.name: values[f.name] for f in fields(cls)})


class OrderRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next_sales_id(self) -> str:
        return f"SO-{next_number(self.conn, 'sales_order'):06d}"

    def add(self, order: SalesOrder, now: datetime) -> None:
        self.conn.execute(
            insert(orm.sales_orders).values(
                sales_id=order.sales_id,
                account=order.account,
                order_date=order.order_date,
                currency=order.currency,
                status=order.status.value,
                hold_reason=order.hold_reason,
                hold_code=order.hold_code,
                is_continuity_parent=order.is_continuity_parent,
                parent_sales_id=order.parent_sales_id,
                created_at=now,
                prices_include_tax=order.prices_include_tax,
                **_ship_to_columns(order.ship_to),
            )
        )

    def set_ship_to(self, sales_id: str, address: Address | None) -> None:
        t = orm.sales_orders
        self.conn.execute(update(t).where(t.c.sales_id == sales_id).values(**_ship_to_columns(address)))

    def get(self, sales_id: str) -> SalesOrder:
        row = self.conn.execute(select(orm.sales_orders).where(orm.sales_orders.c.sales_id == sales_id)).first()
        if row is None:
            raise NotFound(f"no sales order {sales_id!r}", "sales_order_not_found")
        return SalesOrder(
            row.sales_id,
            row.account,
            row.order_date,
            row.currency,
            OrderStatus(row.status),
            row.hold_reason,
            row.parent_sales_id,
            self._lines(sales_id),
            row.prices_include_tax,
            row.hold_code,
            _ship_to(row),
        )

    def _lines(self, sales_id: str) -> list[SalesLine]:
        lines, cont = orm.sales_lines, orm.continuity_lines
        rows = self.conn.execute(
            select(
                lines,
                cont.c.program_id,
                cont.c.start_date,
                cont.c.start_event,
                cont.c.bill_up_front,
                cont.c.payment_schedule_id,
            )
            .outerjoin(cont, (cont.c.sales_id == lines.c.sales_id) & (cont.c.line_no == lines.c.line_no))
            .where(lines.c.sales_id == sales_id)
            .order_by(lines.c.line_no)
        )
        return [_line(r) for r in rows]

    def save_header(self, order: SalesOrder) -> None:
        t = orm.sales_orders
        self.conn.execute(
            update_status(
                t,
                order.status,
                t.c.sales_id == order.sales_id,
                keep=True,
                hold_reason=order.hold_reason,
                hold_code=order.hold_code,
                currency=order.currency,
                is_continuity_parent=order.is_continuity_parent,
            )
        )

    def lock_if_in(self, sales_id: str, statuses: tuple[OrderStatus, ...], move_to: OrderStatus | None = None) -> bool:
        """Lock the order row for this transaction if it is still in one of ``statuses`` (and move it to
        ``move_to``): one conditional UPDATE, so of concurrent submits (or a submit and a payment change)
        exactly one wins — the row lock on PostgreSQL, the database lock on SQLite; the others see 0 rows."""
        t = orm.sales_orders
        still = (t.c.sales_id == sales_id, t.c.status.in_([s.value for s in statuses]))
        if move_to is not None:
            return self.conn.execute(update_status(t, move_to, *still)).rowcount == 1
        return self.conn.execute(update(t).where(*still).values(hold_reason=t.c.hold_reason)).rowcount == 1

    def save_fulfilment(self, sales_id: str, status: OrderStatus, **values: object) -> None:
        """A child order's status with its dates/tracking; invoicing marks its occurrences invoiced."""
        t = orm.sales_orders
        self.conn.execute(update_status(t, status, t.c.sales_id == sales_id, keep=True, **values))
        if status == OrderStatus.INVOICED:
            for statement in invoicing_effects("WHERE child_sales_id = :sales_id", "WHERE sales_id = :sales_id"):
                self.conn.execute(text(statement), {"sales_id": sales_id})

    def set_line_amounts(self, sales_id: str, line: SalesLine) -> None:
        """A line's shipping charge and tax (and unit price), after a rate change or a re-pricing."""
        t = orm.sales_lines
        self.conn.execute(
            update(t)
            .where(t.c.sales_id == sales_id, t.c.line_no == line.line_no)
            .values(
                unit_price_minor=line.unit_price.minor,
                charge_minor=line.charge.minor if line.charge else 0,
                tax_minor=line.tax.minor if line.tax else 0,
            )
        )

    def repriceable(self, after: str | None, limit: int) -> list[str]:
        """The next orders a rate change may re-price, by key: parents and children being entered or entered
        and not yet shipped (draft, open, on hold or released)."""
        t = orm.sales_orders
        statuses = [s.value for s in (OrderStatus.DRAFT, OrderStatus.OPEN, OrderStatus.ON_HOLD, OrderStatus.RELEASED)]
        query = select(t.c.sales_id).where(t.c.status.in_(statuses))
        if after is not None:
            query = query.where(t.c.sales_id > after)
        return list(self.conn.execute(query.order_by(t.c.sales_id).limit(limit)).scalars())

    def child_line_origins(self, sales_id: str) -> dict[int, tuple[int, date]]:
        """A child order's lines: the parent line each ships and its occurrence's ship date (its tax point)."""
        lines, occ = orm.sales_lines, orm.schedule_occurrences
        rows = self.conn.execute(
            select(lines.c.line_no, lines.c.parent_line_no, occ.c.ship_date)
            .join(
                occ,
                (occ.c.sales_id == lines.c.parent_sales_id)
                & (occ.c.line_no == lines.c.parent_line_no)
                & (occ.c.seq == lines.c.parent_seq),
            )
            .where(lines.c.sales_id == sales_id)
        )
        return {r.line_no: (r.parent_line_no, r.ship_date) for r in rows}

    def add_line(self, sales_id: str, line: SalesLine, planned_count: int = 0) -> None:
        self.conn.execute(insert(orm.sales_lines).values(_line_row(sales_id, line.line_no, line, line.status)))
        if line.continuity:
            t = line.continuity
            self.conn.execute(
                insert(orm.continuity_lines).values(
                    sales_id=sales_id,
                    line_no=line.line_no,
                    program_id=t.program_id,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    planned_count=planned_count,
                    start_date=t.start_date,
                    start_event=t.start_event,
                    bill_up_front=t.bill_up_front,
                    payment_schedule_id=t.payment_schedule_id,
                    status=LineStatus.OPEN.value,
                )
            )

    def set_continuity_card(self, sales_id: str, token: str) -> None:
        self.conn.execute(
            update(orm.continuity_lines).where(orm.continuity_lines.c.sales_id == sales_id).values(card_token=token)
        )

    # -- schedule -----------------------------------------------------------------------
    def add_occurrences(self, sales_id: str, line_no: int, occurrences: list[Occurrence]) -> None:
        if not occurrences:
            return
        self.conn.execute(
            insert(orm.schedule_occurrences),
            [
                dict(
                    sales_id=sales_id,
                    line_no=line_no,
                    seq=o.seq,
                    event_id=o.event_id,
                    item_id=o.item_id,
                    quantity=o.quantity,
                    price_minor=o.price.minor,
                    currency=o.price.currency,
                    ship_date=o.ship_date,
                    status=OccurrenceStatus.PENDING.value,
                    child_sales_id=None,
                    date_basis=o.basis,
                    date_basis_args=json.dumps(o.basis_args, sort_keys=True, default=str),
                )
                for o in occurrences
            ],
        )

    def schedule(self, sales_id: str, line_no: int) -> list[ScheduledOccurrence]:
        t = orm.schedule_occurrences
        rows = self.conn.execute(select(t).where(t.c.sales_id == sales_id, t.c.line_no == line_no).order_by(t.c.seq))
        return [
            ScheduledOccurrence(
                seq=r.seq,
                event_id=r.event_id,
                item_id=r.item_id,
                quantity=r.quantity,
                price=Money.from_minor(r.price_minor, r.currency),
                ship_date=r.ship_date,
                status=r.status,
                child_sales_id=r.child_sales_id,
            )
            for r in rows
        ]

    # -- installments -------------------------------------------------------------------
    def add_installments(self, sales_id: str, line_no: int, item_id: str, planned: list[PlannedInstallment]) -> None:
        self.conn.execute(
            insert(orm.installments),
            [
                _installment_row(
                    sales_id, line_no, p.seq, p.due_date, p.amount, PaymentStatus.NOT_SUBMITTED, line_no, item_id
                )
                for p in planned
            ],
        )

    def installments(self, sales_id: str) -> list[Installment]:
        t = orm.installments
        rows = self.conn.execute(select(t).where(t.c.sales_id == sales_id).order_by(t.c.line_no, t.c.seq))
        return [_installment(r) for r in rows]

    def decline_episodes(self, sales_id: str) -> dict[tuple[int, int], DeclineEpisode]:
        """Per declined installment: its charge attempts on the card of its last one (domain/dunning.py)."""
        a, i = orm.payment_attempts, orm.installments
        rows = self.conn.execute(
            select(a.c.line_no, a.c.seq, a.c.card_token, a.c.status, a.c.as_of, a.c.decline_code)
            .join(i, (i.c.sales_id == a.c.sales_id) & (i.c.line_no == a.c.line_no) & (i.c.seq == a.c.seq))
            .where(
                a.c.sales_id == sales_id,
                a.c.subject == "installment",
                a.c.operation.in_([op.value for op in CHARGES]),
                i.c.status == PaymentStatus.DECLINED.value,
            )
            .order_by(a.c.line_no, a.c.seq, a.c.attempt_no.desc())
        ).all()
        episodes: dict[tuple[int, int], DeclineEpisode] = {}
        for key in dict.fromkeys((r.line_no, r.seq) for r in rows):
            mine = [r for r in rows if (r.line_no, r.seq) == key]
            declined = [r for r in mine if r.card_token == mine[0].card_token and r.status == AttemptStatus.DECLINED]
            if declined:
                days = [r.as_of for r in declined]
                episodes[key] = DeclineEpisode(min(days), max(days), len(declined), declined[0].decline_code)
        return episodes

    def set_installment_status(
        self, inst: Installment, status: PaymentStatus, authorization_key: str | None = None
    ) -> None:
        """Move an installment; an authorized one names the authorization holding its money."""
        t = orm.installments
        where = (t.c.sales_id == inst.sales_id, t.c.line_no == inst.line_no, t.c.seq == inst.seq)
        if authorization_key is None:
            self.conn.execute(update_status(t, status, *where))
        else:
            self.conn.execute(update_status(t, status, *where, authorization_key=authorization_key))

    def add_fulfilment_child(
        self, parent: SalesOrder, lines: list[SalesLine], authorization_key: str, now: datetime
    ) -> str:
        """The ordinary lines of a mixed order as one child order ``PARENT-LINE-1`` (LINE: the first of
        them), shipped and invoiced like any child, with one charge held by the submit authorization."""
        child_id = f"{parent.sales_id}-{lines[0].line_no}-1"
        self.add(
            SalesOrder(
                child_id,
                parent.account,
                parent.order_date,
                parent.currency,
                OrderStatus.OPEN,
                parent_sales_id=parent.sales_id,
                prices_include_tax=parent.prices_include_tax,
            ),
            now,
        )
        self.conn.execute(
            insert(orm.sales_lines),
            [
                _line_row(child_id, n, ln, LineStatus.OPEN, parent_sales_id=parent.sales_id, parent_line_no=ln.line_no)
                for n, ln in enumerate(lines, start=1)
            ],
        )
        amount = total([parent.line_total(ln) for ln in lines], parent.currency)
        first = lines[0]
        charge = _installment_row(
            child_id, 0, 1, parent.order_date, amount, PaymentStatus.AUTHORIZED, first.line_no, first.item_id
        )
        charge.update(parent_sales_id=parent.sales_id, authorization_key=authorization_key)
        self.conn.execute(insert(orm.installments).values(charge))
        return child_id

    # -- payments -----------------------------------------------------------------------
    def add_payment(self, sales_id: str, method: str, token: str, amount: Money) -> int:
        payment_id: int = self.conn.execute(
            insert(orm.payments)
            .values(sales_id=sales_id, method=method, **_unanswered(token, amount, PaymentStatus.NOT_SUBMITTED))
            .returning(orm.payments.c.payment_id)
        ).scalar_one()
        return payment_id

    def payments(self, sales_id: str) -> list[Payment]:
        t = orm.payments
        rows = self.conn.execute(select(t).where(t.c.sales_id == sales_id).order_by(t.c.payment_id))
        return [
            Payment(
                r.payment_id,
                r.sales_id,
                r.method,
                r.card_token,
                Money.from_minor(r.amount_minor, r.currency),
                PaymentStatus(r.status),
                r.reason,
            )
            for r in rows
        ]

    def save_payment(self, payment: Payment) -> None:
        t = orm.payments
        self.conn.execute(
            update_status(t, payment.status, t.c.payment_id == payment.payment_id, keep=True, reason=payment.reason)
        )

    # -- attempts -----------------------------------------------------------------------
    def add_attempt(
        self,
        subject: str,
        sales_id: str,
        line_no: int,
        seq: int,
        operation: str,
        token: str,
        amount: Money,
        as_of: date,
        now: datetime,
    ) -> str:
        """Write a pending attempt with the next attempt number; returns its idempotency key."""
        t = orm.payment_attempts
        last = self.conn.execute(
            select(func.max(t.c.attempt_no)).where(
                t.c.subject == subject,
                t.c.sales_id == sales_id,
                t.c.line_no == line_no,
                t.c.seq == seq,
                t.c.operation == operation,
            )
        ).scalar()
        attempt_no = (last or 0) + 1
        key = attempt_key(subject, sales_id, line_no, seq, operation, attempt_no)
        self.conn.execute(
            insert(t).values(
                idempotency_key=key,
                subject=subject,
                sales_id=sales_id,
                line_no=line_no,
                seq=seq,
                attempt_no=attempt_no,
                operation=operation,
                as_of=as_of,
                created_at=now,
                **_unanswered(token, amount, AttemptStatus.PENDING),
            )
        )
        return key

    def finish_attempt(self, key: str, status: AttemptStatus, reason: str, reference: str) -> None:
        t = orm.payment_attempts
        self.conn.execute(
            update_status(t, status, t.c.idempotency_key == key, reason=reason, gateway_reference=reference or None)
        )

    def attempts(self, sales_id: str) -> list[AttemptRecord]:
        t = orm.payment_attempts
        rows = self.conn.execute(select(t).where(t.c.sales_id == sales_id).order_by(t.c.attempt_id))
        return [_record(AttemptRecord, r) for r in rows]


def _line_row(sales_id: str, line_no: int, line: SalesLine, status: LineStatus, **parent: object) -> dict[str, object]:
    """The sales_lines row of ``line`` as line ``line_no`` of ``sales_id`` (a child's names its parent line:
    ``parent_sales_id`` and ``parent_line_no``, the one occurrence it ships being ``parent_seq`` 1)."""
    row: dict[str, object] = {
        "sales_id": sales_id,
        "line_no": line_no,
        "item_id": line.item_id,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price.minor,
        "currency": line.unit_price.currency,
        "status": status.value,
        "charge_minor": line.charge.minor if line.charge else 0,
        "tax_minor": line.tax.minor if line.tax else 0,
    }
    return row | ({**parent, "parent_seq": 1} if parent else {})


def _installment_row(
    sales_id: str, line_no: int, seq: int, due: date, amount: Money, status: PaymentStatus, of_line: int, item_id: str
) -> dict[str, object]:
    """The installments row charging ``amount`` for line ``of_line`` (``item_id``) of ``sales_id``, its own
    parent (a child order's charge names the parent instead: the caller sets ``parent_sales_id``)."""
    return {
        "sales_id": sales_id,
        "line_no": line_no,
        "seq": seq,
        "due_date": due,
        "amount_minor": amount.minor,
        "currency": amount.currency,
        "status": status.value,
        "parent_sales_id": sales_id,
        "parent_line_no": of_line,
        "item_id": item_id,
    }


def _unanswered(token: str, amount: Money, status: PaymentStatus | AttemptStatus) -> dict[str, object]:
    """What a payment and a payment attempt hold alike before the gateway answers: the card, the amount."""
    return {
        "card_token": token,
        "amount_minor": amount.minor,
        "currency": amount.currency,
        "status": status.value,
        "reason": "",
    }


def _installment(r: Row[Any]) -> Installment:
    return Installment(
        r.sales_id, r.line_no, r.seq, r.due_date, Money.from_minor(r.amount_minor, r.currency), PaymentStatus(r.status)
    )


def _line(r: Row[Any]) -> SalesLine:
    terms = None
    if r.program_id is not None:
        terms = ContinuityTerms(r.program_id, r.start_date, r.start_event, r.bill_up_front, r.payment_schedule_id)
    return SalesLine(
        r.line_no,
        r.item_id,
        r.quantity,
        Money.from_minor(r.unit_price_minor, r.currency),
        LineStatus(r.status),
        terms,
        Money.from_minor(r.charge_minor, r.currency),
        Money.from_minor(r.tax_minor, r.currency),
    )


# -- servicing: stored occurrences with their date basis, schedule adjustments --------------------
def _slot(r: Row[Any]) -> Slot:
    occ = Occurrence(
        r.seq,
        r.event_id,
        r.item_id,
        r.quantity,
        Money.from_minor(r.price_minor, r.currency),
        r.ship_date,
        r.date_basis,
        json.loads(r.date_basis_args or "{}"),
    )
    return Slot(occ, OccurrenceStatus(r.status), r.child_sales_id, stored=True)


def _adjustment(r: Row[Any]) -> Adjustment:
    price = Money.from_minor(r.price_minor, r.currency) if r.price_minor is not None else None
    return Adjustment(
        AdjustmentKind(r.kind), r.seq, r.days, r.ship_date, r.item_id, price, r.pause_from, r.resume_on, r.adjustment_id
    )


class ServicingRepository:
    """What servicing reads and writes of a continuity line (on the unit of work's connection)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def line(self, sales_id: str, line_no: int) -> ContinuityLineRecord:
        t = orm.continuity_lines
        row = self.conn.execute(select(t).where(t.c.sales_id == sales_id, t.c.line_no == line_no)).first()
        if row is None:
            raise NotFound(f"order {sales_id} has no continuity line {line_no}", "continuity_line_not_found")
        return _record(ContinuityLineRecord, row)

    def stored_slots(self, sales_id: str, line_no: int) -> dict[int, Slot]:
        t = orm.schedule_occurrences
        rows = self.conn.execute(select(t).where(t.c.sales_id == sales_id, t.c.line_no == line_no))
        return {r.seq: _slot(r) for r in rows}

    def adjustments(self, sales_id: str, line_no: int) -> list[Adjustment]:
        t = schedule_adjustments
        rows = self.conn.execute(
            select(t).where(t.c.sales_id == sales_id, t.c.line_no == line_no).order_by(t.c.adjustment_id)
        )
        return [_adjustment(r) for r in rows]

    def add_adjustment(self, sales_id: str, line_no: int, a: Adjustment, now: datetime) -> None:
        self.conn.execute(
            insert(schedule_adjustments).values(
                sales_id=sales_id,
                line_no=line_no,
                kind=a.kind.value,
                seq=a.seq,
                days=a.days,
                ship_date=a.ship_date,
                item_id=a.item_id,
                price_minor=a.price.minor if a.price else None,
                currency=a.price.currency if a.price else None,
                pause_from=a.pause_from,
                resume_on=a.resume_on,
                created_at=now,
            )
        )

    def close_pause(self, a: Adjustment) -> None:
        t = schedule_adjustments
        self.conn.execute(
            update(t).where(t.c.adjustment_id == a.adjustment_id).values(resume_on=a.resume_on, days=a.days)
        )

    def save_slot(self, sales_id: str, line_no: int, s: Slot, insert_it: bool) -> int:
        """Insert or update one occurrence; returns the rows written (0: it is no longer pending or paused)."""
        o, t = s.occ, orm.schedule_occurrences
        values = dict(
            event_id=o.event_id,
            item_id=o.item_id,
            quantity=o.quantity,
            price_minor=o.price.minor,
            currency=o.price.currency,
            ship_date=o.ship_date,
            date_basis=o.basis,
            date_basis_args=json.dumps(o.basis_args, sort_keys=True, default=str),
        )
        if insert_it:
            return self.conn.execute(
                insert(t).values(
                    sales_id=sales_id, line_no=line_no, seq=o.seq, child_sales_id=None, status=s.status.value, **values
                )
            ).rowcount
        # only a pending or paused row is ever changed: history is never rewritten
        open_ = (OccurrenceStatus.PENDING.value, OccurrenceStatus.PAUSED.value)
        where = (t.c.sales_id == sales_id, t.c.line_no == line_no, t.c.seq == o.seq, t.c.status.in_(open_))
        return self.conn.execute(update_status(t, s.status, *where, keep=True, **values)).rowcount

    def set_line(self, sales_id: str, line_no: int, **values: object) -> None:
        """A continuity line's terms; its status (``status=``) only as its transition table allows."""
        t = orm.continuity_lines
        where = (t.c.sales_id == sales_id, t.c.line_no == line_no)
        status = values.pop("status", None)
        if status is not None:
            self.conn.execute(update_status(t, LineStatus(str(status)), *where, keep=True, **values))
        elif values:
            self.conn.execute(update(t).where(*where).values(**values))

    def set_installment(self, inst: Installment, amount: Money, status: PaymentStatus) -> int:
        """Change an installment that is still in the status it was read in; returns the rows changed."""
        t = orm.installments
        return self.conn.execute(
            update_status(
                t,
                status,
                t.c.sales_id == inst.sales_id,
                t.c.line_no == inst.line_no,
                t.c.seq == inst.seq,
                t.c.status == inst.status.value,
                keep=True,
                amount_minor=amount.minor,
            )
        ).rowcount

    def child_charges(self, sales_id: str) -> list[Installment]:
        """Unsettled charges of the parent's child orders (pay-per-shipment)."""
        t = orm.installments
        rows = self.conn.execute(
            select(t)
            .where(
                t.c.parent_sales_id == sales_id,
                t.c.sales_id != sales_id,
                t.c.status.notin_([s.value for s in FINAL]),
            )
            .order_by(t.c.sales_id)
        )
        return [_installment(r) for r in rows]

    def unknown_attempts(self, sales_id: str) -> list[AttemptRecord]:
        t = orm.payment_attempts
        rows = self.conn.execute(
            select(t).where(
                t.c.sales_id == sales_id,
                t.c.subject == "installment",
                t.c.operation.in_([op.value for op in CHARGES]),
                t.c.status == AttemptStatus.UNKNOWN.value,
            )
        )
        return [_record(AttemptRecord, r) for r in rows]

    def authorization_of(self, sales_id: str, line_no: int, seq: int) -> HeldAuthorization | None:
        """The approved authorization holding an installment's money: its own authorize attempt, else the
        card authorized when the order was submitted; None when there is none."""
        t = orm.payment_attempts
        own = (t.c.subject == "installment") & (t.c.line_no == line_no) & (t.c.seq == seq)
        for which in (own, t.c.subject == "payment"):
            row = self.conn.execute(
                select(t.c.card_token, t.c.gateway_reference, t.c.subject)
                .where(
                    t.c.sales_id == sales_id,
                    which,
                    t.c.operation == "authorize",
                    t.c.status == AttemptStatus.APPROVED.value,
                    t.c.gateway_reference.is_not(None),
                )
                .order_by(t.c.attempt_id.desc())
                .limit(1)
            ).first()
            if row is not None:
                return HeldAuthorization(row.card_token, row.gateway_reference, row.subject)
        return None

    def children(self, sales_id: str) -> list[ChildOrderRecord]:
        t = orm.sales_orders
        rows = self.conn.execute(
            select(t.c.sales_id, t.c.status, t.c.created_at, t.c.order_date)
            .where(t.c.parent_sales_id == sales_id)
            .order_by(t.c.sales_id)
        )
        return [_record(ChildOrderRecord, r) for r in rows]


def _ship_to_columns(address: Address | None) -> dict[str, str | None]:
    a = address
    return {
        "ship_street": a.street if a else None,
        "ship_city": a.city if a else None,
        "ship_postal_code": a.postal_code if a else None,
        "ship_country": a.country if a else None,
    }


def _ship_to(row: Row[Any]) -> Address | None:
    if row.ship_street is None:
        return None
    return Address("delivery", row.ship_street, row.ship_city, row.ship_postal_code, row.ship_country)
