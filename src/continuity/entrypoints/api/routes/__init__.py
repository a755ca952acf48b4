"""The routes of /api/v1: thin — parse, call one service, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from continuity.entrypoints.api.problems import TITLES
from continuity.entrypoints.api.schemas import ID_PATTERN, Problem

READ = (401, 403, 404, 422, 500)
WRITE = (400, 401, 403, 404, 409, 413, 422, 500)  # 409/422 also for a reused Idempotency-Key


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declared error responses (their media type becomes application/problem+json in app.openapi)."""
    return {s: {"model": Problem, "description": TITLES.get(s, "Error")} for s in sorted(set(statuses))}


def id_path(example: str, description: str) -> Any:
    """A path parameter's id constraints (use as ``Annotated[str, id_path(...)]``); Any: FastAPI's Path is typed so."""
    return Path(pattern=ID_PATTERN, examples=[example], description=description)


Account = Annotated[str, id_path("004007", "The customer's account.")]
SalesId = Annotated[str, id_path("SO-000001", "A sales order.")]
ItemId = Annotated[str, id_path("88000", "An item number.")]
ProgramId = Annotated[str, id_path("BOOKCLUB", "A continuity program.")]
ScheduleId = Annotated[str, id_path("3X", "A payment schedule.")]
