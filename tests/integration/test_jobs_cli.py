"""The jobs CLI (`continuity jobs …`, `continuity orders release/ship/invoice`) through Typer's CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from jobs_support import START, enter_order, rows
from typer.testing import CliRunner

from continuity.adapters.batch.job_runs import JobRunStore
from continuity.domain.errors import NotFound
from continuity.entrypoints.cli import app as cli
from continuity.services.demo import load_demo
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_job


@pytest.fixture
def book_order(make_app, database_url):
    app = make_app()
    load_demo(app.uow, START)
    parent = enter_order(app, "88000")
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env={"CONTINUITY_DATABASE_URL": database_url, "CONTINUITY_TODAY": ""})

    return app, parent, invoke


def test_create_child_orders_with_json_prints_the_job_run_record(book_order):
    app, parent, invoke = book_order

    result = invoke(
        "jobs", "create-child-orders", "--as-of", "2026-11-23", "--item", "88000", "--sales-order", parent, "--json"
    )

    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert {k: record[k] for k in ("name", "as_of", "filters", "counts", "status", "error")} == {
        "name": "create-child-orders",
        "as_of": "2026-11-23",
        "filters": {"item_id": "88000", "sales_id": parent},
        "counts": {"created": 1, "on_hold": 0, "skipped_expired_card": 0},
        "status": "succeeded",
        "error": "",
    }
    assert record["started_at"] and record["finished_at"]
    assert rows(app, "SELECT sales_id, parent_sales_id FROM sales_orders WHERE parent_sales_id IS NOT NULL") == [
        (f"{parent}-1-1", parent)
    ]


def test_an_unknown_job_or_a_bad_date_gives_a_clean_error_without_a_traceback(book_order):
    app, _, invoke = book_order

    unknown = invoke("jobs", "make-coffee", "--as-of", "2026-11-23")
    bad_date = invoke("jobs", "create-child-orders", "--as-of", "2026-13-45", "--json")

    assert unknown.exit_code == 2 and "No such command 'make-coffee'" in unknown.output
    assert bad_date.exit_code == 1
    assert json.loads(bad_date.stdout)["error"]["code"] == "date_invalid"
    for result in (unknown, bad_date):
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    with pytest.raises(NotFound) as raised:
        run_job(app.job_deps(), "make-coffee", JobRequest(START))
    assert raised.value.code == "job_unknown"
    assert rows(app, "SELECT COUNT(*) FROM job_runs") == [(0,)]  # nothing was run or recorded


def test_jobs_runs_lists_the_recorded_runs_newest_first(book_order):
    _, parent, invoke = book_order
    assert invoke("jobs", "process-payments", "--as-of", "2026-11-23", "--item", "88000").exit_code == 0
    assert invoke("jobs", "run-all", "--as-of", "2026-11-24", "--json").exit_code == 0

    result = invoke("jobs", "runs", "--limit", "50", "--json")

    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    assert runs[-1]["name"] == "process-payments" and runs[-1]["filters"] == {"item_id": "88000"}
    assert [r["name"] for r in reversed(runs[:-1])][:5] == [
        "update-event-period",
        "extend-lines",
        "reconcile-payments",
        "process-payments",
        "create-child-orders",
    ]
    assert [r["run_id"] for r in runs] == sorted((r["run_id"] for r in runs), reverse=True)
    assert all(r["status"] == "succeeded" and r["as_of"] in ("2026-11-23", "2026-11-24") for r in runs)
    assert next(r for r in runs if r["name"] == "create-child-orders")["counts"]["created"] == 1


def test_orders_release_ship_and_invoice_move_a_child_order_and_illegal_moves_give_invalid_transition(book_order):
    app, parent, invoke = book_order
    assert invoke("jobs", "create-child-orders", "--as-of", "2026-11-23").exit_code == 0
    child = f"{parent}-1-1"

    early = invoke("orders", "invoice", child, "--json")  # an open child cannot be invoiced
    assert early.exit_code == 1 and json.loads(early.stdout)["error"]["code"] == "invalid_transition"
    unreleased = invoke("orders", "ship", child, "--tracking", "TRK-1", "--json")
    assert json.loads(unreleased.stdout)["error"]["code"] == "invalid_transition"
    assert json.loads(invoke("orders", "release", parent, "--json").stdout)["error"]["code"] == "not_a_child_order"
    unpaid = invoke("orders", "release", child, "--json")  # its charge is taken by process-payments first
    assert json.loads(unpaid.stdout)["error"]["code"] == "child_not_paid"
    assert invoke("jobs", "process-payments", "--as-of", "2026-11-23").exit_code == 0

    released = invoke("orders", "release", child, "--date", "2026-11-25", "--json")
    assert released.exit_code == 0 and json.loads(released.stdout)["status"] == "released"
    no_tracking = invoke("orders", "ship", child, "--tracking", " ", "--json")
    assert json.loads(no_tracking.stdout)["error"]["code"] == "tracking_number_required"
    shipped = invoke("orders", "ship", child, "--tracking", "TRK-1", "--date", "2026-11-26", "--json")
    assert shipped.exit_code == 0 and json.loads(shipped.stdout)["status"] == "shipped"
    invoiced = invoke("orders", "invoice", child, "--date", "2026-11-27", "--json")
    assert invoiced.exit_code == 0 and json.loads(invoiced.stdout)["status"] == "invoiced"
    again = invoke("orders", "release", child, "--json")
    assert json.loads(again.stdout)["error"]["code"] == "invalid_transition"

    assert rows(
        app,
        "SELECT status, tracking_number, released_on, shipped_on, invoiced_on FROM sales_orders WHERE sales_id = :s",
        s=child,
    )[0][:2] == ("invoiced", "TRK-1")
    assert [
        str(d)
        for d in rows(
            app, "SELECT released_on, shipped_on, invoiced_on FROM sales_orders WHERE sales_id = :s", s=child
        )[0]
    ] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert rows(
        app, "SELECT status, child_sales_id FROM schedule_occurrences WHERE sales_id = :p AND seq = 1", p=parent
    ) == [("invoiced", child)]


def test_jobs_reap_marks_runs_left_running_with_no_recent_heartbeat_abandoned_and_jobs_runs_shows_why(book_order):
    app, _, invoke = book_order
    store, now = JobRunStore(app.engine), datetime.now(UTC)  # the CLI's clock is the system clock here
    dead = store.start("process-payments", START, {}, now - timedelta(minutes=20))
    sleepy = store.start("extend-lines", START, {}, now - timedelta(minutes=10))
    alive = store.start("create-child-orders", START, {}, now)

    reaped = invoke("jobs", "reap", "--json")
    assert reaped.exit_code == 0, reaped.output
    assert json.loads(reaped.stdout) == {"abandoned": 1, "stale_minutes": 15}
    shorter = CliRunner().invoke(
        cli,
        ["jobs", "reap"],
        env={
            "CONTINUITY_DATABASE_URL": app.settings.database_url,
            "CONTINUITY_TODAY": "",
            "CONTINUITY_JOB_STALE_MINUTES": "5",
        },
    )
    assert shorter.exit_code == 0 and "1 job run(s) marked abandoned (no heartbeat for 5 minutes)" in shorter.output
    assert invoke("jobs", "reap", "--json").stdout.strip().startswith('{\n  "abandoned": 0')

    listed = {r["run_id"]: r for r in json.loads(invoke("jobs", "runs", "--json").stdout)}
    assert [listed[r]["status"] for r in (dead, sleepy, alive)] == ["abandoned", "abandoned", "running"]
    assert listed[dead]["error"].startswith("no heartbeat since ") and listed[dead]["finished_at"]
    shown = invoke("jobs", "runs").output
    assert "abandoned" in shown and "heartbeat" in shown and "nothing to do" not in shown
