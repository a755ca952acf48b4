"""Job-run records for the API: newest first, a page at a time, and one by id."""

from __future__ import annotations

from continuity.domain.errors import NotFound
from continuity.services.jobs.ports import JobRuns
from continuity.services.jobs.records import JobRunJson


def job_runs(runs: JobRuns, before: int | None, limit: int) -> list[JobRunJson]:
    """``runs``: app.job_deps().runs; ``before`` = the last run_id of the previous page."""
    return [run.as_json() for run in runs.recent(limit, before)]


def job_run(runs: JobRuns, run_id: int) -> JobRunJson:
    found = runs.recent(1, run_id + 1)
    if not found or found[0].run_id != run_id:
        raise NotFound(f"no job run {run_id}", "job_run_not_found")
    return found[0].as_json()
