"""extend-lines: repeats beyond repeat_threshold are materialised as earlier ones are used up, never
beyond the event's times_to_repeat.

Setup (jobs_support.with_threshold_two_and_tea): repeat_threshold 2; the TEA program (not billed up
front) ships item 0022 five times every 14 days (event 1), then book 0013 once (event 2, end).
"""

from __future__ import annotations

from datetime import date, timedelta

from jobs_support import START, enter_order, job, nightly, occurrences, rows, with_threshold_two_and_tea

FORTNIGHT = timedelta(days=14)


def _event_one(app, parent: str) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(seq, status) for seq, event, _, status, _ in occurrences(app, parent) if event == 1]


def test_order_entry_materialises_two_repeats_and_extend_lines_tops_up_as_they_are_used_never_beyond_five(demo_app):
    app = demo_app
    with_threshold_two_and_tea(app)
    tea = enter_order(app, "0030")

    assert [(seq, event) for seq, event, *_ in occurrences(app, tea)] == [(1, 1), (2, 1), (6, 2)]
    assert rows(app, "SELECT planned_count FROM continuity_lines WHERE sales_id = :s", s=tea) == [(6,)]
    assert job(app, "extend-lines", START)["counts"] == {"lines": 0, "occurrences_added": 0}  # two still pending

    job(app, "create-child-orders", START)  # seq 1 (ships today) is used
    topped = job(app, "extend-lines", START)
    assert topped["counts"] == {"lines": 1, "occurrences_added": 1}
    assert _event_one(app, tea) == [(1, "child_created"), (2, "pending"), (3, "pending")]

    as_of = START
    for _ in range(5):  # a night every fortnight, on each ship date, until after the last repeat
        as_of += FORTNIGHT
        nightly(app, as_of)
        materialised = _event_one(app, tea)
        assert len(materialised) <= 5
        assert sum(1 for _, status in materialised if status == "pending") <= 2

    assert _event_one(app, tea) == [(seq, "invoiced") for seq in (1, 2, 3, 4, 5)]
    assert job(app, "extend-lines", as_of)["counts"]["occurrences_added"] == 0
    assert rows(app, "SELECT COUNT(*) FROM schedule_occurrences WHERE sales_id = :s", s=tea) == [(6,)]


def test_after_a_gap_extend_lines_materialises_every_repeat_that_is_already_due(demo_app):
    app = demo_app
    with_threshold_two_and_tea(app)
    tea = enter_order(app, "0030")
    nightly(app, START)

    # due by 2027-01-10 + 5 lead days: seq 2..4 (2026-12-07, 12-21, 2027-01-04); seq 5 ships 2027-01-18
    added = job(app, "extend-lines", date(2027, 1, 10))

    assert added["counts"]["occurrences_added"] == 2
    assert _event_one(app, tea) == [(1, "invoiced"), (2, "pending"), (3, "pending"), (4, "pending")]
    created = job(app, "create-child-orders", date(2027, 1, 10))
    assert created["counts"]["created"] == 3  # all that is due, in one run


def test_continuity_update_keeps_the_due_repeats_that_extend_lines_materialised_beyond_the_threshold(demo_app):
    app = demo_app
    with_threshold_two_and_tea(app)
    tea = enter_order(app, "0030")
    nightly(app, START)
    job(app, "extend-lines", date(2027, 1, 10))

    unchanged = job(app, "continuity-update", date(2027, 1, 10))  # the program did not change

    assert unchanged["counts"] == {"orders": 0, "added": 0, "changed": 0, "removed": 0, "installments_recomputed": 0}
    assert _event_one(app, tea) == [(1, "invoiced"), (2, "pending"), (3, "pending"), (4, "pending")]
