"""Job-run records for the API: newest first, a page at a time, and one by id."""

from __future__ import annotations

from typing import Any

from continuity.domain.errors import NotFound


def job_runs(runs: Any, before: int | None, limit: int) -> list[dict]:
    """``runs`` is the JobRunStore of app.job_deps(); ``before`` = the last run_id of the previous page."""
    return runs.recent(limit, before)


def job_run(runs: Any, run_id: int) -> dict:
    found = runs.recent(1, run_id + 1)
    if not found or found[0]["run_id"] != run_id:
        raise NotFound(f"no job run {run_id}", "job_run_not_found")
    return found[0]
