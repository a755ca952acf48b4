"""Dunning that follows the decline (issue 17 part 2), on SQLite and PostgreSQL: the test cards of each
class, a hard decline never retried (on any order of its card) and the card-update path, the card's
retry budget shared by its orders, the notices of an episode."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from jobs_support import (
    APPROVE,
    START,
    attempts,
    enter_order,
    execute,
    installments,
    job,
    rows,
    scalar,
    use_card,
)
from sqlalchemy import create_engine, text

from continuity.adapters.batch import payments as batch_payments
from continuity.domain.dunning import DunningPolicy
from continuity.services import servicing
from continuity.services.jobs.records import ClaimQuery
from continuity.services.servicing import Change

DAY = timedelta(days=1)
NO_FUNDS = "4000000000009995"  # insufficient funds: soft
LOST = "4000000000009987"  # lost card: hard
EXPIRED = "4000000000000069"  # the issuer says expired: hard


def _run_days(app, days) -> None:  # type: ignore[no-untyped-def]
    for day in days:
        job(app, "process-payments", START + day * DAY)


def _codes(app, sales_id: str) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return rows(
        app,
        "SELECT retry_no, status, decline_code FROM payment_attempts WHERE subject = 'installment' "
        "AND sales_id = :s ORDER BY attempt_no",
        s=sales_id,
    )


def _notices(app, sales_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        k
        for (k,) in rows(
            app,
            "SELECT kind FROM notifications WHERE sales_id = :s AND kind <> 'upcoming_charge' ORDER BY kind",
            s=sales_id,
        )
    ]


def test_insufficient_funds_is_soft_retried_on_the_schedule_with_one_notice_and_one_final_notice(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, NO_FUNDS)

    _run_days(app, range(16))

    assert _codes(app, parent) == [(k, "declined", "insufficient_funds") for k in range(5)]
    assert [d for *_, d in attempts(app, parent)] == [START + d * DAY for d in (0, 1, 3, 5, 7)]
    assert _notices(app, parent) == ["payment_declined", "retries_exhausted"]


def test_a_lost_card_is_never_retried_and_asks_for_another_card(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, LOST)

    _run_days(app, range(16))

    assert _codes(app, parent) == [(0, "declined", "lost_card")]
    assert installments(app, parent)[0] == (1, 1980, "declined")
    assert _notices(app, parent) == ["update_card"]


def test_after_a_hard_decline_the_card_is_not_charged_for_any_other_order(demo_app):
    app = demo_app
    first, second = enter_order(app, "0021"), enter_order(app, "0021")
    token = use_card(app, first, LOST)
    job(app, "process-payments", START)  # the first order's charge: lost card
    execute(app, "UPDATE continuity_lines SET card_token = :t WHERE sales_id = :s", t=token, s=second)
    execute(app, "UPDATE installments SET authorization_key = NULL WHERE sales_id = :s", s=second)

    second_due = date(2026, 12, 23)  # installment 2 of each order

    job(app, "process-payments", second_due)

    assert [n for n, *_ in attempts(app, second)] == [1]  # installment 1, paid at START on its own card
    assert installments(app, second)[1] == (2, 1980, "not_submitted")  # not even a first try on the lost card
    assert installments(app, first)[1] == (2, 1980, "not_submitted")


def test_an_expired_card_is_hard_and_the_new_card_from_change_card_is_charged_on_the_next_run(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, EXPIRED)
    _run_days(app, range(3))
    assert _codes(app, parent) == [(0, "declined", "expired_card")]
    assert _notices(app, parent) == ["update_card"]

    servicing.apply(app.uow, app.gateway, app.clock, parent, Change("change_card", card_number=APPROVE, expiry="11/31"))
    _run_days(app, [3])

    assert _codes(app, parent) == [(0, "declined", "expired_card"), (0, "approved", "")]
    assert installments(app, parent)[0] == (1, 1980, "paid")


def test_a_cards_retry_budget_is_shared_by_all_of_its_orders(demo_app):
    app = demo_app
    with app.uow() as uow:  # a small budget: 3 retries of one card in 30 days
        params = uow.setup.parameters()
        params.card_retry_budget = 3
        uow.setup.save_parameters(params)
        uow.commit()
    token, orders = _one_card_for(app, 3)

    _run_days(app, range(16))

    retries = scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE card_token = :t AND retry_no > 0", t=token)
    firsts = scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE card_token = :t AND retry_no = 0", t=token)
    assert (firsts, retries) == (3, 3)  # day 1: one retry each, then the budget is spent
    assert [len(attempts(app, s)) for s in orders] == [2, 2, 2]


def test_the_budget_counts_only_the_last_budget_days(demo_app):
    app = demo_app
    with app.uow() as uow:  # 1 retry in 2 days: the second retry (day 3) is allowed again
        params = uow.setup.parameters()
        params.card_retry_budget, params.card_retry_budget_days = 1, 2
        uow.setup.save_parameters(params)
        uow.commit()
    parent = enter_order(app, "0021")
    use_card(app, parent, NO_FUNDS)

    _run_days(app, range(16))

    assert [d for *_, d in attempts(app, parent)] == [START + d * DAY for d in (0, 1, 3, 5, 7)]


def test_a_rerun_for_the_same_day_changes_nothing(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, NO_FUNDS)
    _run_days(app, [0, 1])
    before = (_codes(app, parent), _notices(app, parent))

    again = job(app, "process-payments", START + DAY)

    assert again["counts"]["declined"] == 0 and again["counts"]["approved"] == 0
    assert (_codes(app, parent), _notices(app, parent)) == before


def test_two_claims_at_the_same_moment_take_no_more_than_the_cards_budget(demo_app, monkeypatch):
    """Two claims of one card's retries meet inside their transactions (a barrier after the card lock):
    on PostgreSQL the second waits for the first's commit (the card's advisory lock) and then counts its
    retries, so the two take 15 retries between them, never 20. (SQLite has one writer: the same.)"""
    app = demo_app
    token, _ = _one_card_for(app, 20)
    job(app, "process-payments", START)  # 20 first tries, declined
    meet = threading.Barrier(2)
    lock_cards = batch_payments._lock_cards

    def lock_then_meet(conn) -> None:  # type: ignore[no-untyped-def]
        lock_cards(conn)
        try:
            meet.wait(timeout=2)  # the other claim is here too, unless it waits for this card's lock
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(batch_payments, "_lock_cards", lock_then_meet)
    deps = app.job_deps()
    claimed: list[int] = []

    def claim() -> None:
        query = ClaimQuery(START + DAY, None, DunningPolicy(), 10)
        claimed.append(len(deps.payments.claim_next_chunk(query, None, deps.clock.now()).attempts))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(claimed) == [5, 10]
    assert scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE card_token = :t AND retry_no > 0", t=token) == 15


def _one_card_for(app, count: int) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """``count`` orders paying with one insufficient-funds card."""
    orders = [enter_order(app, "0021") for _ in range(count)]
    token = use_card(app, orders[0], NO_FUNDS)
    for sales_id in orders[1:]:
        execute(app, "UPDATE continuity_lines SET card_token = :t WHERE sales_id = :s", t=token, s=sales_id)
        execute(app, "UPDATE installments SET authorization_key = NULL WHERE sales_id = :s", s=sales_id)
    return token, orders


def _upcoming(app, sales_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        k
        for (k,) in rows(
            app, "SELECT dedupe_key FROM notifications WHERE sales_id = :s AND kind = 'upcoming_charge'", s=sales_id
        )
    ]


def test_the_upcoming_charge_notice_days_come_from_the_program_then_the_parameters(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")  # installment 2 is due 2026-12-23; the parameters say 3 days ahead
    job(app, "process-payments", date(2026, 12, 13))
    assert _upcoming(app, parent) == []  # 10 days ahead: not yet

    with app.uow() as uow:
        program = uow.setup.program(uow.setup.product("0021").continuity_program_id or "")
        program.upcoming_charge_notice_days = 10
        uow.setup.save_program(program)
        uow.commit()
    job(app, "process-payments", date(2026, 12, 13))

    assert _upcoming(app, parent) == [f"upcoming:{parent}:1:2"]


@pytest.mark.postgres
def test_a_chunk_of_thousands_of_cards_holds_a_bounded_number_of_card_locks(postgres_database_url):
    """The claim locks the cards' buckets, not each card: a chunk of 3,000 distinct cards holds at most
    CARD_LOCK_BUCKETS advisory locks (one per card ran out of PostgreSQL's shared lock table, "out of shared
    memory", at 20,000 due charges in chunks of 2,000)."""
    engine = create_engine(postgres_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TEMP TABLE tmp_claim (card_token text) ON COMMIT DROP"))
            conn.execute(text("INSERT INTO tmp_claim SELECT 'tok_' || n FROM generate_series(1, 3000) n"))
            batch_payments._lock_cards(conn)
            held = conn.execute(
                text("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            ).scalar_one()
        assert 0 < held <= batch_payments.CARD_LOCK_BUCKETS
    finally:
        engine.dispose()
