"""Continuity parameters, payment schedules, programs and their events, parent products."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from continuity.domain.calendar import Interval
from continuity.domain.dunning import DunningPolicy
from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money
from continuity.domain.returns import ReturnAction
from continuity.domain.tax import NO_CHARGE, ShippingCharge

#: Shipments of one event; a program is a plan for years, not an unbounded stream.
MAX_REPEATS = 600

#: The currency of an event price given without one (ISO 4217 "XXX": no currency). Such a price is in
#: its item's currency, which only the catalog knows: Program.take_item_currencies fills it in when the
#: program is saved, before check_currencies.
ITEM_CURRENCY = "XXX"


class OrderStart(StrEnum):
    FIRST_EVENT = "first_event"
    CURRENT_EVENT = "current_event"


class EventAction(StrEnum):
    NORMAL = "normal"
    SKIP = "skip"
    END = "end"


class Allocation(StrEnum):
    TOTAL = "total"


@dataclass
class ContinuityParameters:
    repeat_threshold: int = 3
    delivery_lead_days: int = 5
    max_child_orders_per_run: int = 0
    authorize_child_orders: bool = False
    reauthorization_limit: int = 3
    upcoming_charge_notice_days: int = 3
    #: days before a child order would be made on an expired card that the customer is told to update it
    card_expiry_notice_days: int = 14
    #: prices (items, events, shipping charges) include tax (gross) or not (net, the default)
    prices_include_tax: bool = False
    #: dunning (domain/dunning.py): a soft decline is retried these days after the first decline ...
    retry_days: tuple[int, ...] = DunningPolicy.retry_days
    #: ... never later than this many days after it
    retry_window_days: int = DunningPolicy.window_days
    #: a card takes at most this many retries (all of its orders) in card_retry_budget_days
    card_retry_budget: int = DunningPolicy.card_budget
    card_retry_budget_days: int = DunningPolicy.budget_days

    def dunning(self) -> DunningPolicy:
        return DunningPolicy(
            tuple(self.retry_days), self.retry_window_days, self.card_retry_budget, self.card_retry_budget_days
        )

    def validate(self) -> None:
        self.dunning().validate()
        for name in ("repeat_threshold", "reauthorization_limit"):
            if getattr(self, name) < 1:
                raise ValidationFailed(
                    f"{name} must be at least 1", "parameters_invalid", {"field": name, "minimum": 1}
                )
        for name in (
            "delivery_lead_days",
            "max_child_orders_per_run",
            "upcoming_charge_notice_days",
            "card_expiry_notice_days",
        ):
            if getattr(self, name) < 0:
                raise ValidationFailed(
                    f"{name} must not be negative", "parameters_invalid", {"field": name, "minimum": 0}
                )


@dataclass
class PaymentSchedule:
    payment_schedule_id: str
    description: str
    number_of_payments: int
    interval: Interval
    allocation: Allocation = Allocation.TOTAL

    def validate(self) -> None:
        if self.number_of_payments < 1:
            raise ValidationFailed("number_of_payments must be at least 1", "payment_schedule_invalid")


@dataclass
class Product:
    item_id: str
    name: str
    price: Money
    continuity_program_id: str | None = None
    tax_group: str = ""  # its row in the rate table; "" is never taxed
    shipping: ShippingCharge = NO_CHARGE  # a parent product's charge per shipment (before its program's)

    @property
    def is_parent(self) -> bool:
        return self.continuity_program_id is not None


@dataclass
class Event:
    event_id: int
    item_id: str
    quantity: int
    times_to_repeat: int
    interval: Interval
    action: EventAction = EventAction.NORMAL
    price: Money | None = None
    start_date: date | None = None


@dataclass
class Program:
    program_id: str
    description: str
    order_start: OrderStart
    bill_up_front: bool
    days_after_order: int
    events: list[Event] = field(default_factory=list)
    payment_schedule_id: str | None = None
    prompt_for_start_date: bool = True
    prompt_for_payment_schedule: bool = False
    consolidate_past_orders: bool = False
    active: bool = True
    current_event: int | None = None
    #: what a return of one of its child orders does to the rest of the schedule (migration 0018)
    return_action: ReturnAction = ReturnAction.CONTINUE
    shipping: ShippingCharge = NO_CHARGE  # the charge per shipment, unless the parent product has its own
    #: days ahead of a charge that the customer is told of it; None: the parameters' upcoming_charge_notice_days
    upcoming_charge_notice_days: int | None = None

    def validate(self, known_items: set[str]) -> None:
        """Refuse gaps in event IDs, repeats < 1, quantities <= 0 and unknown items."""
        if not self.program_id.strip():
            raise ValidationFailed("program_id is required", "program_invalid", {"field": "program_id"})
        if not self.events:
            raise ValidationFailed(f"program {self.program_id} has no events", "program_no_events")
        ids = sorted(e.event_id for e in self.events)
        if ids != list(range(1, len(ids) + 1)):
            raise ValidationFailed(
                f"event IDs of program {self.program_id} must be 1..{len(ids)} without gaps, got {ids}",
                "event_ids_not_sequential",
            )
        if self.upcoming_charge_notice_days is not None and self.upcoming_charge_notice_days < 0:
            raise ValidationFailed(
                "upcoming_charge_notice_days must not be negative",
                "program_invalid",
                {"field": "upcoming_charge_notice_days", "minimum": 0},
            )
        if self.days_after_order < 0:
            raise ValidationFailed(
                "days_after_order must not be negative", "program_invalid", {"field": "days_after_order", "minimum": 0}
            )
        self.shipping.validate()
        for event in self.events:
            _validate_event(event, known_items)
        if all(e.action == EventAction.SKIP for e in self.events):
            raise ValidationFailed("every event is skipped: nothing would ship", "program_no_events")

    def take_item_currencies(self, currencies: Mapping[str, str]) -> None:
        """An event price given without a currency is in its item's currency (``currencies``: item → code)."""
        for event in self.events:
            if event.price is not None and event.price.currency == ITEM_CURRENCY and event.item_id in currencies:
                event.price = Money(event.price.amount, currencies[event.item_id])

    def sorted_events(self) -> list[Event]:
        return sorted(self.events, key=lambda e: e.event_id)

    def shippable_events(self) -> list[Event]:
        return [e for e in self.sorted_events() if e.action != EventAction.SKIP]

    def current_event_on(self, as_of: date) -> int:
        """The highest non-skip event whose start_date is on or before ``as_of``.

        When no event has started (or none has a start date), the first non-skip event.
        """
        candidates = self.shippable_events()
        started = [e for e in candidates if e.start_date is not None and e.start_date <= as_of]
        return (started[-1] if started else candidates[0]).event_id

    def starting_event(self) -> int:
        """Event a new order starts with, per ``order_start``."""
        first = self.shippable_events()[0].event_id
        if self.order_start == OrderStart.FIRST_EVENT or self.current_event is None:
            return first
        return self.current_event


