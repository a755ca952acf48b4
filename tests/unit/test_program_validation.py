"""Program.validate, the current event of a program and the event a new order starts with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from continuity.domain.calendar import Interval
from continuity.domain.errors import ValidationFailed
from continuity.domain.money import Money
from continuity.domain.program import (
    ITEM_CURRENCY,
    ContinuityParameters,
    Event,
    EventAction,
    OrderStart,
    PaymentSchedule,
    Product,
    Program,
    check_currencies,
)

NORMAL, SKIP, END = EventAction.NORMAL, EventAction.SKIP, EventAction.END
KNOWN_ITEMS = {"0013", "0014", "0015"}


def ev(
    event_id: int,
    *,
    item: str = "0013",
    quantity: int = 1,
    repeat: int = 1,
    action: EventAction = NORMAL,
    price: str | None = None,
    start: str | None = None,
    every: str = "1 month",
    currency: str = "USD",
) -> Event:
    return Event(
        event_id,
        item,
        quantity,
        repeat,
        Interval.parse(every),
        action,
        Money(Decimal(price), currency) if price is not None else None,
        date.fromisoformat(start) if start else None,
    )


def program(
    *events: Event,
    program_id: str = "BOOKCLUB",
    days_after_order: int = 0,
    order_start: OrderStart = OrderStart.FIRST_EVENT,
    current_event: int | None = None,
) -> Program:
    return Program(
        program_id, "test program", order_start, False, days_after_order, list(events), current_event=current_event
    )


# --- validate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([ev(1), ev(2, item="0014"), ev(3, item="0015")], id="three_events_in_sequence"),
        pytest.param([ev(2), ev(1)], id="events_listed_out_of_order_but_numbered_1_and_2"),
        pytest.param([ev(1, action=SKIP), ev(2, action=END)], id="one_skip_and_one_end"),
        pytest.param([ev(1, repeat=12, quantity=5, price="0.00")], id="a_free_event_repeated_12_times"),
    ],
)
def test_a_well_formed_program_validates(events):
    program(*events).validate(KNOWN_ITEMS)  # raises on failure


@pytest.mark.parametrize(
    ("prog", "code", "mentions"),
    [
        pytest.param(program(ev(1), ev(3)), "event_ids_not_sequential", "[1, 3]", id="a_gap_in_event_ids"),
        pytest.param(program(ev(1), ev(1)), "event_ids_not_sequential", "[1, 1]", id="a_duplicate_event_id"),
        pytest.param(program(ev(0), ev(1)), "event_ids_not_sequential", "[0, 1]", id="event_ids_starting_at_0"),
        pytest.param(program(ev(2), ev(3)), "event_ids_not_sequential", "[2, 3]", id="event_ids_starting_at_2"),
        pytest.param(program(ev(1), ev(2, repeat=0)), "times_to_repeat_invalid", "event 2", id="times_to_repeat_0"),
        pytest.param(program(ev(1, repeat=-1)), "times_to_repeat_invalid", "event 1", id="times_to_repeat_negative"),
        pytest.param(program(ev(1), ev(2, quantity=0)), "quantity_invalid", "event 2", id="quantity_0"),
        pytest.param(program(ev(1, quantity=-2)), "quantity_invalid", "event 1", id="quantity_negative"),
        pytest.param(program(ev(1), ev(2, item="9999")), "item_unknown", "9999", id="an_unknown_item"),
        pytest.param(program(ev(1, price="-0.01")), "price_invalid", "event 1", id="a_negative_price"),
        pytest.param(
            program(ev(1, action=SKIP), ev(2, action=SKIP)), "program_no_events", "skipped", id="every_event_skipped"
        ),
        pytest.param(program(), "program_no_events", "BOOKCLUB", id="no_events"),
        pytest.param(program(ev(1), program_id="  "), "program_invalid", "program_id", id="a_blank_program_id"),
        pytest.param(
            program(ev(1), days_after_order=-1), "program_invalid", "days_after_order", id="negative_days_after_order"
        ),
        pytest.param(program(ev(1), ev(2, every="0 days")), "interval_zero", "event 2", id="an_interval_of_0_days"),
        pytest.param(
            program(ev(1, repeat=2, every="0 months")),
            "interval_zero",
            "days_from_last_event",
            id="an_interval_of_0_months",
        ),
    ],
)
def test_program_validate_refuses(prog, code, mentions):
    with pytest.raises(ValidationFailed) as caught:
        prog.validate(KNOWN_ITEMS)
    assert caught.value.code == code
    assert mentions in caught.value.message


# --- one currency per program ----------------------------------------------------------------------


def products(*items: tuple[str, str], parent: tuple[str, str] | None = None) -> dict[str, Product]:
    found = {i: Product(i, i, Money(Decimal("10.00"), c)) for i, c in items}
    if parent is not None:
        found[parent[0]] = Product(parent[0], "club", Money(Decimal("0.00"), parent[1]), "BOOKCLUB")
    return found


def test_a_program_in_one_currency_with_its_parent_passes():
    check_currencies(
        program(ev(1), ev(2, item="0014", price="3.00")),
        products(("0013", "USD"), ("0014", "USD"), parent=("88000", "USD")),
    )


@pytest.mark.parametrize(
    ("prog", "catalog", "mentions"),
    [
        pytest.param(
            program(ev(1), ev(2, item="0014")),
            products(("0013", "EUR"), ("0014", "USD")),
            ("BOOKCLUB", "0014", "USD", "0013", "EUR"),
            id="items_in_two_currencies",
        ),
        pytest.param(
            program(ev(1, price="3.00", currency="EUR")),
            products(("0013", "USD")),
            ("event 1", "EUR", "0013", "USD"),
            id="an_event_price_in_another_currency_than_its_item",
        ),
        pytest.param(
            program(ev(1)),
            products(("0013", "USD"), parent=("88000", "EUR")),
            ("88000", "EUR", "BOOKCLUB", "USD"),
            id="a_parent_in_another_currency_than_its_program",
        ),
    ],
)
def test_check_currencies_refuses(prog, catalog, mentions):
    with pytest.raises(ValidationFailed) as caught:
        check_currencies(prog, catalog)
    assert caught.value.code == "currency_mismatch"
    assert all(word in caught.value.message for word in mentions), caught.value.message


def test_an_event_price_given_without_a_currency_takes_its_items():
    prog = program(ev(1, price="3.00", currency=ITEM_CURRENCY), ev(2, item="0014"))
    prog.take_item_currencies({"0013": "SEK", "0014": "SEK"})
    assert prog.events[0].price == Money(Decimal("3.00"), "SEK")
    check_currencies(prog, products(("0013", "SEK"), ("0014", "SEK")))


# --- current_event_on -----------------------------------------------------------------------------

DATED = [ev(1, start="2026-01-01"), ev(2, start="2026-02-01"), ev(3, start="2026-03-01")]


@pytest.mark.parametrize(
    ("events", "as_of", "expected"),
    [
        pytest.param(DATED, "2026-02-15", 2, id="the_highest_event_started_on_or_before_the_date"),
        pytest.param(DATED, "2026-02-01", 2, id="an_event_starting_on_the_date_is_current"),
        pytest.param(DATED, "2026-01-31", 1, id="the_day_before_a_start_date_the_previous_event"),
        pytest.param(DATED, "2027-06-01", 3, id="long_after_the_last_start_the_last_event"),
        pytest.param(DATED, "2025-12-31", 1, id="before_any_event_started_the_first_event"),
        pytest.param([ev(1), ev(2), ev(3)], "2026-02-15", 1, id="without_start_dates_the_first_event"),
        pytest.param(
            [ev(1, action=SKIP, start="2026-01-01"), ev(2, start="2026-02-01")],
            "2025-06-01",
            2,
            id="before_any_event_started_the_first_non_skip_event",
        ),
        pytest.param(
            [ev(1, start="2026-01-01"), ev(2, action=SKIP, start="2026-02-01"), ev(3, start="2026-03-01")],
            "2026-02-15",
            1,
            id="a_started_skip_event_is_never_current",
        ),
        pytest.param(
            [ev(1, start="2026-03-01"), ev(2, start="2026-01-01"), ev(3, start="2026-05-01")],
            "2026-03-15",
            2,
            id="the_highest_numbered_started_event_not_the_latest_started",
        ),
        pytest.param(
            [ev(3, start="2026-03-01"), ev(1, start="2026-01-01"), ev(2, start="2026-02-01")],
            "2026-02-15",
            2,
            id="events_stored_out_of_order",
        ),
        pytest.param(
            [ev(1, start="2026-01-01"), ev(2), ev(3, start="2026-03-01")],
            "2026-02-15",
            1,
            id="an_event_without_a_start_date_never_becomes_current_by_date",
        ),
    ],
)
def test_the_current_event_on_a_date_is(events, as_of, expected):
    assert program(*events).current_event_on(date.fromisoformat(as_of)) == expected


# --- starting_event -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prog", "expected"),
    [
        pytest.param(program(*DATED, current_event=3), 1, id="first_event_programs_start_at_event_1"),
        pytest.param(
            program(ev(1, action=SKIP), ev(2), current_event=2),
            2,
            id="first_event_programs_start_at_the_first_non_skip_event",
        ),
        pytest.param(
            program(*DATED, order_start=OrderStart.CURRENT_EVENT, current_event=2),
            2,
            id="current_event_programs_start_at_the_current_event",
        ),
        pytest.param(
            program(ev(1, action=SKIP), ev(2), order_start=OrderStart.CURRENT_EVENT),
            2,
            id="current_event_programs_without_a_current_event_start_at_the_first_non_skip",
        ),
    ],
)
def test_a_new_order_starts_at_event(prog, expected):
    assert prog.starting_event() == expected


def test_shippable_events_are_the_non_skip_events_in_event_order():
    prog = program(ev(3), ev(1, action=SKIP), ev(4, action=END), ev(2))
    assert [e.event_id for e in prog.sorted_events()] == [1, 2, 3, 4]
    assert [e.event_id for e in prog.shippable_events()] == [2, 3, 4]


# --- parameters and payment schedules ---------------------------------------------------------------


def test_the_default_continuity_parameters_are_valid():
    ContinuityParameters().validate()


@pytest.mark.parametrize(
    "changes",
    [
        {"repeat_threshold": 0},
        {"reauthorization_limit": 0},
        {"delivery_lead_days": -1},
        {"max_child_orders_per_run": -1},
        {"upcoming_charge_notice_days": -1},
        {"card_expiry_notice_days": -1},
    ],
)
def test_continuity_parameters_refuse(changes):
    with pytest.raises(ValidationFailed) as caught:
        ContinuityParameters(**changes).validate()
    assert caught.value.code == "parameters_invalid"
    assert next(iter(changes)) in caught.value.message


def test_zero_lead_days_and_no_child_order_limit_are_allowed():
    ContinuityParameters(delivery_lead_days=0, max_child_orders_per_run=0).validate()


def test_a_payment_schedule_needs_at_least_one_payment():
    PaymentSchedule("PS1", "one", 1, Interval.parse("1 month")).validate()
    with pytest.raises(ValidationFailed) as caught:
        PaymentSchedule("PS0", "none", 0, Interval.parse("1 month")).validate()
    assert caught.value.code == "payment_schedule_invalid"
