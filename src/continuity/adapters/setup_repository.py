"""Repositories of the setup data: parameters, payment schedules, programs, products."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from continuity.adapters import orm
from continuity.domain.calendar import Interval
from continuity.domain.dunning import format_retry_days, parse_retry_days
from continuity.domain.errors import NotFound
from continuity.domain.money import Money
from continuity.domain.program import (
    Allocation,
    ContinuityParameters,
    Event,
    EventAction,
    OrderStart,
    PaymentSchedule,
    Product,
    Program,
)
from continuity.domain.returns import ReturnAction
from continuity.domain.tax import ChargeKind, ShippingCharge, TaxRate, TaxTable

_PARAM_FIELDS = (
    "repeat_threshold",
    "delivery_lead_days",
    "max_child_orders_per_run",
    "authorize_child_orders",
    "reauthorization_limit",
    "upcoming_charge_notice_days",
    "card_expiry_notice_days",
    "prices_include_tax",
    "retry_window_days",
    "card_retry_budget",
    "card_retry_budget_days",
)

#: The columns of programs stored as the Program's fields are (order_start and return_action by their value).
_PROGRAM_FIELDS = (
    "description",
    "bill_up_front",
    "payment_schedule_id",
    "prompt_for_start_date",
    "prompt_for_payment_schedule",
    "days_after_order",
    "consolidate_past_orders",
    "active",
    "current_event",
    "upcoming_charge_notice_days",
)


class SetupRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- parameters -------------------------------------------------------------------
    def parameters(self) -> ContinuityParameters:
        row = self.conn.execute(select(orm.continuity_parameters)).first()
        if row is None:
            return ContinuityParameters()
        return ContinuityParameters(
            **{f: getattr(row, f) for f in _PARAM_FIELDS}, retry_days=parse_retry_days(row.retry_days)
        )

    def save_parameters(self, params: ContinuityParameters) -> None:
        values = {f: getattr(params, f) for f in _PARAM_FIELDS} | {"retry_days": format_retry_days(params.retry_days)}
        table = orm.continuity_parameters
        if self.conn.execute(select(table.c.id)).first() is None:
            self.conn.execute(insert(table).values(id=1, **values))
        else:
            self.conn.execute(update(table).values(**values))

    # -- payment schedules ------------------------------------------------------------
    def payment_schedule(self, schedule_id: str) -> PaymentSchedule:
        table = orm.payment_schedules
        row = self.conn.execute(select(table).where(table.c.payment_schedule_id == schedule_id)).first()
        if row is None:
            raise NotFound(f"no payment schedule {schedule_id!r}", "payment_schedule_not_found")
        return PaymentSchedule(
            row.payment_schedule_id,
            row.description,
            row.number_of_payments,
            Interval.parse(row.interval),
            Allocation(row.allocation),
        )

    def payment_schedules(self) -> list[PaymentSchedule]:
        column = orm.payment_schedules.c.payment_schedule_id
        ids = self.conn.execute(select(column).order_by(column)).scalars()
        return [self.payment_schedule(i) for i in ids]

    def save_payment_schedule(self, s: PaymentSchedule) -> None:
        table = orm.payment_schedules  # updated in place: programs and orders refer to it
        values = dict(
            description=s.description,
            number_of_payments=s.number_of_payments,
            interval=str(s.interval),
            allocation=s.allocation.value,
        )
        key = table.c.payment_schedule_id == s.payment_schedule_id
        if self.conn.execute(select(table.c.payment_schedule_id).where(key)).first():
            self.conn.execute(update(table).where(key).values(**values))
        else:
            self.conn.execute(insert(table).values(payment_schedule_id=s.payment_schedule_id, **values))

    # -- products ---------------------------------------------------------------------
    def product(self, item_id: str) -> Product:
        row = self.conn.execute(select(orm.items).where(orm.items.c.item_id == item_id)).first()
        if row is None:
            raise NotFound(f"unknown item {item_id!r}", "item_unknown")
        return _product(row)

    def products(self) -> list[Product]:
        return [_product(r) for r in self.conn.execute(select(orm.items).order_by(orm.items.c.item_id))]

    def item_ids(self) -> set[str]:
        return set(self.conn.execute(select(orm.items.c.item_id)).scalars())

    def save_product(self, p: Product) -> None:
        table = orm.items
        values = dict(
            name=p.name,
            price_minor=p.price.minor,
            currency=p.price.currency,
            continuity_program_id=p.continuity_program_id,
            tax_group=p.tax_group,
            **_shipping_values(p.shipping),
        )
        if self.conn.execute(select(table.c.item_id).where(table.c.item_id == p.item_id)).first():
            self.conn.execute(update(table).where(table.c.item_id == p.item_id).values(**values))
        else:
            self.conn.execute(insert(table).values(item_id=p.item_id, **values))

    # -- programs ---------------------------------------------------------------------
    def program(self, program_id: str) -> Program:
        table = orm.programs
        row = self.conn.execute(select(table).where(table.c.program_id == program_id)).first()
        if row is None:
            raise NotFound(f"no continuity program {program_id!r}", "program_not_found")
        events = self.conn.execute(
            select(orm.program_events)
            .where(orm.program_events.c.program_id == program_id)
            .order_by(orm.program_events.c.event_id)
        )
        return Program(
            program_id=row.program_id,
            order_start=OrderStart(row.order_start),
            return_action=ReturnAction(row.return_action),
            events=[_event(e) for e in events],
            shipping=_shipping(row),
            **{f: getattr(row, f) for f in _PROGRAM_FIELDS},
        )

    def programs(self) -> list[Program]:
        ids = self.conn.execute(select(orm.programs.c.program_id).order_by(orm.programs.c.program_id)).scalars()
        return [self.program(i) for i in ids]

    def save_program(self, p: Program) -> None:
        table, events = orm.programs, orm.program_events
        values = {
            "order_start": p.order_start.value,
            "return_action": p.return_action.value,
            **_shipping_values(p.shipping),
            **{f: getattr(p, f) for f in _PROGRAM_FIELDS},
        }
        if self.conn.execute(select(table.c.program_id).where(table.c.program_id == p.program_id)).first():
            self.conn.execute(update(table).where(table.c.program_id == p.program_id).values(**values))
        else:
            self.conn.execute(insert(table).values(program_id=p.program_id, **values))
        self.conn.execute(delete(events).where(events.c.program_id == p.program_id))
        self.conn.execute(insert(events), [_event_row(p.program_id, e) for e in p.events])

    # -- the tax rate table --------------------------------------------------------------
    def tax_rates(self) -> TaxTable:
        t = orm.tax_rates
        rows = self.conn.execute(select(t).order_by(t.c.tax_group, t.c.region, t.c.valid_from))
        return TaxTable(tuple(TaxRate(r.tax_group, r.region, r.rate_ppm, r.valid_from) for r in rows))

    def save_tax_rate(self, rate: TaxRate) -> TaxRate | None:
        """Set a group's rate in a region from a day on; returns the row it replaced (same day), if any."""
        t = orm.tax_rates
        key = (t.c.tax_group == rate.tax_group) & (t.c.region == rate.region) & (t.c.valid_from == rate.valid_from)
        old = self.conn.execute(select(t).where(key)).first()
        if old is None:
            self.conn.execute(
                insert(t).values(
                    tax_group=rate.tax_group, region=rate.region, valid_from=rate.valid_from, rate_ppm=rate.rate_ppm
                )
            )
            return None
        self.conn.execute(update(t).where(key).values(rate_ppm=rate.rate_ppm))
        return TaxRate(old.tax_group, old.region, old.rate_ppm, old.valid_from)