def _validate_event(event: Event, known_items: set[str]) -> None:
    where = f"event {event.event_id}"
    if event.item_id not in known_items:
        raise ValidationFailed(f"{where}: unknown item {event.item_id!r}", "item_unknown")
    if event.quantity <= 0:
        raise ValidationFailed(f"{where}: quantity must be greater than 0", "quantity_invalid")
    if not 1 <= event.times_to_repeat <= MAX_REPEATS:
        raise ValidationFailed(
            f"{where}: times_to_repeat must be between 1 and {MAX_REPEATS}", "times_to_repeat_invalid"
        )
    if event.price is not None and event.price.amount < 0:
        raise ValidationFailed(f"{where}: price must not be negative", "price_invalid")
    if event.interval.count == 0:
        raise ValidationFailed(
            f"{where}: days_from_last_event (the interval from the previous shipment) must be "
            f"at least 1 day, not {event.interval}",
            "interval_zero",
        )


def check_currencies(program: Program, products: Mapping[str, Product]) -> None:
    """One currency per program: every event's item and price, and every parent product of the program.

    An order for a program that mixes currencies could never be charged (``currency_mismatch`` on every
    order), so setup refuses it, naming the item and the two currencies. ``products``: item → product,
    the program's items and its parent products among them (take_item_currencies first).
    """
    first: tuple[str, str] | None = None  # (item, currency) that sets the program's currency
    for event in program.sorted_events():
        item = products.get(event.item_id)
        if item is None:
            continue  # an unknown item is refused by validate
        currency = item.price.currency
        if event.price is not None and event.price.currency != currency:
            raise ValidationFailed(
                f"program {program.program_id}, event {event.event_id}: the price is in {event.price.currency} "
                f"but item {event.item_id} is priced in {currency}",
                "currency_mismatch",
            )
        if first is None:
            first = (event.item_id, currency)
        elif currency != first[1]:
            raise ValidationFailed(
                f"program {program.program_id} mixes currencies: item {event.item_id} is priced in {currency} "
                f"but item {first[0]} in {first[1]}",
                "currency_mismatch",
            )
    if first is None:
        return
    for parent in sorted(products.values(), key=lambda p: p.item_id):
        if parent.continuity_program_id == program.program_id and parent.price.currency != first[1]:
            raise ValidationFailed(
                f"parent item {parent.item_id} is priced in {parent.price.currency} but its program "
                f"{program.program_id} ships item {first[0]} in {first[1]}",
                "currency_mismatch",
            )
