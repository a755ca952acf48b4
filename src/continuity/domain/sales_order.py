"""Sales orders (parent continuity orders and child orders), their lines and state table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from continuity.domain.customer import Address
from continuity.domain.errors import InvalidTransition, RuleViolation
from continuity.domain.money import Money
from continuity.domain.tax import LineAmounts, summed


class OrderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTING = "submitting"  # claimed by one submit while its authorizations are at the gateway
    OPEN = "open"
    ON_HOLD = "on_hold"
    RELEASED = "released"
    SHIPPED = "shipped"
    INVOICED = "invoiced"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = OrderStatus
#: The one transition table of a sales order (parent and child).
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTING, S.OPEN, S.ON_HOLD, S.CANCELLED}),
    S.SUBMITTING: frozenset({S.OPEN, S.ON_HOLD}),
    S.ON_HOLD: frozenset({S.SUBMITTING, S.OPEN, S.CANCELLED}),
    S.OPEN: frozenset({S.ON_HOLD, S.RELEASED, S.CLOSED, S.CANCELLED}),
    S.RELEASED: frozenset({S.ON_HOLD, S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.INVOICED}),
    S.INVOICED: frozenset(),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}


#: the orders a customer still has: a new order for the same continuity item is asked about first
STILL_ORDERED = frozenset({S.DRAFT, S.SUBMITTING, S.OPEN, S.ON_HOLD})


def check_transition(current: OrderStatus, target: OrderStatus, entity: str = "sales order") -> None:
    if target != current and target not in ORDER_TRANSITIONS[current]:
        raise InvalidTransition(entity, current.value, target.value)


class LineStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


#: Sales lines and continuity lines: a line closes (or is cancelled) once and stays so.
LINE_TRANSITIONS: dict[LineStatus, frozenset[LineStatus]] = {
    LineStatus.OPEN: frozenset({LineStatus.CLOSED, LineStatus.CANCELLED}),
    LineStatus.CLOSED: frozenset(),
    LineStatus.CANCELLED: frozenset(),
}


class BillingMode(StrEnum):
    """The four cases of DOMAIN-REFERENCE §4 reduced to what is charged when."""

    PAY_ALL_LATER = "pay_all_later"  # not up front, no schedule: each child order when created
    PAY_ALL_NOW = "pay_all_now"  # up front, no schedule: the whole program at submit
    INSTALLMENTS = "installments"  # a payment schedule: installments of the whole program

    @classmethod
    def of(cls, bill_up_front: bool, payment_schedule_id: str | None) -> BillingMode:
        if payment_schedule_id:
            return cls.INSTALLMENTS
        return cls.PAY_ALL_NOW if bill_up_front else cls.PAY_ALL_LATER


@dataclass
class ContinuityTerms:
    """What a continuity line was sold under."""

    program_id: str
    start_date: date
    start_event: int
    bill_up_front: bool
    payment_schedule_id: str | None

    @property
    def billing_mode(self) -> BillingMode:
        return BillingMode.of(self.bill_up_front, self.payment_schedule_id)


@dataclass
class SalesLine:
    line_no: int
    item_id: str
    quantity: int
    unit_price: Money
    status: LineStatus = LineStatus.OPEN
    continuity: ContinuityTerms | None = None
    #: the shipping charge (a continuity line: of all its planned shipments) and the tax of goods and charge
    charge: Money | None = None
    tax: Money | None = None

    @property
    def amount(self) -> Money:
        return self.unit_price * self.quantity

    def amounts(self, included: bool) -> LineAmounts:
        zero = Money.zero(self.unit_price.currency)
        return LineAmounts(self.amount, self.charge or zero, self.tax or zero, included)


@dataclass
class SalesOrder:
    sales_id: str
    account: str
    order_date: date
    currency: str
    status: OrderStatus = OrderStatus.DRAFT
    hold_reason: str = ""
    parent_sales_id: str | None = None
    lines: list[SalesLine] = field(default_factory=list)
    prices_include_tax: bool = False

    def line_total(self, line: SalesLine) -> Money:
        """The line's goods and shipping charge, plus its tax when prices are net."""
        return line.amounts(self.prices_include_tax).total

    def amounts(self) -> LineAmounts:
        """The order's goods, charges and tax: each the sum of its lines' (tax = Σ line tax)."""
        return summed(
            [line.amounts(self.prices_include_tax) for line in self.lines], self.currency, self.prices_include_tax
        )

    hold_code: str = ""  # the hold code while on hold (domain/holds.py), else ""
    ship_to: Address | None = None  # where it ships (a copy of the address chosen at order entry)

    @property
    def is_continuity_parent(self) -> bool:
        return any(line.continuity for line in self.lines)

    def move_to(self, target: OrderStatus, reason: str = "", code: str = "") -> None:
        """Move to ``target``; on hold, the hold's ``code`` and its note ``reason`` (kept only while on hold)."""
        check_transition(self.status, target)
        self.status = target
        held = target == OrderStatus.ON_HOLD
        self.hold_reason = reason if held else ""
        self.hold_code = code if held else ""

    def hold(self, code: str, note: str) -> None:
        """Put an open or released order on hold with ``code``; an order already on hold is refused."""
        if self.status not in HOLDABLE:
            raise RuleViolation(
                f"order {self.sales_id} is {self.status.value}: only an open or released order is put on hold",
                "order_not_holdable",
                {"status": self.status.value},
            )
        self.move_to(OrderStatus.ON_HOLD, note, code)

    def clear_hold(self) -> str:
        """Clear the hold (the order is open again); returns the code it had."""
        if self.status != OrderStatus.ON_HOLD:
            raise RuleViolation(f"order {self.sales_id} is not on hold", "order_not_on_hold")
        code = self.hold_code
        self.move_to(OrderStatus.OPEN)
        return code


#: The statuses an agent or manager may put on hold (the transition table allows these to ON_HOLD).
HOLDABLE = (OrderStatus.OPEN, OrderStatus.RELEASED)
