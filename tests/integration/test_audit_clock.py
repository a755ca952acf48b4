"""Issue 12: the audit trail takes its time from the injected clock (services.ports.Clock), never from the
machine's: the batch jobs' set-based entries (adapters/batch/audit.py) and the unit of work's
(adapters/audit_repository.py) when a service passes no time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from jobs_support import rows

from bench.generate import generate_due_parents
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.jobs.context import JobRequest
from continuity.services.jobs.registry import run_all
from continuity.services.setup import change_parameters

AS_OF = date(2026, 11, 23)
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)  # no machine's clock says this


class PinnedClock:
    def today(self) -> date:
        return AS_OF

    def now(self) -> datetime:
        return NOW


def _instants(app, where: str, **params) -> set[datetime]:  # type: ignore[no-untyped-def]
    found = [r[0] for r in rows(app, "SELECT occurred_at FROM audit_entries WHERE " + where, **params)]
    assert found, where
    return {_utc(t) for t in found}


def _utc(t: datetime | str) -> datetime:
    """SQLite gives the stored text (UTC, no zone); PostgreSQL an aware instant."""
    t = datetime.fromisoformat(t) if isinstance(t, str) else t
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def test_audit_entries_are_stamped_by_the_injected_clock(database_url):
    app = bootstrap(Settings(database_url, None, None, max_as_of_days=36_500), clock=PinnedClock())
    try:
        generate_due_parents(app.engine, 3, AS_OF, program_id="TRILOGY", due_occurrences=1)  # loads the demo
        (before,) = rows(app, "SELECT COALESCE(MAX(entry_id), 0) FROM audit_entries")[0]
        (threshold,) = rows(app, "SELECT repeat_threshold FROM continuity_parameters")[0]
        change_parameters(app.uow, {"repeat_threshold": threshold + 1})  # a service's entry, given no time

        done = run_all(app.job_deps(), JobRequest(AS_OF), fulfil=True)

        assert {r["status"] for r in done} == {"succeeded"}
        assert _instants(app, "entity = 'parameters' AND entry_id > :e", e=before) == {NOW}
        assert _instants(app, "actor LIKE 'job:%' AND entity = 'order' AND action = 'shipped'") == {NOW}
        assert _instants(app, "actor LIKE 'job:%' AND action = 'invoiced'") == {NOW}
    finally:
        app.engine.dispose()
