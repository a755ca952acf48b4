"""Servicing a parent continuity order (issue 5): for every change the preview equals the applied
result, created/shipped/invoiced history is untouched and the audit trail has the entry; the jobs
do not undo a change; cancel refunds what was paid and not shipped; pause across a month end and a
leap day; change card with declined and unknown installments. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest
from jobs_support import (
    APPROVE,
    DECLINE,
    START,
    TIMEOUT,
    WORK_TABLES,
    attempts,
    captures,
    children,
    enter_order,
    installments,
    job,
    months,
    nightly,
    rows,
    scalar,
    set_up,
    snapshot,
    status_of,
    use_card,
)
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from continuity.bootstrap import App
from continuity.domain.audit import Actor, ActorKind, AuditEntry, Entity
from continuity.domain.money import Money
from continuity.entrypoints.wording import charge_for, why_text
from continuity.services import history, servicing
from continuity.services.projection import ChargeFor, ChargeSubject, order_projection
from continuity.services.servicing import Change

ANN = Actor("agent-ann", ActorKind.AGENT)
ALL_TABLES = (*WORK_TABLES, "continuity_lines", "schedule_adjustments", "audit_entries", "cards")


def history_rows(app: App, parent: str) -> dict:
    """What a change must never touch: created/invoiced occurrences, child orders, settled money, attempts."""
    return {
        "occurrences": rows(
            app,
            "SELECT * FROM schedule_occurrences WHERE sales_id = :p "
            "AND status IN ('child_created', 'invoiced') ORDER BY seq",
            p=parent,
        ),
        "children": rows(app, "SELECT * FROM sales_orders WHERE parent_sales_id = :p ORDER BY sales_id", p=parent),
        "child_lines": rows(app, "SELECT * FROM sales_lines WHERE parent_sales_id = :p ORDER BY sales_id", p=parent),
        "paid": rows(
            app,
            "SELECT * FROM installments WHERE parent_sales_id = :p AND status IN ('paid', 'authorized') "
            "ORDER BY sales_id, seq",
            p=parent,
        ),
        "attempts": rows(
            app,
            "SELECT * FROM payment_attempts WHERE sales_id = :p AND subject = 'installment' ORDER BY attempt_id",
            p=parent,
        ),
    }


def apply(app: App, parent: str, change: Change, actor: Actor = ANN) -> dict:
    return servicing.apply(app.uow, app.gateway, app.clock, parent, change, actor)


def book_club_order(app: App) -> str:
    """BOOKCLUB (events 3-6, monthly from 2026-11-26) in 3 installments; the nightly run of START takes
    installment 1 and creates the child order of occurrence 1 (history)."""
    parent = enter_order(app, "88000", payment_schedule_id="3X")
    nightly(app, START)
    assert [
        r[3]
        for r in rows(
            app,
            "SELECT seq, event_id, item_id, status FROM schedule_occurrences WHERE sales_id = :p ORDER BY seq",
            p=parent,
        )
    ] == ["child_created", "pending", "pending", "pending"]
    return parent


CHANGES = {
    "skip": Change("skip", seq=2, reason="customer travels"),
    "reschedule": Change("reschedule", seq=3, new_date=date(2027, 2, 5), reason="later, please"),
    "reschedule_following": Change("reschedule", seq=2, days=10, following=True),
    "substitute": Change("substitute", seq=3, item_id="0013", reason="has 0018 already"),
    "pause": Change("pause", on=date(2026, 12, 26), reason="moving house"),
    "resume": Change("resume", on=date(2027, 1, 10)),
    "cancel": Change("cancel", reason="too many books"),
    "change_card": Change("change_card", card_number=APPROVE, expiry="11/31", reason="new card"),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_each_change_previews_exactly_what_it_applies_leaves_history_alone_and_is_audited(demo_app, name):
    app = demo_app
    parent = book_club_order(app)
    if name == "resume":
        apply(app, parent, CHANGES["pause"], Actor("someone-else", ActorKind.CLI))
    change = CHANGES[name]
    kept = history_rows(app, parent)
    everything = snapshot(app, ALL_TABLES)

    preview = servicing.preview(app.uow, app.clock, parent, change)

    assert snapshot(app, ALL_TABLES) == everything, "a preview wrote something"
    assert preview["applied"] is False
    if name != "change_card":
        assert preview["after"] != preview["before"]
    applied = apply(app, parent, change)
    assert applied["after"] == preview["after"]
    assert order_projection(app.uow, app.clock.today(), parent) == preview["after"]
    assert history_rows(app, parent) == kept
    entries = [
        e
        for e in history.order_history(app.uow, parent)
        if e["source"] == "audit_entries" and e["actor"] == "agent-ann"
    ]
    assert entries and all(e["actor_kind"] == "agent" for e in entries)
    refund = {"refund_approved"} if name == "cancel" else set()  # 19.66 paid, 12.99 shipped
    assert {e["action"] for e in entries} == {change.kind} | refund
    [entry] = [e for e in entries if e["action"] == change.kind]  # issue 18 item 5: one entry per change
    if name == "cancel":  # the refund it asks for is part of the cancel
        assert {(c["entity"], c["field"], c["before"]) for c in entry["changes"]} >= {("payment", "amount", None)}
    if change.reason:
        assert {e["reason"] for e in entries if e["action"] == change.kind} == {change.reason}
    # the jobs that expand the plan keep the change
    job(app, "extend-lines", START)
    job(app, "continuity-update", START)
    assert order_projection(app.uow, app.clock.today(), parent) == preview["after"]


def test_skip_substitute_and_reschedule_show_in_the_schedule_and_the_installments(demo_app):
    app = demo_app
    parent = book_club_order(app)
    apply(app, parent, Change("skip", seq=2))
    apply(app, parent, Change("substitute", seq=3, item_id="0013"))
    apply(app, parent, Change("reschedule", seq=4, days=3))

    assert rows(
        app,
        "SELECT seq, item_id, ship_date, status FROM schedule_occurrences WHERE sales_id = :p ORDER BY seq",
        p=parent,
    )[1:] == [
        (2, "0017", _d(app, "2026-12-26"), "skipped"),
        (3, "0013", _d(app, "2027-01-26"), "pending"),
        (4, "0019", _d(app, "2027-03-01"), "pending"),
    ]
    # 12.99 shipped + 14.95 + 17.00 = 44.94; 19.66 paid; the two unpaid share 25.28
    assert [a for _, a, _ in installments(app, parent)] == [1966, 1264, 1264]
    assert (
        why_text(history.explain(app.uow, parent, 4).why)
        == "Occurrence 4 ships on 2027-03-01: rescheduled from 2027-02-26."
    )
    assert history.explain(app.uow, parent, 2).why.code == "skipped"


def _d(app: App, iso: str):  # type: ignore[no-untyped-def]
    return scalar(
        app, "SELECT ship_date FROM schedule_occurrences WHERE ship_date = :d LIMIT 1", d=date.fromisoformat(iso)
    )


def test_a_change_refused_writes_nothing(demo_app):
    app = demo_app
    parent = book_club_order(app)
    everything = snapshot(app, ALL_TABLES)
    for change, code in [
        (Change("skip", seq=1), "occurrence_not_pending"),
        (Change("skip", seq=9), "occurrence_not_found"),
        (Change("reschedule", seq=3, new_date=date(2026, 12, 1)), "reschedule_out_of_order"),
        (Change("reschedule", seq=3, new_date=date(2027, 3, 1)), "reschedule_out_of_order"),
        (Change("reschedule", seq=3, new_date=date(2026, 1, 1), following=True), "date_in_past"),
        (Change("substitute", seq=2, item_id="88000"), "item_is_parent"),
        (Change("resume", on=date(2027, 1, 1)), "order_not_paused"),
        (Change("pause", on=date(2026, 11, 1)), "date_in_past"),
        (Change("pause", on=date(2027, 3, 1)), "nothing_pending"),
    ]:
        with pytest.raises(Exception) as raised:
            apply(app, parent, change)
        assert getattr(raised.value, "code", None) == code, (change, raised.value)
    assert snapshot(app, ALL_TABLES) == everything


# -- cancel ---------------------------------------------------------------------------------------------
SIX_BOOKS = {
    "programs": [
        {
            "program_id": "SIXBOOKS",
            "description": "Six books, one a month",
            "order_start": "first_event",
            "days_after_order": 20,
            "payment_schedule_id": "6X",
            "events": [
                {"event_id": i + 1, "item_id": item, "interval": "1 month"}
                for i, item in enumerate(["0013", "0014", "0015", "0017", "0018", "0019"])
            ],
        }
    ],
    "products": [{"item_id": "0040", "name": "Six books", "price": "0.00", "continuity_program_id": "SIXBOOKS"}],
}


def test_cancel_after_two_of_six_installments_and_one_shipment_refunds_the_difference_and_nothing_follows(make_app):
    app = make_app(START)
    from continuity.services.demo import load_demo

    load_demo(app.uow, START)
    set_up(app, SIX_BOOKS)
    parent = enter_order(app, "0040")  # 90.44 in six installments: 15.07 × 5 + 15.09; ships the 13th
    for day in (START, date(2026, 12, 13), date(2026, 12, 23)):
        nightly(app, day)
    assert [s for _, _, s in installments(app, parent)] == ["paid", "paid"] + ["not_submitted"] * 4
    assert [c[1] for c in children(app, parent)] == ["invoiced"]  # 0013 at 14.95 shipped

    later = make_app(date(2026, 12, 24))
    result = apply(later, parent, Change("cancel", reason="no more books"))

    assert result["refund"] == "15.19"  # 30.14 paid − 14.95 shipped, to the cent
    assert rows(app, "SELECT operation, amount_minor, outcome FROM test_gateway_ledger WHERE operation = 'refund'") == [
        ("refund", 1519, "approved")
    ]
    assert rows(
        app, "SELECT subject, operation, amount_minor, status FROM payment_attempts WHERE subject = 'refund'"
    ) == [("refund", "refund", 1519, "approved")]
    assert [s for _, _, s in installments(app, parent)] == ["paid", "paid"] + ["cancelled"] * 4
    assert [
        r[3]
        for r in rows(
            app,
            "SELECT seq, event_id, item_id, status FROM schedule_occurrences WHERE sales_id = :p ORDER BY seq",
            p=parent,
        )
    ] == ["invoiced"] + ["cancelled"] * 5
    before = snapshot(app, ("sales_orders", "sales_lines", "installments", "payment_attempts", "test_gateway_ledger"))
    kids, charged = len(children(app, parent)), captures(app)

    for day in months(date(2026, 12, 25), 8):
        nightly(later, day)
        for name in (
            "extend-lines",
            "continuity-update",
            "reconcile-payments",
            "create-child-orders",
            "process-payments",
        ):
            job(later, name, day)

    assert len(children(app, parent)) == kids and captures(app) == charged
    assert status_of(app, parent)[0] == "closed"
    after = snapshot(app, ("sales_orders", "sales_lines", "installments", "payment_attempts", "test_gateway_ledger"))
    assert [r for r in after["sales_orders"] if r not in before["sales_orders"]] == [
        r for r in after["sales_orders"] if r[0] == parent and r not in before["sales_orders"]
    ]
    assert after["installments"] == before["installments"] and after["payment_attempts"] == before["payment_attempts"]
    actors = {e["actor"] for e in history.order_history(app.uow, parent)}
    assert {"agent-ann", "job:close-orders"} <= actors


class _SilentRefunds:
    """The gateway never answers a refund (it is not even received)."""

    def __init__(self, gateway):  # type: ignore[no-untyped-def]
        self.gateway = gateway

    def refund(self, token, amount, key, captures=()):  # type: ignore[no-untyped-def]
        raise TimeoutError("no answer")

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.gateway, name)


def test_a_refund_without_answer_stays_unknown_until_reconcile_resolves_it_under_its_own_key(make_app):
    app = make_app(START)
    from continuity.services.demo import load_demo

    load_demo(app.uow, START)
    parent = enter_order(app, "0021")  # REPLENISH: 59.40 up front in 3 installments, 6 shipments
    nightly(app, START)
    silent = App(app.settings, app.engine, app.uow, _SilentRefunds(app.gateway), app.clock)

    result = apply(silent, parent, Change("cancel"))

    assert result["refund"] == "9.90"  # 19.80 paid, one 9.90 shipment created
    key, status = rows(app, "SELECT idempotency_key, status FROM payment_attempts WHERE subject = 'refund'")[0]
    assert status == "unknown"
    assert scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'refund'") == 0
    job(app, "reconcile-payments", START, deps=app.job_deps(stale_after_seconds=0))
    assert rows(app, "SELECT idempotency_key, status FROM payment_attempts WHERE subject = 'refund'") == [
        (key, "approved")
    ]
    assert rows(app, "SELECT idempotency_key, amount_minor FROM test_gateway_ledger WHERE operation = 'refund'") == [
        (key, 990)
    ]


# -- pause across a month end and a leap day -------------------------------------------------------------
MONTHLY = {
    "programs": [
        {
            "program_id": "MONTHLY",
            "description": "Vitamins on the last day of each month",
            "order_start": "first_event",
            "days_after_order": 0,
            "events": [{"event_id": 1, "item_id": "0022", "times_to_repeat": 6, "interval": "1 month"}],
        }
    ],
    "products": [{"item_id": "0041", "name": "Monthly vitamins", "price": "0.00", "continuity_program_id": "MONTHLY"}],
}


def test_pause_across_a_month_end_and_a_leap_day_then_resume_moves_the_dates_and_explains_them(make_app):
    app = make_app(date(2027, 12, 20))
    from continuity.services.demo import load_demo

    load_demo(app.uow, app.clock.today())
    set_up(app, MONTHLY, app.clock.today())
    parent = enter_order(app, "0041", start_date=date(2027, 12, 31))
    dates = [s["ship_date"] for s in order_projection(app.uow, app.clock.today(), parent)["shipments"]]
    assert dates == ["2027-12-31", "2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30", "2028-05-31"]
    assert why_text(history.explain(app.uow, parent, 3).why) == (
        "Occurrence 3 ships on 2028-02-29: 1 month after the previous shipment on 2028-01-31; that month has no "
        "day 31, so it ships on the month's last day."
    )
    assert history.explain(app.uow, parent, 4).why.code == "month_day"
    for day in (date(2027, 12, 26), date(2027, 12, 31)):
        nightly(app, day)

    paused_day = make_app(date(2028, 1, 20))
    apply(paused_day, parent, Change("pause", on=date(2028, 1, 31)))
    assert history.explain(app.uow, parent, 2).why.code == "pause_open"
    for day in (date(2028, 1, 26), date(2028, 2, 10), date(2028, 2, 24)):
        nightly(paused_day, day)
    assert len(children(app, parent)) == 1  # nothing is created while paused

    resumed_day = make_app(date(2028, 2, 25))
    apply(resumed_day, parent, Change("resume", on=date(2028, 3, 1)))  # 30 days: Jan 31 → Mar 1 over Feb 29
    shipments = order_projection(app.uow, resumed_day.clock.today(), parent)["shipments"]
    assert [s["ship_date"] for s in shipments] == ["2028-03-01", "2028-03-30", "2028-04-30", "2028-05-30", "2028-06-30"]
    assert why_text(history.explain(app.uow, parent, 2).why) == (
        "Occurrence 2 ships on 2028-03-01: moved 30 day(s) from 2028-01-31 because the order was paused from "
        "2028-01-31 and resumed on 2028-03-01."
    )
    assert why_text(history.explain(app.uow, parent, 5).why) == (
        "Occurrence 5 ships on 2028-05-30: moved 30 day(s) from 2028-04-30 because the order was paused from "
        "2028-01-31 and resumed on 2028-03-01."
    )
    assert history.explain(app.uow, parent, 1).why.code == "start"

    nightly(resumed_day, date(2028, 2, 25))  # 2028-03-01 − 5 lead days: the child of occurrence 2 is due
    assert [c[3] for c in children(app, parent)] == [1, 2]
    nightly(resumed_day, date(2028, 3, 26))
    assert rows(
        app, "SELECT seq, ship_date, date_basis FROM schedule_occurrences WHERE sales_id = :p AND seq = 4", p=parent
    ) == [(4, _d(app, "2028-04-30"), "paused")]


# -- change card --------------------------------------------------------------------------------------------
def test_change_card_lets_a_declined_installment_be_charged_by_the_next_process_payments(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    apply(app, parent, Change("change_card", card_number=DECLINE, expiry="12/30"))
    job(app, "process-payments", START)
    assert installments(app, parent)[0][2] == "paid"  # held by the submit authorization: captured on its card
    second_due = rows(app, "SELECT due_date FROM installments WHERE sales_id = :p AND seq = 2", p=parent)[0][0]
    second_due = second_due if isinstance(second_due, date) else date.fromisoformat(str(second_due))
    job(app, "process-payments", second_due)
    assert installments(app, parent)[1][2] == "declined"  # the first charge on the new card

    apply(app, parent, Change("change_card", card_number=APPROVE, expiry="12/30"))
    job(app, "process-payments", second_due)  # the same as_of: retried at once with the new card

    assert installments(app, parent)[1][2] == "paid"
    assert [(n, s) for n, _, s, _ in attempts(app, parent)] == [(1, "approved"), (1, "declined"), (2, "approved")]
    cards = [
        e["after"]["card"]
        for e in history.order_history(app.uow, parent)
        if e["action"] == "change_card" and e["entity"] == "line"
    ]
    assert cards == ["visa •••• 1111", "visa •••• 0002"]
    assert "4111111111111111" not in str(snapshot(app, ALL_TABLES))


def _order_with_an_unknown_charge(app: App) -> str:
    """REPLENISH whose first installment was charged by a card that times out (the submit authorization
    having lapsed): its outcome is unknown."""
    parent = enter_order(app, "0021")
    use_card(app, parent, TIMEOUT)
    job(app, "process-payments", START)
    assert installments(app, parent)[0][2] == "unknown"
    return parent


def test_change_card_resolves_an_unknown_installment_by_lookup_under_its_own_key_never_a_new_charge(demo_app):
    app = demo_app
    parent = _order_with_an_unknown_charge(app)
    assert captures(app) == 1  # the gateway did charge; it just did not answer

    apply(app, parent, Change("change_card", card_number=APPROVE, expiry="12/30"))
    job(app, "process-payments", START)

    assert installments(app, parent)[0][2] == "paid"
    assert [(n, s) for n, _, s, _ in attempts(app, parent)] == [(1, "approved")]
    assert captures(app) == 1


def test_change_card_is_saved_when_the_gateway_does_not_answer_the_lookup_of_an_unknown_installment(demo_app):
    app = demo_app
    parent = _order_with_an_unknown_charge(app)

    class LookupTimesOut:  # the gateway answers everything but the lookup
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(app.gateway, name)

        def lookup(self, key):  # type: ignore[no-untyped-def]
            raise TimeoutError("the gateway did not answer the lookup")

    servicing.apply(
        app.uow, LookupTimesOut(), app.clock, parent, Change("change_card", card_number=APPROVE, expiry="12/30"), ANN
    )

    assert installments(app, parent)[0][2] == "unknown"  # still to be resolved, under its own key
    job(app, "reconcile-payments", START)
    assert installments(app, parent)[0][2] == "paid"
    assert [(n, s) for n, _, s, _ in attempts(app, parent)] == [(1, "approved")]
    assert captures(app) == 1


# -- the audit trail ----------------------------------------------------------------------------------------
def test_the_audit_trail_refuses_update_and_delete(app):
    with app.uow() as uow:
        uow.audit.add(AuditEntry(ANN, Entity.ORDER, "SO-1", "test", None, {"a": 1}, "", "SO-1"), app.clock.now())
        uow.commit()
    for statement in ("UPDATE audit_entries SET actor = 'someone else'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            with app.engine.begin() as conn:
                conn.execute(text(statement))
    assert rows(app, "SELECT actor, entity_key FROM audit_entries") == [("agent-ann", "SO-1")]


def test_setup_and_job_changes_are_in_the_program_history(demo_app):
    app = demo_app
    entries = history.program_history(app.uow, "BOOKCLUB")
    assert sorted((e["entity"], e["action"], e["entity_key"]) for e in entries) == [
        ("product", "created", "88000"),
        ("program", "created", "BOOKCLUB"),
    ]
    set_up(app, {"programs": [{**_program_doc("BOOKCLUB"), "description": "Book club, renamed"}]})
    entries = history.program_history(app.uow, "BOOKCLUB")
    assert entries[0]["action"] == "changed"
    assert entries[0]["after"]["description"] == "Book club, renamed"
    assert entries[0]["before"]["description"] != "Book club, renamed"
    job(app, "update-event-period", date(2027, 6, 1))
    assert history.program_history(app.uow, "BOOKCLUB")[0]["actor"] == "job:update-event-period"


def _program_doc(program_id: str) -> dict:
    from jobs_support import demo_programs

    return demo_programs()[program_id]


# -- pause from a later date --------------------------------------------------------------------------------
def _statuses(app: App, parent: str) -> list[str]:
    return [
        r[0] for r in rows(app, "SELECT status FROM schedule_occurrences WHERE sales_id = :p ORDER BY seq", p=parent)
    ]


def test_pause_from_a_later_date_ships_the_earlier_occurrences_and_holds_the_rest_until_resumed(demo_app, make_app):
    app = demo_app
    parent = book_club_order(app)  # occurrence 2 ships 2026-12-26 (pending), 3 on 2027-01-26, 4 on 2027-02-26
    change = Change("pause", on=date(2027, 1, 1), reason="away in January")

    preview = servicing.preview(app.uow, app.clock, parent, change)
    applied = apply(app, parent, change)

    assert applied["after"] == preview["after"]
    assert [(s["seq"], s["ship_date"], s["status"]) for s in applied["after"]["shipments"]] == [
        (1, "2026-11-26", "child_created"),
        (2, "2026-12-26", "pending"),
        (3, "2027-01-26", "paused"),
        (4, "2027-02-26", "paused"),
    ]
    assert applied["after"]["lines"][0]["status"] == "paused"
    assert applied["after"]["lines"][0]["paused_from"] == "2027-01-01"
    assert _statuses(app, parent) == ["child_created", "pending", "paused", "paused"]
    assert history.explain(app.uow, parent, 2).why.code == "interval"
    assert history.explain(app.uow, parent, 3).why.code == "pause_open"
    job(app, "extend-lines", START)
    job(app, "continuity-update", START)
    assert order_projection(app.uow, START, parent) == preview["after"]

    for day in (
        date(2026, 12, 21),
        date(2026, 12, 26),
        date(2027, 1, 21),
        date(2027, 1, 26),
        date(2027, 2, 21),
        date(2027, 2, 26),
    ):
        nightly(app, day)
    assert [c[3] for c in children(app, parent)] == [1, 2]  # December ships; January and February are held
    assert _statuses(app, parent) == ["invoiced", "invoiced", "paused", "paused"]

    later = make_app(date(2027, 2, 26))
    resume = Change("resume", on=date(2027, 3, 1))
    preview = servicing.preview(later.uow, later.clock, parent, resume)
    applied = apply(later, parent, resume)
    assert applied["after"] == preview["after"]
    assert [(s["seq"], s["ship_date"], s["status"]) for s in applied["after"]["shipments"]] == [
        (3, "2027-03-26", "pending"),
        (4, "2027-04-26", "pending"),
    ]  # + 59 days (2027-01-01 → 2027-03-01)
    assert applied["after"]["lines"][0]["status"] == "open"
    assert why_text(history.explain(app.uow, parent, 3).why) == (
        "Occurrence 3 ships on 2027-03-26: moved 59 day(s) from 2027-01-26 because the order was paused from "
        "2027-01-01 and resumed on 2027-03-01."
    )
    nightly(later, date(2027, 3, 21))
    assert [c[3] for c in children(app, parent)] == [1, 2, 3]
    assert {e["action"] for e in history.order_history(app.uow, parent) if e["actor"] == "agent-ann"} == {
        "pause",
        "resume",
    }


def test_pause_from_a_later_date_across_a_month_end_and_a_leap_day(make_app):
    app = make_app(date(2027, 12, 20))
    from continuity.services.demo import load_demo

    load_demo(app.uow, app.clock.today())
    set_up(app, MONTHLY, app.clock.today())
    parent = enter_order(app, "0041", start_date=date(2027, 12, 31))  # 12-31, 01-31, 02-29, 03-31, 04-30, 05-31
    nightly(app, date(2027, 12, 26))

    january = make_app(date(2028, 1, 10))
    change = Change("pause", on=date(2028, 2, 1))
    preview = servicing.preview(january.uow, january.clock, parent, change)
    assert apply(january, parent, change)["after"] == preview["after"]
    assert [s["status"] for s in preview["after"]["shipments"]] == ["pending"] + ["paused"] * 4
    for day in (date(2028, 1, 26), date(2028, 1, 31), date(2028, 2, 24), date(2028, 2, 29)):
        nightly(january, day)
    assert [c[3] for c in children(app, parent)] == [1, 2]  # January 31 ships, February 29 is held

    resumed_day = make_app(date(2028, 2, 29))
    apply(resumed_day, parent, Change("resume", on=date(2028, 3, 2)))  # 30 days: Feb 1 → Mar 2 over Feb 29
    shipments = order_projection(resumed_day.uow, resumed_day.clock.today(), parent)["shipments"]
    assert [s["ship_date"] for s in shipments] == ["2028-03-30", "2028-04-30", "2028-05-30", "2028-06-30"]
    assert why_text(history.explain(app.uow, parent, 3).why) == (
        "Occurrence 3 ships on 2028-03-30: moved 30 day(s) from 2028-02-29 because the order was paused from "
        "2028-02-01 and resumed on 2028-03-02."
    )
    assert why_text(history.explain(app.uow, parent, 6).why) == (
        "Occurrence 6 ships on 2028-06-30: moved 30 day(s) from 2028-05-31 because the order was paused from "
        "2028-02-01 and resumed on 2028-03-02."
    )
    assert history.explain(app.uow, parent, 2).why.code == "interval"
    nightly(resumed_day, date(2028, 3, 25))
    assert [c[3] for c in children(app, parent)] == [1, 2, 3]


# -- cancel voids what is authorized and not captured ---------------------------------------------------------
class _VoidSpy:
    """The gateway, with every void call noted; ``answer=False``: voids get no answer (nor arrive)."""

    def __init__(self, gateway, answer: bool = True):  # type: ignore[no-untyped-def]
        self.gateway, self.answer, self.voids = gateway, answer, []

    def void(self, token, reference, key):  # type: ignore[no-untyped-def]
        self.voids.append((token, reference, key))
        if not self.answer:
            raise TimeoutError("no answer")
        return self.gateway.void(token, reference, key)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.gateway, name)


def _authorized_book_club_order(app: App) -> tuple[str, str, str]:
    """BOOKCLUB in 3 installments, submitted (installment 1 authorized with the card), no job run yet."""
    parent = enter_order(app, "88000", payment_schedule_id="3X")
    assert [s for _, _, s in installments(app, parent)] == ["authorized"] + ["not_submitted"] * 2
    token, reference = rows(
        app,
        "SELECT card_token, gateway_reference FROM payment_attempts WHERE sales_id = :p "
        "AND operation = 'authorize' AND status = 'approved'",
        p=parent,
    )[0]
    return parent, token, reference


def test_cancel_voids_the_authorization_of_an_installment_not_captured(demo_app):
    app = demo_app
    parent, token, reference = _authorized_book_club_order(app)
    spy = _VoidSpy(app.gateway)
    agent = App(app.settings, app.engine, app.uow, spy, app.clock)

    preview = servicing.preview(app.uow, app.clock, parent, Change("cancel"))
    assert spy.voids == [] and scalar(app, "SELECT COUNT(*) FROM payment_attempts WHERE operation = 'void'") == 0
    result = apply(agent, parent, Change("cancel", reason="changed her mind"))

    assert result["after"] == preview["after"]
    assert result["voided"] == preview["voided"] == [{"line_no": 1, "seq": 1, "amount": "19.66"}]
    key = f"payment:{parent}:0:1:void:1"  # the submit authorization, released as a whole under its own key
    assert spy.voids == [(token, reference, key)]
    assert rows(app, "SELECT idempotency_key, status FROM payment_attempts WHERE operation = 'void'") == [
        (key, "approved")
    ]
    assert rows(app, "SELECT idempotency_key FROM test_gateway_ledger WHERE operation = 'void'") == [(key,)]
    assert [s for _, _, s in installments(app, parent)] == ["cancelled"] * 3
    assert {e["action"] for e in history.order_history(app.uow, parent) if e["actor"] == "agent-ann"} >= {
        "cancel",
        "void_approved",
    }
    nightly(app, START)
    assert captures(app) == 0 and scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'void'") == 1


def test_a_void_without_answer_stays_unknown_until_reconcile_resolves_it_under_its_own_key(demo_app):
    app = demo_app
    parent, token, reference = _authorized_book_club_order(app)
    silent = _VoidSpy(app.gateway, answer=False)

    apply(App(app.settings, app.engine, app.uow, silent, app.clock), parent, Change("cancel"))

    key = f"payment:{parent}:0:1:void:1"
    assert rows(app, "SELECT idempotency_key, status FROM payment_attempts WHERE operation = 'void'") == [
        (key, "unknown")
    ]
    assert scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'void'") == 0
    job(app, "reconcile-payments", START, deps=app.job_deps(stale_after_seconds=0))
    assert rows(app, "SELECT idempotency_key, status FROM payment_attempts WHERE operation = 'void'") == [
        (key, "approved")
    ]
    assert rows(app, "SELECT idempotency_key, card_token FROM test_gateway_ledger WHERE operation = 'void'") == [
        (key, token)
    ]
    assert [s for _, _, s in installments(app, parent)] == ["cancelled"] * 3  # the void's answer moves nothing
    job(app, "reconcile-payments", START, deps=app.job_deps(stale_after_seconds=0))
    assert scalar(app, "SELECT COUNT(*) FROM test_gateway_ledger WHERE operation = 'void'") == 1


# -- the projection consolidates overdue occurrences like create-child-orders -----------------------------
WEEKLY_CONSOLIDATED = {
    "programs": [
        {
            "program_id": "WEEKLYTEA",
            "description": "Tea every week, overdue ones in one parcel",
            "order_start": "first_event",
            "days_after_order": 0,
            "consolidate_past_orders": True,
            "events": [{"event_id": 1, "item_id": "0022", "times_to_repeat": 6, "days_from_last_event": 7}],
        }
    ],
    "products": [{"item_id": "0042", "name": "Weekly tea", "price": "0.00", "continuity_program_id": "WEEKLYTEA"}],
}


def test_the_projection_consolidates_overdue_occurrences_into_one_charge_as_the_jobs_then_do(demo_app, make_app):
    app = demo_app
    set_up(app, WEEKLY_CONSOLIDATED)
    parent = enter_order(app, "0042")  # paid per shipment: 11-23, 11-30, 12-07, 12-14, 12-21, 12-28
    late = make_app(date(2026, 12, 8))  # no job ran for two weeks: three occurrences are due at once

    charges = order_projection(late.uow, late.clock.today(), parent, 20)["charges"]
    price = int(scalar(app, "SELECT price_minor FROM items WHERE item_id = '0022'"))
    assert [(c["due_date"], c["amount"]) for c in charges] == [
        ("2026-12-08", str(Money.from_minor(3 * price, "EUR").amount)),
        ("2026-12-09", str(Money.from_minor(price, "EUR").amount)),
        ("2026-12-16", str(Money.from_minor(price, "EUR").amount)),
        ("2026-12-23", str(Money.from_minor(price, "EUR").amount)),
    ]
    assert charges[0]["subject"] == ChargeSubject(ChargeFor.SHIPMENTS, (1, 2, 3), ("0022", "0022", "0022"))
    assert charge_for(charges[0]["subject"]) == "shipments 1, 2, 3 (0022, 0022, 0022) in one child order"

    day = date(2026, 12, 8)
    while day <= date(2026, 12, 28):
        nightly(late, day)
        day = date.fromordinal(day.toordinal() + 1)
    made = rows(
        app,
        "SELECT a.as_of, a.amount_minor, a.status FROM payment_attempts a JOIN sales_orders so "
        "ON so.sales_id = a.sales_id WHERE so.parent_sales_id = :p AND a.operation = 'capture' "
        "ORDER BY a.as_of",
        p=parent,
    )
    assert [(str(d), str(Money.from_minor(m, "EUR").amount), s) for d, m, s in made] == [
        (c["due_date"], c["amount"], "approved") for c in charges
    ]
    assert [
        len(rows(app, "SELECT 1 FROM sales_lines WHERE sales_id = :c", c=c[0]))
        for c in rows(app, "SELECT sales_id FROM sales_orders WHERE parent_sales_id = :p ORDER BY sales_id", p=parent)
    ] == [3, 1, 1, 1]


# -- fulfilment and invoicing are in the audit trail ------------------------------------------------------------
def test_fulfil_children_and_invoice_shipped_record_each_status_change(demo_app):
    app = demo_app
    parent = book_club_order(app)
    child = children(app, parent)[0][0]
    nightly(app, date(2026, 11, 26))
    assert status_of(app, child)[0] == "invoiced"

    entries = [
        (e["actor"], e["entity"], e["entity_key"], e["action"], e["before"], e["after"])
        for e in history.order_history(app.uow, child)
        if e["source"] == "audit_entries"
    ]
    assert sorted(entries) == [
        ("job:fulfil-children", "order", child, "shipped", {"status": "open"}, {"status": "shipped"}),
        ("job:invoice-shipped", "order", child, "invoiced", {"status": "shipped"}, {"status": "invoiced"}),
    ]
    occurrence = [
        (e["actor"], e["entity_key"], e["before"], e["after"])
        for e in history.order_history(app.uow, parent)
        if e["entity"] == "occurrence" and e["action"] == "invoiced"
    ]
    assert occurrence == [("job:invoice-shipped", f"{parent}:1:1", {"status": "child_created"}, {"status": "invoiced"})]
    assert scalar(app, "SELECT COUNT(*) FROM audit_entries WHERE action IN ('shipped', 'invoiced')") == 2 * scalar(
        app, "SELECT COUNT(*) FROM sales_orders WHERE status = 'invoiced'"
    ) + scalar(app, "SELECT COUNT(*) FROM schedule_occurrences WHERE status = 'invoiced'")
    nightly(app, date(2026, 11, 27))  # nothing more to ship or invoice: no more entries
    assert scalar(app, "SELECT COUNT(*) FROM audit_entries WHERE action IN ('shipped', 'invoiced')") == 3


def test_manual_fulfilment_steps_are_audited(demo_app) -> None:  # type: ignore[no-untyped-def]
    """release / ship / invoice of a child order by hand leave an entry each: who, from, to."""
    from continuity.services import fulfilment

    app = demo_app
    child = children(app, book_club_order(app))[0][0]
    assert status_of(app, child)[0] == "open"
    clerk = Actor("clerk", ActorKind.AGENT)
    day = app.clock.today()
    fulfilment.release(app.uow, child, day, actor=clerk)
    fulfilment.ship(app.uow, child, "TRACK-1", day, actor=clerk)
    fulfilment.invoice(app.uow, child, day, actor=clerk)
    with app.uow() as uow:
        entries = sorted((e for e in uow.audit.for_order(child) if e.actor == clerk), key=lambda e: e.entry_id)
    assert [(e.action, e.before["status"], e.after["status"]) for e in entries] == [
        ("released", "open", "released"),
        ("shipped", "released", "shipped"),
        ("invoiced", "shipped", "invoiced"),
    ]
    assert entries[1].after["tracking_number"] == "TRACK-1"
