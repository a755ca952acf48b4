"""The life of a child order after creation: release → ship (tracking number) → invoice."""
from __future__ import annotations

from datetime import date

from continuity.domain.payments import PaymentStatus
from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.sales_order import OrderStatus, SalesOrder, check_transition
from continuity.services.order_entry import UowFactory


def release(uow_factory: UowFactory, sales_id: str, on: date) -> None:
    """Release to the warehouse; refused while the child's own charge is not taken."""
    with uow_factory() as uow:
        unpaid = [i for i in uow.orders.installments(sales_id)
                  if i.status not in (PaymentStatus.PAID, PaymentStatus.AUTHORIZED)]
    if unpaid:
        raise RuleViolation(f"{sales_id} cannot be released: its charge is {unpaid[0].status.value}",
                            "child_not_paid")
    _move(uow_factory, sales_id, OrderStatus.RELEASED, released_on=on)


def ship(uow_factory: UowFactory, sales_id: str, tracking_number: str, on: date) -> None:
    if not tracking_number.strip():
        raise ValidationFailed("a tracking number is required to ship", "tracking_number_required")
    _move(uow_factory, sales_id, OrderStatus.SHIPPED, shipped_on=on, tracking_number=tracking_number.strip())


def invoice(uow_factory: UowFactory, sales_id: str, on: date) -> None:
    _move(uow_factory, sales_id, OrderStatus.INVOICED, invoiced_on=on)


def _move(uow_factory: UowFactory, sales_id: str, target: OrderStatus, **values: object) -> None:
    with uow_factory() as uow:
        order: SalesOrder = uow.orders.get(sales_id)
        if order.parent_sales_id is None:
            raise RuleViolation(f"{sales_id} is not a child order", "not_a_child_order")
        if order.status == OrderStatus.ON_HOLD:
            raise RuleViolation(f"{sales_id} is on hold: {order.hold_reason}", "order_on_hold")
        check_transition(order.status, target)
        uow.orders.save_fulfilment(sales_id, target, **values)
        uow.commit()
