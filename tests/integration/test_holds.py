"""Order holds with hold codes (issue 17 item 1): the codes are set-up data; an agent or a manager puts an
order on hold with a manual code and a note and clears it with a note, both in the order's history; a
held parent's new children are made on hold with its code and cleared with it; a held order is not
charged; the payment holds are hold codes too (one hold model)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from jobs_support import DECLINE, START, captures, children, enter_order, installments, job, rows, use_card

from continuity.domain.audit import Actor, ActorKind
from continuity.domain.errors import DomainError
from continuity.domain.holds import CHARGE_DECLINED, PARENT_PAYMENT, PAYMENT_DECLINED
from continuity.services import history, holds, order_entry, payment_entry

AGENT = Actor("ann", ActorKind.AGENT)
MANAGER = Actor("max", ActorKind.MANAGER)


def _hold(app, sales_id, code="fraud_review", note="card used from two countries", actor=AGENT):  # type: ignore[no-untyped-def]
    return holds.put_on_hold(app.uow, app.clock, sales_id, code, note, actor)


def _code_of(app, sales_id):  # type: ignore[no-untyped-def]
    return tuple(
        rows(app, "SELECT status, hold_code, hold_reason FROM sales_orders WHERE sales_id = :s", s=sales_id)[0]
    )


def _error(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_the_hold_codes_are_set_up_data_listed_with_their_kind_and_a_manager_adds_one(demo_app):
    app = demo_app
    listed = {c["code"]: c["kind"] for c in holds.hold_codes(app.uow)}
    assert {
        k: listed[k] for k in ("fraud_review", "address_check", "customer_request", "payment_review")
    } == dict.fromkeys(("fraud_review", "address_check", "customer_request", "payment_review"), "manual")
    assert listed[PAYMENT_DECLINED] == listed[CHARGE_DECLINED] == listed[PARENT_PAYMENT] == "payment"

    added = holds.add_hold_code(app.uow, "gift_wrap", "Waiting for gift wrapping")

    assert added == {"code": "gift_wrap", "description": "Waiting for gift wrapping", "kind": "manual"}
    assert "gift_wrap" in [c["code"] for c in holds.hold_codes(app.uow)]
    assert _error(lambda: holds.add_hold_code(app.uow, "gift_wrap", "again")) == "hold_code_exists"
    assert _error(lambda: holds.add_hold_code(app.uow, "fraud_review", "again")) == "hold_code_exists"
    assert _error(lambda: holds.add_hold_code(app.uow, "Bad Code", "x")) == "hold_code_invalid"


def test_an_agent_holds_an_order_with_a_code_and_a_note_and_a_manager_clears_it_both_in_its_history(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")

    held = _hold(app, parent)
    assert held["status"] == "on_hold" and held["hold_code"] == "fraud_review"
    assert _code_of(app, parent) == ("on_hold", "fraud_review", "card used from two countries")

    cleared = holds.clear_hold(app.uow, app.clock, parent, "customer confirmed by phone", MANAGER)
    assert cleared["status"] == "open" and cleared["hold_code"] == ""
    assert _code_of(app, parent) == ("open", "", "")

    entries = [e for e in history.order_history(app.uow, parent) if e["action"] in (holds.HELD, holds.CLEARED)]
    assert [(e["action"], e["actor"], e["actor_kind"], e["reason"]) for e in entries] == [
        ("hold_cleared", "max", "manager", "customer confirmed by phone"),
        ("held", "ann", "agent", "card used from two countries"),
    ]
    assert entries[1]["after"] == {"status": "on_hold", "hold_code": "fraud_review"}
    assert entries[0]["before"] == {"status": "on_hold", "hold_code": "fraud_review"}


def test_a_hold_is_refused_without_a_note_with_an_unknown_or_payment_code_or_twice(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    assert _error(lambda: _hold(app, parent, note="  ")) == "hold_note_required"
    assert _error(lambda: _hold(app, parent, code="no_such_code")) == "hold_code_not_found"
    assert _error(lambda: _hold(app, parent, code=PAYMENT_DECLINED)) == "hold_code_not_manual"
    assert _error(lambda: holds.clear_hold(app.uow, app.clock, parent, "why", AGENT)) == "order_not_on_hold"
    _hold(app, parent)
    assert _error(lambda: _hold(app, parent, code="address_check")) == "order_not_holdable"
    assert _code_of(app, parent)[1] == "fraud_review"


def test_a_payment_hold_names_its_code_and_is_never_cleared_by_hand(demo_app):
    app = demo_app
    sales_id = order_entry.create_order_with_line(app.uow, app.clock, "004007", "0021")
    payment_entry.add_card_payment(app.uow, app.gateway, app.clock, sales_id, DECLINE, "12/30")
    result = payment_entry.submit(app.uow, app.gateway, app.clock, sales_id)

    assert result.status == "on_hold" and _code_of(app, sales_id)[:2] == ("on_hold", PAYMENT_DECLINED)
    assert _error(lambda: holds.clear_hold(app.uow, app.clock, sales_id, "let it go", AGENT)) == "hold_code_not_manual"


def test_a_child_of_a_parent_held_by_hand_is_made_on_hold_with_its_code_and_cleared_with_the_parent(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    _hold(app, parent, code="address_check", note="the address bounced")

    made = job(app, "create-child-orders", START)

    child = children(app, parent)[0][0]
    assert made["counts"]["created"] == 1 and made["counts"]["on_hold"] == 1
    assert _code_of(app, child) == ("on_hold", "address_check", "the address bounced")
    assert job(app, "fulfil-children", START + timedelta(days=3))["counts"]["shipped"] == 0

    cleared = holds.clear_hold(app.uow, app.clock, parent, "address fixed", AGENT)

    assert cleared["cleared_children"] == [child]
    assert _code_of(app, child) == ("open", "", "")
    assert [e["action"] for e in history.order_history(app.uow, child)][0] == "hold_cleared"


def test_a_parent_held_by_hand_is_not_charged_until_its_hold_is_cleared(demo_app):
    app = demo_app
    parent = enter_order(app, "0021")
    use_card(app, parent, "4111111111111111")  # the submit authorization lapsed: the installment is charged
    _hold(app, parent)
    before = (captures(app), installments(app, parent))

    job(app, "process-payments", START)
    assert (captures(app), installments(app, parent)) == before

    holds.clear_hold(app.uow, app.clock, parent, "ok", AGENT)
    job(app, "process-payments", START)
    assert installments(app, parent)[0][2] == "paid"


def test_the_payment_holds_of_child_orders_carry_their_codes_and_a_hold_by_hand_is_not_released_by_payments(demo_app):
    app = demo_app
    parent = enter_order(app, "88000")  # the book club: each child is charged when made
    use_card(app, parent, DECLINE)
    job(app, "create-child-orders", START)
    job(app, "process-payments", START)
    first = children(app, parent)[0][0]
    assert _code_of(app, first)[:2] == ("on_hold", CHARGE_DECLINED)
    assert _error(lambda: _hold(app, first)) == "order_not_holdable"
