"""The pure servicing rules: adjustments apply to pending occurrences only, in plan and stored rows
alike; the date basis of a plan; one sentence per occurrence."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from continuity.domain.calendar import Interval
from continuity.domain.errors import RuleViolation, ValidationFailed
from continuity.domain.money import Money
from continuity.domain.program import Event, OrderStart, Program
from continuity.domain.schedule import OccurrenceStatus, plan_occurrences
from continuity.domain.servicing import (
    Explanation,
    LineSchedule,
    Slot,
    Why,
    cancel,
    explanation,
    pause,
    reschedule,
    skip,
)
from continuity.entrypoints.wording import why_text

EUR = Money.from_minor(990, "EUR")


def _line(start: date = date(2027, 12, 31), stored: int = 3, created: int = 1) -> LineSchedule:
    program = Program("M", "monthly", OrderStart.FIRST_EVENT, False, 0, [Event(1, "0022", 1, 6, Interval(1, "months"))])
    plan = plan_occurrences(program, {"0022": EUR}, start, 1)
    slots = {
        o.seq: Slot(o, OccurrenceStatus.CHILD_CREATED if o.seq <= created else OccurrenceStatus.PENDING, stored=True)
        for o in plan[:stored]
    }
    return LineSchedule("SO-1", 1, slots, plan)


def test_a_monthly_plan_knows_its_start_its_month_end_clamps_and_its_return_to_the_anchor_day():
    bases = [(s.occ.ship_date.isoformat(), s.occ.basis) for s in _line().slots()]
    assert bases == [
        ("2027-12-31", "start"),
        ("2028-01-31", "interval"),
        ("2028-02-29", "month_end"),
        ("2028-03-31", "month_day"),
        ("2028-04-30", "month_end"),
        ("2028-05-31", "month_day"),
    ]


def test_pause_then_resume_moves_stored_and_planned_pending_occurrences_by_the_pause_length():
    line = _line()
    paused = line.with_adjustment(pause(line, date(2028, 1, 31)))
    assert [s.is_paused for s in paused.slots()] == [False] + [True] * 5
    resumed, closed = paused.with_resume(date(2028, 3, 1))
    assert closed.days == 30
    assert [s.occ.ship_date.isoformat() for s in resumed.slots()] == [
        "2027-12-31",
        "2028-03-01",
        "2028-03-30",
        "2028-04-30",
        "2028-05-30",
        "2028-06-30",
    ]
    assert resumed.slots()[0] == line.slots()[0]  # history is never moved
    why = explanation(resumed.slot(4))
    assert (why.code, why.params["from"], why.params["days"]) == (Why.PAUSED, "2028-03-31", 30)
    assert why_text(why) == (
        "Occurrence 4 ships on 2028-04-30: moved 30 day(s) from 2028-03-31 because the order was paused from "
        "2028-01-31 and resumed on 2028-03-01."
    )


def test_skip_stores_a_planned_occurrence_and_cancel_drops_the_unstored_rest():
    line = _line()
    skipped = line.with_adjustment(skip(line, 5))
    assert skipped.stored[5].status == OccurrenceStatus.SKIPPED
    cancelled = skipped.with_adjustment(cancel(skipped, date(2028, 2, 1)))
    assert [(s.seq, s.status.value) for s in cancelled.slots()] == [
        (1, "child_created"),
        (2, "pending"),
        (3, "cancelled"),
        (5, "skipped"),
    ]


def test_reschedule_keeps_the_order_of_shipments_and_refuses_history():
    line = _line()
    with pytest.raises(ValidationFailed, match="must be before occurrence 3"):
        reschedule(line, 2, date(2027, 12, 1), new_date=date(2028, 3, 1))
    with pytest.raises(RuleViolation):
        reschedule(line, 1, date(2027, 12, 1), days=2)
    shifted = line.with_adjustment(reschedule(line, 2, date(2027, 12, 1), days=3, following=True))
    assert [s.occ.ship_date.day for s in shifted.slots()][1:3] == [3, 3]  # Feb 3, Mar 3
    assert explanation(shifted.slot(6)).code == Why.SHIFTED


def test_a_row_without_basis_parameters_still_gets_a_sentence():
    slot = Slot(replace(_line().plan[1], basis="interval", basis_args={}), stored=True)
    assert explanation(slot) == Explanation(2, Why.PLANNED, {"date": "2028-01-31", "seq": 2})
    assert why_text(explanation(slot)) == "Occurrence 2 ships on 2028-01-31 as planned by the program."


def test_a_pause_from_a_later_day_holds_only_what_ships_from_that_day_on():
    line = _line(stored=3, created=1)  # 2 ships 2028-01-31 (pending), 3 on 2028-02-29
    adj = pause(line, date(2028, 2, 1), today=date(2028, 1, 10))
    assert adj.seq == 3
    paused = line.with_adjustment(adj)
    assert [s.status.value for s in paused.slots()] == ["child_created", "pending"] + ["paused"] * 4
    assert paused.stored[3].status == OccurrenceStatus.PAUSED  # the stored row is written paused
    skipped = paused.with_adjustment(skip(paused, 4))  # a held occurrence can still be skipped
    resumed, closed = skipped.with_resume(date(2028, 3, 2))
    assert closed.days == 30
    assert [(s.occ.ship_date.isoformat(), s.status.value) for s in resumed.slots()][1:] == [
        ("2028-01-31", "pending"),
        ("2028-03-30", "pending"),
        ("2028-03-31", "skipped"),
        ("2028-05-30", "pending"),
        ("2028-06-30", "pending"),
    ]


def test_a_pause_is_refused_in_the_past_or_when_nothing_ships_after_it_and_resuming_early_moves_nothing():
    line = _line()
    with pytest.raises(ValidationFailed, match="past"):
        pause(line, date(2028, 1, 1), today=date(2028, 1, 10))
    with pytest.raises(RuleViolation, match="ships from 2028-06-01 on"):
        pause(line, date(2028, 6, 1))
    paused = line.with_adjustment(pause(line, date(2028, 3, 1)))
    resumed, closed = paused.with_resume(date(2028, 2, 1))  # before the pause began
    assert closed.days == 0
    assert [s.occ.ship_date for s in resumed.slots()] == [s.occ.ship_date for s in line.slots()]
    assert [s.occ.basis for s in resumed.slots()] == [s.occ.basis for s in line.slots()]


def test_occurrence_statuses_move_only_through_their_table():
    from continuity.domain.errors import InvalidTransition
    from continuity.domain.schedule import check_occurrence_transition

    S = OccurrenceStatus
    check_occurrence_transition(S.PENDING, S.PAUSED)
    check_occurrence_transition(S.PAUSED, S.PENDING)
    for current, target in [
        (S.PAUSED, S.CHILD_CREATED),
        (S.INVOICED, S.PENDING),
        (S.CHILD_CREATED, S.PAUSED),
        (S.CANCELLED, S.PENDING),
    ]:
        with pytest.raises(InvalidTransition):
            check_occurrence_transition(current, target)
