"""The shapes of the child orders create-child-orders writes set-based, chunk by chunk: one child per
due occurrence, or one child for all missed occurrences of a line (consolidate_past_orders) with its
lines numbered in occurrence order and one charge of their sum; children of a parent with a declined
installment due are created on hold; chunk boundaries change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from bench.generate import generate_due_parents, sales_id
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

AS_OF = date(2026, 11, 23)


def _rows(app, statement: str, **params) -> list[tuple]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(statement), params)]


def _consolidate(app, program_id: str) -> None:  # type: ignore[no-untyped-def]
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE programs SET consolidate_past_orders = TRUE WHERE program_id = :p"), {"p": program_id}
        )


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_missed_occurrences_of_a_consolidating_program_become_one_child(app, chunk):
    generated = generate_due_parents(app.engine, 5, AS_OF, due_occurrences=3, future_occurrences=1, expired_every=5)
    _consolidate(app, "TRILOGY")
    counts = run_job(app.job_deps(), "create-child-orders", JobRequest(AS_OF, chunk_size=chunk))["counts"]
    assert counts == {"created": 4, "on_hold": 0, "skipped_expired_card": 3, "card_expiry_notices": 1}

    parent = generated.sales_id(2)
    child = f"{parent}-1-1"
    assert _rows(
        app, "SELECT sales_id, parent_sales_id, status FROM sales_orders WHERE parent_sales_id = :p", p=parent
    ) == [(child, parent, "open")]
    lines = _rows(
        app,
        "SELECT line_no, item_id, unit_price_minor, parent_seq FROM sales_lines WHERE sales_id = :c ORDER BY line_no",
        c=child,
    )
    occurrences = _rows(
        app,
        "SELECT seq, item_id, price_minor, status, child_sales_id FROM schedule_occurrences "
        "WHERE sales_id = :p ORDER BY seq",
        p=parent,
    )
    assert [(line[0], line[3]) for line in lines] == [(1, 1), (2, 2), (3, 3)]
    assert [(line[1], line[2]) for line in lines] == [(o[1], o[2]) for o in occurrences[:3]]
    assert [o[3:] for o in occurrences] == [("child_created", child)] * 3 + [("pending", None)]
    charge = _rows(
        app, "SELECT line_no, seq, amount_minor, status, parent_sales_id FROM installments WHERE sales_id = :c", c=child
    )
    assert charge == [(0, 1, sum(o[2] for o in occurrences[:3]), "not_submitted", parent)]
    expired = generated.sales_id(5)
    assert _rows(app, "SELECT COUNT(*) FROM sales_orders WHERE parent_sales_id = :p", p=expired) == [(0,)]


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_one_child_per_due_occurrence_and_held_children_whatever_the_chunk(app, chunk):
    generated = generate_due_parents(app.engine, 6, AS_OF, due_occurrences=2, future_occurrences=1)
    held_parent = generated.sales_id(4)
    with app.engine.begin() as conn:  # the parent's earlier charge was declined: its children wait
        conn.execute(
            text(
                "INSERT INTO installments (sales_id, line_no, seq, due_date, amount_minor, currency, status, "
                "parent_sales_id, parent_line_no, item_id) VALUES (:p || '-1-0', 0, 1, :d, 100, 'EUR', 'declined', "
                ":p, 1, 'x')"
            ),
            {"p": held_parent, "d": AS_OF},
        )
    counts = run_job(app.job_deps(), "create-child-orders", JobRequest(AS_OF, chunk_size=chunk))["counts"]
    assert counts == {"created": 12, "on_hold": 2, "skipped_expired_card": 0, "card_expiry_notices": 0}
    children = _rows(
        app, "SELECT sales_id, status FROM sales_orders WHERE parent_sales_id IS NOT NULL ORDER BY sales_id"
    )
    expected = sorted(
        (f"{generated.sales_id(n)}-1-{seq}", "on_hold" if n == 4 else "open") for n in range(1, 7) for seq in (1, 2)
    )
    assert children == expected
    assert _rows(
        app, "SELECT COUNT(*), MIN(line_no), MAX(line_no) FROM sales_lines WHERE parent_sales_id IS NOT NULL"
    ) == [(12, 1, 1)]
    assert _rows(app, "SELECT COUNT(*) FROM installments WHERE status = 'not_submitted' AND line_no = 0") == [(12,)]
    again = run_job(app.job_deps(), "create-child-orders", JobRequest(AS_OF, chunk_size=chunk))["counts"]
    assert again["created"] == 0
    assert sales_id("G", 1) == generated.sales_id(1)


def test_children_are_authorized_chunk_by_chunk_when_the_parameters_say_so(app):
    generated = generate_due_parents(app.engine, 6, AS_OF, decline_every=3)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE continuity_parameters SET authorize_child_orders = TRUE"))
    counts = run_job(app.job_deps(), "create-child-orders", JobRequest(AS_OF, chunk_size=4))["counts"]
    assert counts == {
        "created": 6,
        "on_hold": 0,
        "skipped_expired_card": 0,
        "card_expiry_notices": 0,
        "authorize_approved": 4,
        "authorize_declined": 2,
    }
    held = _rows(app, "SELECT parent_sales_id FROM sales_orders WHERE status = 'on_hold' ORDER BY 1")
    assert held == [(generated.sales_id(3),), (generated.sales_id(6),)]
    assert _rows(app, "SELECT status, COUNT(*) FROM installments GROUP BY status ORDER BY status") == [
        ("authorized", 4),
        ("declined", 2),
    ]
