"""The jobs page: run any batch job of the registry now (with its filters and as-of date, synchronously
for the request) and the job-run history, newest first, a page at a time. Running one answers 303 back to
the page (post-redirect-get: a refresh never runs the job again), its outcome or the form's errors carried
once in the flash."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from continuity.domain.errors import DomainError
from continuity.entrypoints.api.deps import AppDep
from continuity.entrypoints.web import flash
from continuity.entrypoints.web.auth import Form, Manager
from continuity.entrypoints.web.routes.setup_forms import FieldError, FormReader, FormRefused, flashed, unflashed
from continuity.entrypoints.web.templating import render
from continuity.services import catalog, dashboard, job_runs
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import JOBS, check_request, run_job

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
PAGE = 20

#: The form field a refused job request points at (check_request's codes).
REFUSED_FIELD = {
    "as_of_out_of_range": "as_of",
    "item_unknown": "item_id",
    "not_continuity_item": "item_id",
    "sales_order_not_found": "sales_id",
    "continuity_order_not_found": "sales_id",
}


@router.get("/jobs")
def jobs_page(request: Request, app: AppDep, user: Manager, before: int | None = None) -> Response:
    values = {"name": "create-child-orders", "as_of": app.clock.today().isoformat()}
    typed = flash.take(request)  # after a run: its outcome, or why the form was refused, and what was typed
    result = typed.data.get("result")
    return _page(
        request,
        app,
        dict(typed.values) or values,
        unflashed(typed.data.get("errors")),
        result=_readable(result) if isinstance(result, dict) else None,
        before=before,
    )


@router.get("/jobs/runs/{run_id}")
def run_page(request: Request, app: AppDep, user: Manager, run_id: int) -> Response:
    """One job run: its outcome and what it created (a create-child-orders run: its child orders)."""
    record = job_runs.job_run(app.job_deps().runs, run_id)
    created, created_total = dashboard.children_created(app.dashboard_reads(), record)
    return render(request, "manager/job_run.html", run=_readable(record), created=created, created_total=created_total)


@router.post("/jobs")
def run(request: Request, app: AppDep, user: Manager, form: Form) -> Response:
    try:
        name, job_request = _read(form)
        check_request(app.job_deps(), job_request)  # run_job checks it too; here the error goes to its field
    except FormRefused as refused:
        return _back(request, form, refused.errors)
    except DomainError as exc:
        refused_field = REFUSED_FIELD.get(exc.code, "")
        return _back(request, form, {refused_field: FieldError("%(reason)s", {"reason": exc.message})})
    try:
        record = run_job(app.job_deps(), name, job_request)
    except Exception as exc:  # noqa: BLE001  run_job recorded the run as failed; the page says why in one line
        log.warning("job %s run from the web by %s failed: %s", name, user.name, exc)
        reason = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"[:300]
        return _back(request, form, {"": FieldError("The job failed: %(reason)s", {"reason": reason})})
    log.info("job %s run from the web by %s: %s", name, user.name, record["counts"])
    return flash.redirect(request, "/jobs", values=form, data={"result": record})


def _back(request: Request, form: dict[str, Any], errors: dict[str, FieldError]) -> Response:
    return flash.redirect(request, "/jobs", values=form, data={"errors": flashed(errors)})


def _read(form: dict[str, Any]) -> tuple[str, JobRequest]:
    r = FormReader(form)
    name = r.choice("name", list(JOBS))
    as_of = r.day("as_of")
    if as_of is None and "as_of" not in r.errors:
        r.errors["as_of"] = FieldError("Required.")
    item_id, sales_id = r.text("item_id"), r.text("sales_id")
    for field, value in (("item_id", item_id), ("sales_id", sales_id)):
        if len(value) > 40:
            r.errors[field] = FieldError("At most %(max)s characters.", {"max": 40})
    r.check()
    assert name is not None and as_of is not None
    return name, JobRequest(as_of, item_id or None, sales_id or None, r.checkbox("dry_run"))


def _page(
    request: Request,
    app: Any,
    values: dict[str, Any],
    errors: dict[str, Any],
    result: dict[str, Any] | None = None,
    before: int | None = None,
) -> Response:
    runs = [_readable(r) for r in job_runs.job_runs(app.job_deps().runs, before, PAGE + 1)]
    parents = [p for p in catalog.products(app.uow, None, 100_000) if p.is_parent]
    reads, today = app.dashboard_reads(), app.clock.today()
    waiting, waiting_total = dashboard.children_waiting_for_charge(reads, today)
    created, created_total = dashboard.children_created(reads, result) if result else ([], 0)
    return render(
        request,
        "manager/jobs.html",
        jobs=list(JOBS),
        values=values,
        errors=errors,
        result=result,
        runs=runs[:PAGE],
        parents=parents,
        before=before,
        older=runs[PAGE - 1]["run_id"] if len(runs) > PAGE else None,
        today=today,
        waiting=waiting,
        waiting_total=waiting_total,
        created=created,
        created_total=created_total,
    )


def _readable(record: dict[str, Any]) -> dict[str, Any]:
    """Instants as datetimes (the page formats them for the locale)."""
    shown = dict(record)
    for key in ("started_at", "finished_at"):
        if shown.get(key):
            shown[key] = datetime.fromisoformat(shown[key])
    return shown
