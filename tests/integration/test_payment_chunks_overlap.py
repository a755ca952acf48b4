"""Issue 13: process-payments keeps the gateway busy between chunks. The next chunk is claimed while the
last one's calls are in flight, and its calls go out before the last one's answers are written; never two
chunks' calls at once (the pool bound holds). A card with a charge in flight is left out of the next
claim until that answer is written, so a hard decline still stops the card's other charges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from jobs_support import arrivals, execute, job, most_in_flight, scalar, use_card

from bench.generate import generate_due_parents, sales_id
from continuity.bootstrap import App

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
