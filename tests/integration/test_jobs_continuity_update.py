"""continuity-update: program changes reach only the pending occurrences of open parents; a dry run
lists the per-order changes and writes nothing; unpaid installments are recomputed to the cent."""

from __future__ import annotations

from datetime import date

import pytest
from jobs_support import START, demo_programs, enter_order, installments, nightly, rows, set_up, snapshot

from continuity.services import views
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

AS_OF = date(2026, 12, 21)
TOUCHED = (
    "schedule_occurrences",
    "installments",
    "sales_lines",
    "continuity_lines",
    "sales_orders",
    "payment_attempts",
    "test_gateway_ledger",
)


def _schedule(app, parent: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        tuple(str(v) for v in r)
        for r in rows(
            app,
            "SELECT seq, event_id, item_id, quantity, price_minor, ship_date, status, child_sales_id "
            "FROM schedule_occurrences WHERE sales_id = :p ORDER BY seq",
            p=parent,
        )
    ]


@pytest.fixture
def changed_programs(demo_app):
    """Two open parents with history (seq 1 invoiced, seq 2 child_created), then the merchandiser
    changes both programs."""
    app = demo_app
    book, replenish = enter_order(app, "88000"), enter_order(app, "0021")
    for as_of in (START, date(2026, 11, 26), AS_OF):
        nightly(app, as_of)
    programs = demo_programs()
    book_club, vitamins = programs["BOOKCLUB"], programs["REPLENISH"]
    book_club["events"][4]["price"] = "9.99"  # event 5: a price override
    book_club["events"][5].update(item_id="0013", interval="2 month")  # event 6: another book, two months on
    vitamins["events"][0].update(price="8.01", times_to_repeat=7)  # cheaper, and one shipment more
    set_up(app, {"programs": [book_club, vitamins]}, AS_OF)
    return app, book, replenish


def test_the_dry_run_lists_each_orders_changes_and_writes_nothing(changed_programs):
    app, book, replenish = changed_programs
    before = snapshot(app, TOUCHED)

    result = run_job(app.job_deps(), "continuity-update", JobRequest(AS_OF, dry_run=True))

    assert snapshot(app, TOUCHED) == before
    assert result["filters"] == {"dry_run": True}
    assert result["counts"] == {"orders": 2, "added": 1, "changed": 6, "removed": 0, "installments_recomputed": 2}
    details = {d["sales_id"]: d for d in result["details"]}
    assert details[book]["changed"] == [
        {
            "before": {
                "seq": 3,
                "event_id": 5,
                "item_id": "0018",
                "quantity": 1,
                "price": "13.75",
                "ship_date": "2027-01-26",
            },
            "after": {
                "seq": 3,
                "event_id": 5,
                "item_id": "0018",
                "quantity": 1,
                "price": "9.99",
                "ship_date": "2027-01-26",
            },
        },
        {
            "before": {
                "seq": 4,
                "event_id": 6,
                "item_id": "0019",
                "quantity": 1,
                "price": "17.00",
                "ship_date": "2027-02-26",
            },
            "after": {
                "seq": 4,
                "event_id": 6,
                "item_id": "0013",
                "quantity": 1,
                "price": "14.95",
                "ship_date": "2027-03-26",
            },
        },
    ]
    assert details[book]["added"] == details[book]["removed"] == details[book]["installments"] == []
    assert [(c["before"]["seq"], c["before"]["price"], c["after"]["price"]) for c in details[replenish]["changed"]] == [
        (seq, "9.90", "8.01") for seq in (3, 4, 5, 6)
    ]
    assert details[replenish]["added"] == [
        {"seq": 7, "event_id": 1, "item_id": "0022", "quantity": 1, "price": "8.01", "ship_date": "2027-05-24"}
    ]
    assert details[replenish]["installments"] == [
        {"seq": 2, "before": "19.80", "after": "20.02"},
        {"seq": 3, "before": "19.80", "after": "20.03"},
    ]


def test_the_real_run_changes_only_pending_occurrences_and_unpaid_installments_still_sum_to_the_new_total(
    changed_programs,
):
    app, book, replenish = changed_programs
    history_before = {p: [o for o in _schedule(app, p) if o[6] != "pending"] for p in (book, replenish)}
    assert [o[6] for o in history_before[book]] == ["invoiced", "child_created"]
    assert installments(app, replenish) == [(1, 1980, "paid"), (2, 1980, "not_submitted"), (3, 1980, "not_submitted")]

    result = run_job(app.job_deps(), "continuity-update", JobRequest(AS_OF))

    assert result["counts"] == {"orders": 2, "added": 1, "changed": 6, "removed": 0, "installments_recomputed": 2}
    for parent in (book, replenish):
        assert [o for o in _schedule(app, parent) if o[6] != "pending"] == history_before[parent]
    assert [o[:6] for o in _schedule(app, book) if o[6] == "pending"] == [
        ("3", "5", "0018", "1", "999", "2027-01-26"),
        ("4", "6", "0013", "1", "1495", "2027-03-26"),
    ]
    assert [(o[0], o[4]) for o in _schedule(app, replenish) if o[6] == "pending"] == [
        (str(seq), "801") for seq in (3, 4, 5, 6, 7)
    ]
    assert installments(app, replenish) == [(1, 1980, "paid"), (2, 2002, "not_submitted"), (3, 2003, "not_submitted")]
    new_total = 2 * 990 + 5 * 801
    assert sum(amount for _, amount, _ in installments(app, replenish)) == new_total
    assert rows(app, "SELECT unit_price_minor, quantity FROM sales_lines WHERE sales_id = :s", s=replenish) == [
        (new_total, 1)
    ]
    assert views.order_view(app.uow, replenish)["lines"][0]["amount"] == f"{new_total / 100:.2f}"
    assert rows(app, "SELECT planned_count FROM continuity_lines WHERE sales_id = :s", s=replenish) == [(7,)]

    again = run_job(app.job_deps(), "continuity-update", JobRequest(AS_OF))
    assert again["counts"] == {"orders": 0, "added": 0, "changed": 0, "removed": 0, "installments_recomputed": 0}


def test_closed_parents_are_not_touched_by_a_program_change(demo_app):
    app = demo_app
    book = enter_order(app, "88000")
    for as_of in (START, date(2027, 3, 23)):  # the second run catches up on the whole book club
        nightly(app, as_of)
    assert rows(app, "SELECT status FROM sales_orders WHERE sales_id = :s", s=book) == [("closed",)]
    before = snapshot(app, TOUCHED)
    book_club = demo_programs()["BOOKCLUB"]
    book_club["events"][3]["price"] = "1.00"
    set_up(app, {"programs": [book_club]}, date(2027, 3, 23))

    result = run_job(app.job_deps(), "continuity-update", JobRequest(date(2027, 3, 23)))

    assert result["counts"]["orders"] == 0 and snapshot(app, TOUCHED) == before