def _shipping(row: Row[Any]) -> ShippingCharge:
    return ShippingCharge(ChargeKind(row.shipping_kind), row.shipping_minor)


def _shipping_values(charge: ShippingCharge) -> dict[str, object]:
    return {"shipping_kind": charge.kind.value, "shipping_minor": charge.amount_minor}


def _product(row: Row[Any]) -> Product:
    return Product(
        row.item_id,
        row.name,
        Money.from_minor(row.price_minor, row.currency),
        row.continuity_program_id,
        row.tax_group,
        _shipping(row),
    )


def _event(row: Row[Any]) -> Event:
    price = Money.from_minor(row.price_minor, row.currency) if row.price_minor is not None else None
    return Event(
        event_id=row.event_id,
        item_id=row.item_id,
        quantity=row.quantity,
        times_to_repeat=row.times_to_repeat,
        interval=Interval.parse(row.interval),
        action=EventAction(row.action),
        price=price,
        start_date=row.start_date,
    )


def _event_row(program_id: str, e: Event) -> dict[str, object]:
    return dict(
        program_id=program_id,
        event_id=e.event_id,
        item_id=e.item_id,
        quantity=e.quantity,
        price_minor=e.price.minor if e.price else None,
        currency=e.price.currency if e.price else None,
        times_to_repeat=e.times_to_repeat,
        interval=str(e.interval),
        start_date=e.start_date,
        action=e.action.value,
    )
