"""Issue 13: process-payments keeps the gateway busy between chunks. The next chunk is claimed while the
last one's calls are in flight, and its calls go out before the last one's answers are written; never two
chunks' calls at once (the pool bound holds). A card with a charge in flight is left out of the next
claim until that answer is written, so a hard decline still stops the card's other charges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from jobs_support import arrivals, execute, job, most_in_flight, scalar, use_card

from bench.generate import generate_due_parents, sales_id
from continuity.bootstrap import App
from continuity.domain.dunning import DunningPolicy
from continuity.services.jobs.records import ClaimQuery

AS_OF = date(2026, 11, 23)
LOST = "4000000000009987"  # the test connector declines it as a lost card: a hard decline


def _due(app: App, parents: int) -> None:
    generated = generate_due_parents(
        app.engine, parents, AS_OF, program_id="REPLENISH", prefix="R", due_occurrences=1, future_occurrences=2
    )
    assert generated.due_installments == parents


class _Steps:
    """The payment store, noting the order of claims and writes of answers."""

    def __init__(self, store) -> None:  # type: ignore[no-untyped-def]
        self.store, self.steps = store, []

    def claim_next_chunk(self, claim, after, now):  # type: ignore[no-untyped-def]
        chunk = self.store.claim_next_chunk(claim, after, now)
        if chunk.attempts:
            self.steps.append(("claim", {a.sales_id for a in chunk.attempts}))
        return chunk

    def record_outcomes(self, outcomes, as_of, policy=None):  # type: ignore[no-untyped-def]
        self.steps.append(("record", {o.attempt.sales_id for o in outcomes}))
        return self.store.record_outcomes(outcomes, as_of, policy)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)


def test_the_next_chunk_is_claimed_and_called_before_the_last_one_s_answers_are_written(make_app):
    _due(make_app(), 12)
    app = make_app(test_gateway_latency_ms=50, gateway_concurrency=4, gateway_rate=1000.0)
    deps = app.job_deps()
    steps = _Steps(deps.payments)
    counts = job(app, "process-payments", AS_OF, deps=replace(deps, payments=steps), chunk_size=4)["counts"]
    assert (counts["approved"], counts["declined"], counts["unknown"]) == (12, 0, 0)
    kinds = [kind for kind, _ in steps.steps]
    assert kinds == ["claim", "claim", "record", "claim", "record", "record"], steps.steps
    chunks = [ids for kind, ids in steps.steps if kind == "claim"]
    assert [ids for kind, ids in steps.steps if kind == "record"] == chunks  # each chunk's answers, in turn
    assert len(set().union(*chunks)) == 12
    # never more than the pool in flight: the connector's own arrivals, one latency each
    assert most_in_flight(arrivals(app), 0.05) <= 4


def test_a_card_hard_declined_in_one_chunk_is_not_charged_again_in_the_next(make_app):
    """R1 and R3 pay with one lost card; chunks of two: R3 is claimed while R1's charge is in flight."""
    app = make_app()
    _due(app, 4)
    lost = use_card(app, sales_id("R", 1), LOST)
    execute(app, "UPDATE continuity_lines SET card_token = :t WHERE sales_id = :s", t=lost, s=sales_id("R", 3))
    execute(app, "UPDATE installments SET authorization_key = NULL WHERE sales_id = :s", s=sales_id("R", 3))
    counts = job(app, "process-payments", AS_OF, chunk_size=2)["counts"]
    assert (counts["approved"], counts["declined"]) == (2, 1)
    assert scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE card_token = :t", t=lost) == 1
    assert scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE card_token = :t", t=lost) == 1


def test_near_the_end_of_a_run_a_claim_takes_a_quarter_of_what_is_left_and_at_least_a_round_of_calls(make_app):
    """Guided chunks: 40 due, --chunk-size 16, a pool of 4. Each claim takes a quarter of what is left
    after the cursor (rounded up), never more than the chunk and never less than the pool's places: so
    workers sharing a run end together instead of one of them charging a whole chunk alone."""
    _due(make_app(), 40)
    app = make_app(test_gateway_latency_ms=5, gateway_concurrency=4, gateway_rate=1000.0)
    deps = app.job_deps()
    steps = _Steps(deps.payments)
    counts = job(app, "process-payments", AS_OF, deps=replace(deps, payments=steps), chunk_size=16)["counts"]
    assert counts["approved"] == 40
    sizes = [len(ids) for kind, ids in steps.steps if kind == "claim"]
    assert sizes == [10, 8, 6, 4, 4, 4, 4], steps.steps


def test_with_calls_made_one_at_a_time_the_chunk_is_the_size_given(make_app):
    _due(make_app(), 40)
    app = make_app(gateway_concurrency=1)
    deps = app.job_deps()
    steps = _Steps(deps.payments)
    job(app, "process-payments", AS_OF, deps=replace(deps, payments=steps), chunk_size=16)
    assert [len(ids) for kind, ids in steps.steps if kind == "claim"] == [16, 16, 8]


def test_the_due_installments_left_are_counted_after_the_cursor_up_to_the_most_asked(make_app):
    app = make_app()
    _due(app, 30)
    claim = ClaimQuery(AS_OF, None, DunningPolicy(), 10)
    payments = app.job_deps().payments
    assert payments.due_left(claim, None, 100) == 30
    assert payments.due_left(claim, None, 12) == 12
    first = payments.claim_next_chunk(claim, None, datetime.now(UTC))  # ten claimed: in flight, not due
    assert payments.due_left(claim, None, 100) == 20
    assert payments.due_left(claim, first.last_key, 100) == 20
    assert payments.due_left(replace(claim, item_id="NO-SUCH-ITEM"), None, 100) == 0
    assert payments.due_left(replace(claim, as_of=date(2026, 1, 1)), None, 100) == 0
