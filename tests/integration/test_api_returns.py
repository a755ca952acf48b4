"""Returns through the JSON API (issue 16 part 1): the program's return action set by PUT /programs, the
reason codes listed and saved, a return of a shipped child order answered with its credit note and
refund (checked against the gateway's own ledger), refusals as problem documents with stable codes,
and a replayed Idempotency-Key that refunds once."""

from __future__ import annotations

from api_support import API, bearer, client, users_of_each_role
from jobs_support import START, demo_programs, enter_order, nightly, rows, snapshot
from test_returns import SHIPPED, TABLES, assert_refunds_within_captures, ledger_money, refund_ledger

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import App


def test_a_return_story_through_the_api(demo_app):
    app = demo_app
    tokens = users_of_each_role(app)
    agent, manager = bearer(tokens["agent"]), bearer(tokens["manager"])
    with client(app) as c:
        trilogy = {k: v for k, v in demo_programs()["TRILOGY"].items() if k != "program_id"}
        put = c.put(f"{API}/programs/TRILOGY", headers=manager, json=trilogy | {"return_action": "replace"})
        assert put.status_code == 200, put.text
        assert c.get(f"{API}/programs/TRILOGY", headers=agent).json()["return_action"] == "replace"
        bad = c.put(f"{API}/programs/TRILOGY", headers=manager, json=trilogy | {"return_action": "refund_all"})
        assert bad.status_code == 422

        assert [r["code"] for r in c.get(f"{API}/return-reasons", headers=agent).json()] == [
            "DAMAGED",
            "NOT_WANTED",
            "WRONG_ITEM",
        ]
        saved = c.put(f"{API}/return-reasons/late", headers=manager, json={"description": "Arrived too late"})
        assert saved.json() == {"code": "LATE", "description": "Arrived too late", "active": True}
        assert c.put(f"{API}/return-reasons/LATE", headers=agent, json={"description": "x"}).status_code == 403

    parent = enter_order(app, "0016", quantity=2)
    nightly(app, START)
    nightly(app, SHIPPED)
    child = rows(app, "SELECT sales_id FROM sales_orders WHERE parent_sales_id = :p", p=parent)[0][0]
    back = App(app.settings, app.engine, app.uow, app.gateway, FixedClock(SHIPPED))
    with client(back) as c:
        url = f"{API}/sales-orders/{child}/returns"
        body = {"line_no": 1, "quantity": 1, "reason_code": "damaged", "note": "cover torn"}
        key = {"Idempotency-Key": "return-once"}
        made = c.post(url, headers=agent | key, json=body)
        assert made.status_code == 201, made.text
        result = made.json()
        assert (result["credit_note"], result["amount"], result["refund_status"]) == ("CN-000001", "14.95", "approved")
        assert result["replacement_sales_id"] == f"{child}-R1" and result["reason_code"] == "DAMAGED"
        replayed = c.post(url, headers=agent | key, json=body)
        assert replayed.status_code == 201 and replayed.json() == result  # the same answer, no second refund
        assert refund_ledger(app) == [(result["refund_key"], 1495, "approved")]

        before = snapshot(app, TABLES)
        refusals = [
            ({**body, "quantity": 2}, 409, "return_quantity_exceeds_shipped"),
            ({**body, "reason_code": "NOPE"}, 404, "return_reason_not_found"),
            ({**body, "line_no": 7}, 404, "line_not_found"),
            ({**body, "quantity": 0}, 422, None),
        ]
        for wrong, status, code in refusals:
            answer = c.post(url, headers=agent, json=wrong)
            assert answer.status_code == status, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            if code:
                assert answer.json()["code"] == code
        parent_return = c.post(f"{API}/sales-orders/{parent}/returns", headers=agent, json=body)
        assert (parent_return.status_code, parent_return.json()["code"]) == (409, "not_a_child_order")
        assert snapshot(app, TABLES) == before

        last = c.post(url, headers=agent, json={**body, "reason_code": "NOT_WANTED"})
        assert last.status_code == 201 and last.json()["credit_note"] == "CN-000002"
        notes = c.get(f"{API}/sales-orders/{parent}/credit-notes", headers=agent).json()
        assert [(n["credit_note"], n["refund_status"], n["lines"][0]["quantity"]) for n in notes] == [
            ("CN-000001", "approved", 1),
            ("CN-000002", "approved", 1),
        ]
    assert ledger_money(app)[child] == {"capture": 2990, "refund": 2990}
    assert_refunds_within_captures(app)
