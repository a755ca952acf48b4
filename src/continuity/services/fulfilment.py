"""The life of a child order after creation: release → ship (tracking number) → invoice."""

from __future__ import annotations

from datetime import date, datetime

from continuity.domain.audit import SYSTEM, Actor, AuditEntry, Entity
from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.payments import PaymentStatus
from continuity.domain.sales_order import OrderStatus, SalesOrder, check_transition
from continuity.services.ports import UowFactory


def release(
    uow_factory: UowFactory, sales_id: str, on: date, *, actor: Actor = SYSTEM, now: datetime | None = None
) -> None:
    """Release to the warehouse; refused while the child's own charge is not taken."""
    with uow_factory() as uow:
        unpaid = [
            i
            for i in uow.orders.installments(sales_id)
            if i.status not in (PaymentStatus.PAID, PaymentStatus.AUTHORIZED)
        ]
    if unpaid:
        raise RuleViolation(f"{sales_id} cannot be released: its charge is {unpaid[0].status.value}", "child_not_paid")
    _move(uow_factory, sales_id, OrderStatus.RELEASED, actor, now, released_on=on)


def ship(
    uow_factory: UowFactory,
    sales_id: str,
    tracking_number: str,
    on: date,
    *,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> None:
    if not tracking_number.strip():
        raise ValidationFailed("a tracking number is required to ship", "tracking_number_required")
    _move(
        uow_factory, sales_id, OrderStatus.SHIPPED, actor, now, shipped_on=on, tracking_number=tracking_number.strip()
    )


def invoice(
    uow_factory: UowFactory, sales_id: str, on: date, *, actor: Actor = SYSTEM, now: datetime | None = None
) -> None:
    _move(uow_factory, sales_id, OrderStatus.INVOICED, actor, now, invoiced_on=on)


def _move(
    uow_factory: UowFactory, sales_id: str, target: OrderStatus, actor: Actor, now: datetime | None, **values: object
) -> None:
    """Move a child order one step, with its audit entry, in one transaction."""
    with uow_factory() as uow:
        order: SalesOrder = uow.orders.get(sales_id)
        if order.parent_sales_id is None:
            raise RuleViolation(f"{sales_id} is not a child order", "not_a_child_order")
        if order.status == OrderStatus.ON_HOLD:
            raise RuleViolation(f"{sales_id} is on hold: {order.hold_reason}", "order_on_hold")
        check_transition(order.status, target)
        uow.orders.save_fulfilment(sales_id, target, **values)
        after = {"status": target.value, **{k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}}
        uow.audit.add_all(
            [
                AuditEntry(
                    actor,
                    Entity.ORDER,
                    sales_id,
                    target.value,
                    {"status": order.status.value},
                    after,
                    sales_id=sales_id,
                )
            ],
            now,
        )
        uow.commit()
