"""/jobs/{name} (run one batch job) and /job-runs (their records)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, TypeGuard

from fastapi import APIRouter, Path

from continuity.entrypoints.api.deps import AppDep, Cursor, Limit, Manager, PageView, decode_cursor, page
from continuity.entrypoints.api.routes import READ, WRITE, errors
from continuity.entrypoints.api.schemas import JobIn, JobRunOut, Page
from continuity.services import job_runs
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.records import JobRunJson
from continuity.services.jobs.registry import JOBS, run_job

router = APIRouter(tags=["jobs"])
# misc: mypy cannot type an enum made from a computed mapping (the registry's job names)
JobName = StrEnum("JobName", {name.replace("-", "_"): name for name in JOBS})  # type: ignore[misc]


def _is_run_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and 0 < value < 2**31


@router.post("/jobs/{name}", status_code=201, response_model=JobRunOut, responses=errors(*WRITE))
def run(name: JobName, app: AppDep, _: Manager, body: JobIn | None = None) -> JobRunJson:
    """Run one batch job now for `as_of` (default today) with the filters; returns its job-run record."""
    body = body or JobIn()
    request = JobRequest(body.as_of or app.clock.today(), body.item_id, body.sales_id, body.dry_run)
    return run_job(app.job_deps(), name.value, request)


@router.get("/job-runs", response_model=Page[JobRunOut], responses=errors(*READ))
def list_job_runs(app: AppDep, _: Manager, limit: Limit = 20, cursor: Cursor = None) -> PageView[JobRunJson]:
    """The job runs, newest first."""
    before = decode_cursor(cursor, _is_run_id)
    found = job_runs.job_runs(app.job_deps().runs, before, limit + 1)
    return page(found, limit, lambda r: r["run_id"])


@router.get("/job-runs/{run_id}", response_model=JobRunOut, responses=errors(*READ))
def get_job_run(run_id: Annotated[int, Path(ge=1, le=2**31 - 2, examples=[1])], app: AppDep, _: Manager) -> JobRunJson:
    return job_runs.job_run(app.job_deps().runs, run_id)
