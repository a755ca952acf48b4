"""The continuity schedule: a program expanded into dated occurrences for one order line.

The case tables read as the decisions of PRODUCT.md §2; the properties at the end check the same
rules over generated programs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from continuity.domain.calendar import Interval
from continuity.domain.money import Money
from continuity.domain.program import Event, EventAction, OrderStart, PaymentSchedule, Program
from continuity.domain.schedule import (
    Occurrence,
    OccurrenceStatus,
    materialise,
    occurrences_to_extend,
    plan_installments,
    plan_occurrences,
    program_total,
)

PROPERTY = settings(deadline=None, max_examples=100)
NORMAL, SKIP, END = EventAction.NORMAL, EventAction.SKIP, EventAction.END


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


PRICES = {"0013": usd("10.00"), "0014": usd("12.50"), "0015": usd("9.99")}


def ev(
    event_id: int,
    *,
    repeat: int = 1,
    every: str = "1 month",
    action: EventAction = NORMAL,
    item: str = "0013",
    quantity: int = 1,
    price: Money | None = None,
    start: str | None = None,
) -> Event:
    return Event(
        event_id,
        item,
        quantity,
        repeat,
        Interval.parse(every),
        action,
        price,
        date.fromisoformat(start) if start else None,
    )


def program(
    *events: Event,
    order_start: OrderStart = OrderStart.FIRST_EVENT,
    days_after_order: int = 0,
    bill_up_front: bool = False,
) -> Program:
    return Program("P", "test program", order_start, bill_up_front, days_after_order, list(events))


def shown(plan: list[Occurrence]) -> list[str]:
    """An occurrence as 'event@ship date', the way the case tables spell them."""
    return [f"{occ.event_id}@{occ.ship_date.isoformat()}" for occ in plan]


# --------------------------------------------------------------------------------------------
# plan_occurrences: which events ship, how often, and on which dates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    events: tuple[Event, ...]
    expected: tuple[str, ...]
    start: str = "2026-01-15"
    order_start: OrderStart = OrderStart.FIRST_EVENT
    as_of: str | None = None  # the day update-event-period last ran (sets program.current_event)
    days_after_order: int = 0


DATED = (ev(1, start="2026-01-01"), ev(2, start="2026-02-01"), ev(3, start="2026-03-01"))

PLAN_CASES = [
    # --- where the order starts -------------------------------------------------------------
    pytest.param(
        Case((ev(1), ev(2), ev(3)), ("1@2026-01-15", "2@2026-02-15", "3@2026-03-15")),
        id="first_event_start_ships_every_event_in_order_from_event_1",
    ),
    pytest.param(
        Case(DATED, ("1@2026-01-15", "2@2026-02-15", "3@2026-03-15"), as_of="2026-02-10"),
        id="first_event_start_ignores_the_current_event",
    ),
    pytest.param(
        Case(
            DATED,
            ("2@2026-02-10", "3@2026-03-10"),
            start="2026-02-10",
            order_start=OrderStart.CURRENT_EVENT,
            as_of="2026-02-10",
        ),
        id="current_event_start_begins_at_the_current_event_and_never_wraps_to_event_1",
    ),
    pytest.param(
        Case(
            DATED,
            ("1@2025-12-20", "2@2026-01-20", "3@2026-02-20"),
            start="2025-12-20",
            order_start=OrderStart.CURRENT_EVENT,
            as_of="2025-12-20",
        ),
        id="current_event_start_before_any_event_started_begins_at_event_1",
    ),
    pytest.param(
        Case(DATED, ("3@2026-06-01",), start="2026-06-01", order_start=OrderStart.CURRENT_EVENT, as_of="2026-06-01"),
        id="current_event_start_after_the_last_event_started_ships_only_the_last_event",
    ),
    pytest.param(
        Case(
            (ev(1, start="2026-01-01"), ev(2, action=SKIP, start="2026-02-01"), ev(3, start="2026-03-01")),
            ("1@2026-02-10", "3@2026-03-10"),
            start="2026-02-10",
            order_start=OrderStart.CURRENT_EVENT,
            as_of="2026-02-10",
        ),
        id="current_event_start_never_begins_at_a_skip_event",
    ),
    pytest.param(
        Case(
            (ev(1, action=END, start="2026-01-01"), ev(2, start="2026-02-01"), ev(3, start="2026-03-01")),
            ("2@2026-02-10", "3@2026-03-10"),
            start="2026-02-10",
            order_start=OrderStart.CURRENT_EVENT,
            as_of="2026-02-10",
        ),
        id="an_end_event_before_the_start_event_does_not_stop_the_order",
    ),
    # --- repeats, skip and end -------------------------------------------------------------------
    pytest.param(
        Case(
            (ev(1, repeat=3, every="30 days"), ev(2, repeat=2, every="30 days")),
            ("1@2026-01-01", "1@2026-01-31", "1@2026-03-02", "2@2026-04-01", "2@2026-05-01"),
            start="2026-01-01",
        ),
        id="times_to_repeat_ships_each_event_that_many_times_in_a_row",
    ),
    pytest.param(
        Case((ev(1), ev(2, repeat=3, action=SKIP), ev(3)), ("1@2026-01-15", "3@2026-02-15")),
        id="a_skip_event_is_never_shipped_and_takes_no_ship_date",
    ),
    pytest.param(
        Case((ev(1, action=SKIP), ev(2), ev(3)), ("2@2026-01-15", "3@2026-02-15")),
        id="a_skipped_first_event_starts_the_order_at_the_next_event",
    ),
    pytest.param(
        Case((ev(1), ev(2, repeat=2, action=END), ev(3)), ("1@2026-01-15", "2@2026-02-15", "2@2026-03-15")),
        id="an_end_event_ships_all_its_repeats_then_nothing_follows",
    ),
    pytest.param(
        Case((ev(1, action=END), ev(2), ev(3)), ("1@2026-01-15",)),
        id="an_end_event_first_ends_the_order_after_its_own_shipment",
    ),
    pytest.param(
        Case((ev(1, action=END), ev(2, action=END)), ("1@2026-01-15",)), id="the_first_end_event_wins_over_a_later_one"
    ),
    # --- dates ---------------------------------------------------------------------------------------
    pytest.param(
        Case((ev(1, every="90 days"), ev(2)), ("1@2026-01-15", "2@2026-02-15")),
        id="the_first_events_own_interval_does_not_delay_the_first_shipment",
    ),
    pytest.param(
        Case((ev(1), ev(2)), ("1@2026-01-15", "2@2026-02-15"), start="2026-01-01", days_after_order=14),
        id="days_after_order_moves_the_first_shipment_and_the_rest_follow_it",
    ),
    pytest.param(
        Case((ev(1), ev(2)), ("1@2027-03-01", "2@2027-04-01"), start="2027-01-31", days_after_order=29),
        id="days_after_order_across_february_sets_the_anchor_day_to_the_1st",
    ),
    pytest.param(
        Case((ev(1, repeat=4),), ("1@2027-01-31", "1@2027-02-28", "1@2027-03-31", "1@2027-04-30"), start="2027-01-31"),
        id="monthly_from_jan_31_clamps_to_feb_28_and_returns_to_mar_31_in_2027",
    ),
    pytest.param(
        Case((ev(1, repeat=3),), ("1@2028-01-31", "1@2028-02-29", "1@2028-03-31"), start="2028-01-31"),
        id="monthly_from_jan_31_clamps_to_feb_29_in_the_leap_year_2028",
    ),
    pytest.param(
        Case(
            (ev(1, repeat=2), ev(2, repeat=2)),
            ("1@2027-01-31", "1@2027-02-28", "2@2027-03-31", "2@2027-04-30"),
            start="2027-01-31",
        ),
        id="the_month_anchor_day_is_kept_across_events",
    ),
    pytest.param(
        Case(
            (ev(1, repeat=5, every="12 months"),),
            ("1@2028-02-29", "1@2029-02-28", "1@2030-02-28", "1@2031-02-28", "1@2032-02-29"),
            start="2028-02-29",
        ),
        id="yearly_from_feb_29_clamps_to_feb_28_and_returns_to_feb_29_in_the_next_leap_year",
    ),
    pytest.param(
        Case(
            (ev(1, repeat=5, every="2 months"),),
            ("1@2026-12-31", "1@2027-02-28", "1@2027-04-30", "1@2027-06-30", "1@2027-08-31"),
            start="2026-12-31",
        ),
        id="two_month_steps_clamp_and_recover_the_31st",
    ),
    pytest.param(
        Case((ev(1, repeat=3, every="1 day"),), ("1@2028-02-28", "1@2028-02-29", "1@2028-03-01"), start="2028-02-28"),
        id="day_steps_pass_through_the_leap_day",
    ),
    pytest.param(
        Case((ev(1, repeat=3, every="30 days"),), ("1@2028-01-31", "1@2028-03-01", "1@2028-03-31"), start="2028-01-31"),
        id="thirty_day_steps_count_the_leap_day",
    ),
    pytest.param(
        Case(
            (ev(1, repeat=2), ev(2, every="1 day"), ev(3)),
            ("1@2027-01-31", "1@2027-02-28", "2@2027-03-01", "3@2027-04-01"),
            start="2027-01-31",
        ),
        id="a_day_step_resets_the_month_anchor_to_the_new_date",
    ),
    pytest.param(
        Case((ev(1, repeat=3, every="30 days"),), ("1@2026-12-15", "1@2027-01-14", "1@2027-02-13"), start="2026-12-15"),
        id="day_steps_cross_the_year_end",
    ),
    pytest.param(
        Case((ev(1, repeat=2, every="0 days"),), ("1@2026-01-15", "1@2026-01-15")),
        id="a_zero_day_interval_ships_repeats_on_the_same_day",
    ),
]


@pytest.mark.parametrize("case", PLAN_CASES)
def test_the_schedule_ships_these_events_on_these_dates(case: Case):
    prog = program(*case.events, order_start=case.order_start, days_after_order=case.days_after_order)
    if case.as_of:
        prog.current_event = prog.current_event_on(date.fromisoformat(case.as_of))
    plan = plan_occurrences(prog, PRICES, date.fromisoformat(case.start), prog.starting_event())
    assert shown(plan) == list(case.expected)


def test_occurrences_are_numbered_from_1_and_carry_item_quantity_and_item_price():
    prog = program(ev(1, item="0013", quantity=2), ev(2, item="0014", repeat=2), ev(3, item="0015", action=SKIP))
    plan = plan_occurrences(prog, PRICES, date(2026, 1, 15), 1)
    assert [(o.seq, o.event_id, o.item_id, o.quantity, o.price) for o in plan] == [
        (1, 1, "0013", 2, usd("10.00")),
        (2, 2, "0014", 1, usd("12.50")),
        (3, 2, "0014", 1, usd("12.50")),
    ]


def test_an_event_price_overrides_the_item_price_even_when_it_is_zero():
    prog = program(ev(1, item="0013", price=usd("7.25")), ev(2, item="0014", price=usd("0")), ev(3, item="0015"))
    plan = plan_occurrences(prog, PRICES, date(2026, 1, 15), 1)
    assert [o.price for o in plan] == [usd("7.25"), usd("0.00"), usd("9.99")]


def test_an_occurrence_amount_is_price_times_quantity_and_the_program_total_adds_them():
    prog = program(ev(1, item="0014", quantity=3), ev(2, item="0015", repeat=2))
    plan = plan_occurrences(prog, PRICES, date(2026, 1, 15), 1)
    assert [o.amount for o in plan] == [usd("37.50"), usd("9.99"), usd("9.99")]
    assert program_total(plan, "USD") == usd("57.48")


def test_a_start_event_after_the_last_event_plans_nothing():
    assert plan_occurrences(program(ev(1), ev(2)), PRICES, date(2026, 1, 15), 3) == []


# --------------------------------------------------------------------------------------------
# materialise: what is written at order entry
# --------------------------------------------------------------------------------------------

#: Event 1 ×5 (seq 1–5), event 2 ×2 (seq 6–7), event 3 ×4 (seq 8–11).
THREE_EVENTS = program(ev(1, repeat=5), ev(2, repeat=2, item="0014"), ev(3, repeat=4, item="0015"))
THREE_EVENT_PLAN = plan_occurrences(THREE_EVENTS, PRICES, date(2026, 1, 15), 1)


@pytest.mark.parametrize(
    ("threshold", "bill_up_front", "expected_seqs"),
    [
        pytest.param(3, False, [1, 2, 3, 6, 7, 8, 9, 10], id="not_up_front_keeps_at_most_3_per_event"),
        pytest.param(1, False, [1, 6, 8], id="not_up_front_threshold_1_keeps_the_first_of_each_event"),
        pytest.param(5, False, list(range(1, 12)), id="not_up_front_threshold_above_every_repeat_keeps_all"),
        pytest.param(1, True, list(range(1, 12)), id="billed_up_front_keeps_all_whatever_the_threshold"),
        pytest.param(3, True, list(range(1, 12)), id="billed_up_front_keeps_all"),
    ],
)
def test_order_entry_materialises_these_occurrences(threshold, bill_up_front, expected_seqs):
    kept = materialise(THREE_EVENT_PLAN, threshold, bill_up_front)
    assert [o.seq for o in kept] == expected_seqs


# --------------------------------------------------------------------------------------------
# occurrences_to_extend: extend-lines tops each event up to the threshold
# --------------------------------------------------------------------------------------------

P_, C_, I_, X_, S_ = (
    OccurrenceStatus.PENDING,
    OccurrenceStatus.CHILD_CREATED,
    OccurrenceStatus.INVOICED,
    OccurrenceStatus.CANCELLED,
    OccurrenceStatus.SKIPPED,
)
AT_ENTRY = {seq: P_ for seq in (1, 2, 3, 6, 7, 8, 9, 10)}


@pytest.mark.parametrize(
    ("materialised", "expected_seqs"),
    [
        pytest.param(AT_ENTRY, [], id="nothing_used_up_adds_nothing"),
        pytest.param({**AT_ENTRY, 1: C_}, [4], id="one_child_order_created_adds_the_next_repeat_of_that_event"),
        pytest.param(
            {**AT_ENTRY, 1: I_, 2: I_, 8: S_}, [4, 5, 11], id="invoiced_and_skipped_occurrences_free_room_in_plan_order"
        ),
        pytest.param(
            {**AT_ENTRY, 1: X_, 2: X_, 3: X_}, [4, 5], id="cancelled_ones_free_room_but_never_beyond_the_plan"
        ),
        pytest.param(
            {1: C_, 2: C_, 3: C_, 4: C_, 5: P_, 6: P_, 7: P_, 8: P_, 9: P_, 10: P_, 11: P_},
            [],
            id="a_fully_materialised_plan_adds_nothing",
        ),
        pytest.param({}, [1, 2, 3, 6, 7, 8, 9, 10], id="an_empty_schedule_gets_what_order_entry_would_write"),
        pytest.param(
            {seq: P_ for seq in (1, 2, 3, 4, 6)}, [7, 8, 9, 10], id="an_event_already_above_the_threshold_gets_no_more"
        ),
    ],
)
def test_extend_lines_adds_these_occurrences(materialised, expected_seqs):
    added = occurrences_to_extend(THREE_EVENT_PLAN, materialised, 3)
    assert [o.seq for o in added] == expected_seqs


# --------------------------------------------------------------------------------------------
# plan_installments: the payment schedule of an order
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "payments", "interval", "first_due", "expected"),
    [
        pytest.param(
            "100.00",
            3,
            "1 month",
            "2027-01-31",
            ["2027-01-31 33.33", "2027-02-28 33.33", "2027-03-31 33.34"],
            id="three_monthly_payments_remainder_last_and_month_ends_clamped",
        ),
        pytest.param("10.00", 1, "1 month", "2026-05-01", ["2026-05-01 10.00"], id="one_payment_is_the_whole_amount"),
        pytest.param(
            "0.05",
            3,
            "30 days",
            "2028-02-01",
            ["2028-02-01 0.01", "2028-03-02 0.01", "2028-04-01 0.03"],
            id="a_few_cents_over_30_day_steps_in_a_leap_year",
        ),
        pytest.param(
            "120.00",
            4,
            "2 months",
            "2028-12-31",
            ["2028-12-31 30.00", "2029-02-28 30.00", "2029-04-30 30.00", "2029-06-30 30.00"],
            id="two_month_steps_from_dec_31",
        ),
    ],
)
def test_installments_are_planned_like_this(amount, payments, interval, first_due, expected):
    schedule = PaymentSchedule("PS", "test", payments, Interval.parse(interval))
    planned = plan_installments(usd(amount), schedule, date.fromisoformat(first_due))
    assert [p.seq for p in planned] == list(range(1, payments + 1))
    assert [f"{p.due_date.isoformat()} {p.amount.amount}" for p in planned] == expected


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

ITEMS = sorted(PRICES)
positive_intervals = st.one_of(
    st.integers(1, 400).map(Interval.days),
    st.integers(1, 14).map(lambda n: Interval(n, "months")),
)


@st.composite
def programs(draw) -> Program:
    count = draw(st.integers(1, 6))
    events = [
        Event(
            event_id,
            draw(st.sampled_from(ITEMS)),
            draw(st.integers(1, 3)),
            draw(st.integers(1, 5)),
            draw(positive_intervals),
            draw(st.sampled_from([NORMAL, NORMAL, SKIP, END])),
        )
        for event_id in range(1, count + 1)
    ]
    return Program(
        "P", "generated", OrderStart.FIRST_EVENT, False, draw(st.integers(0, 90)), draw(st.permutations(events))
    )


start_dates = st.dates(date(1990, 1, 1), date(2200, 12, 31))


def expected_count(prog: Program, start_event: int) -> int:
    """Sum of times_to_repeat of the non-skip events from the start event up to the first end event."""
    count = 0
    for event in sorted(prog.events, key=lambda e: e.event_id):
        if event.event_id < start_event or event.action == SKIP:
            continue
        count += event.times_to_repeat
        if event.action == END:
            break
    return count


def month_index(day: date) -> int:
    return day.year * 12 + day.month


def days_in_month(day: date) -> int:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


@PROPERTY
@given(prog=programs(), start=start_dates, data=st.data())
def test_the_number_of_occurrences_is_the_repeats_of_the_shipped_events_up_to_the_first_end(prog, start, data):
    start_event = data.draw(st.integers(1, len(prog.events) + 1), label="start_event")
    plan = plan_occurrences(prog, PRICES, start, start_event)
    assert len(plan) == expected_count(prog, start_event)
    assert [o.seq for o in plan] == list(range(1, len(plan) + 1))
    by_id = {e.event_id: e for e in prog.events}
    assert all(by_id[o.event_id].action != SKIP and o.event_id >= start_event for o in plan)
    assert [o.event_id for o in plan] == sorted(o.event_id for o in plan)


@PROPERTY
@given(prog=programs(), start=start_dates)
def test_ship_dates_strictly_increase_when_every_interval_is_at_least_a_day_or_a_month(prog, start):
    plan = plan_occurrences(prog, PRICES, start, 1)
    dates = [o.ship_date for o in plan]
    assert all(earlier < later for earlier, later in zip(dates, dates[1:]))


@PROPERTY
@given(prog=programs(), start=start_dates)
def test_each_ship_date_adds_the_events_interval_keeping_the_anchor_day_for_months(prog, start):
    plan = plan_occurrences(prog, PRICES, start, 1)
    if not plan:
        return
    by_id = {e.event_id: e for e in prog.events}
    assert plan[0].ship_date == start + timedelta(days=prog.days_after_order)
    anchor = plan[0].ship_date
    for previous, occ in zip(plan, plan[1:]):
        interval = by_id[occ.event_id].interval
        if interval.unit == "days":
            assert occ.ship_date - previous.ship_date == timedelta(days=interval.count)
            anchor = occ.ship_date
        else:
            assert month_index(occ.ship_date) - month_index(previous.ship_date) == interval.count
            assert occ.ship_date.day == min(anchor.day, days_in_month(occ.ship_date))


@PROPERTY
@given(prog=programs(), start=start_dates, threshold=st.integers(1, 6), up_front=st.booleans())
def test_materialise_keeps_the_first_repeats_of_each_event_up_to_the_threshold(prog, start, threshold, up_front):
    plan = plan_occurrences(prog, PRICES, start, 1)
    kept = materialise(plan, threshold, up_front)
    if up_front:
        assert kept == plan
        return
    per_event = Counter(o.event_id for o in plan)
    expected = [o for o in plan if sum(1 for p in plan[: o.seq] if p.event_id == o.event_id) <= threshold]
    assert kept == expected
    assert Counter(o.event_id for o in kept) == {e: min(n, threshold) for e, n in per_event.items()}


USED_UP = [
    OccurrenceStatus.CHILD_CREATED,
    OccurrenceStatus.INVOICED,
    OccurrenceStatus.CANCELLED,
    OccurrenceStatus.SKIPPED,
]


@PROPERTY
@given(prog=programs(), start=start_dates, threshold=st.integers(1, 4), data=st.data())
def test_extend_lines_never_exceeds_the_plan_nor_the_threshold_and_eventually_covers_the_plan(
    prog, start, threshold, data
):
    plan = plan_occurrences(prog, PRICES, start, 1)
    state = {o.seq: OccurrenceStatus.PENDING for o in materialise(plan, threshold, False)}
    event_of = {o.seq: o.event_id for o in plan}
    for _ in range(len(plan) + 1):
        pending_before = Counter(event_of[s] for s, status in state.items() if status == OccurrenceStatus.PENDING)
        unwritten_before = Counter(event_of[s] for s in event_of if s not in state)
        added = occurrences_to_extend(plan, state, threshold)
        added_seqs = [o.seq for o in added]
        assert all(o in plan for o in added)
        assert not set(added_seqs) & set(state), "an occurrence was added twice"
        assert added_seqs == sorted(set(added_seqs))
        for seq in added_seqs:
            state[seq] = OccurrenceStatus.PENDING
        pending_after = Counter(event_of[s] for s, status in state.items() if status == OccurrenceStatus.PENDING)
        for event_id in set(event_of.values()):
            assert pending_after[event_id] <= threshold
            # topped up as far as the threshold and the event's remaining repeats allow
            assert pending_after[event_id] == min(threshold, pending_before[event_id] + unwritten_before[event_id])
        # the batch uses up some pending occurrences (the earliest first, as child orders would)
        pending = sorted(s for s, status in state.items() if status == OccurrenceStatus.PENDING)
        if not pending:
            break
        used = data.draw(st.integers(1, len(pending)), label="used")
        for seq in pending[:used]:
            state[seq] = data.draw(st.sampled_from(USED_UP), label="status")
    assert sorted(state) == [o.seq for o in plan]
    assert occurrences_to_extend(plan, state, threshold) == []


@PROPERTY
@given(minor=st.integers(0, 10**11), payments=st.integers(1, 60), first_due=start_dates, interval=positive_intervals)
def test_installments_sum_back_exactly_to_the_total_with_the_remainder_on_the_last(
    minor, payments, first_due, interval
):
    amount = Money.from_minor(minor, "EUR")
    planned = plan_installments(amount, PaymentSchedule("PS", "generated", payments, interval), first_due)
    assert len(planned) == payments
    assert sum(p.amount.minor for p in planned) == minor
    assert all(p.amount.currency == "EUR" for p in planned)
    share = minor // payments
    assert all(p.amount.minor == share for p in planned[:-1])
    assert planned[-1].amount.minor == minor - share * (payments - 1)
    assert planned[0].due_date == first_due
    assert all(a.due_date < b.due_date for a, b in zip(planned, planned[1:]))
