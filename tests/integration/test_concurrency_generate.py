"""The set-based data generator the concurrency tests and the benchmark use: its parents are read
back by the services like entered ones, and the jobs do with them exactly what its counts say."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from bench.generate import generate_due_parents, sales_id
from continuity.services import views
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job

AS_OF = date(2026, 11, 23)


def _count(app, statement: str) -> int:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(text(statement)).scalar_one()


def test_generated_parents_are_whole_orders_and_the_jobs_do_what_the_counts_say(app):
    trilogy = generate_due_parents(
        app.engine,
        100,
        AS_OF,
        due_occurrences=2,
        future_occurrences=1,
        decline_every=10,
        timeout_every=15,
        expired_every=25,
    )
    replenish = generate_due_parents(
        app.engine, 20, AS_OF, program_id="REPLENISH", prefix="R", due_occurrences=2, future_occurrences=4
    )
    assert (trilogy.declining, trilogy.timing_out, trilogy.expired) == (10, 6 - 3, 4)  # 30, 60, 90 decline
    assert _count(app, "SELECT COUNT(*) FROM sales_orders WHERE is_continuity_parent") == 120
    assert _count(app, "SELECT COUNT(*) FROM schedule_occurrences") == trilogy.occurrences + replenish.occurrences
    assert _count(app, "SELECT COUNT(*) FROM installments") == replenish.installments == 60
    assert replenish.due_installments == 40
    assert _count(app, "SELECT COUNT(*) FROM cards WHERE token LIKE 'tok_test_decline_%'") == trilogy.declining
    assert _count(app, "SELECT COUNT(*) FROM cards WHERE token LIKE 'tok_test_timeout_%'") == trilogy.timing_out

    order = views.order_view(app.uow, sales_id("G", 7))
    assert order["is_continuity_parent"] and order["status"] == "open"
    schedule = order["lines"][0]["continuity"]["schedule"]
    assert [s["item_id"] for s in schedule] == ["0013", "0014", "0015"]
    assert [s["ship_date"] for s in schedule][1] == AS_OF.isoformat()

    deps = app.job_deps()
    created = run_job(deps, "create-child-orders", JobRequest(AS_OF))["counts"]
    assert created["created"] == (trilogy.parents - trilogy.expired) * 2 + replenish.parents * 2
    charged = run_job(deps, "process-payments", JobRequest(AS_OF))["counts"]
    assert (
        sum(charged[k] for k in ("approved", "declined", "unknown"))
        == (trilogy.parents - trilogy.expired) * 2 + replenish.due_installments
    )
