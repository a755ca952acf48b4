"""The hold operations of the JSON API: /hold-codes (agents read, managers add), /sales-orders/{id}/hold and
/clear-hold by the authenticated user (audit trail), errors as problem+json with stable codes."""

from __future__ import annotations

from api_support import API, bearer, client, users_of_each_role
from jobs_support import START, children, enter_order, job, snapshot

TABLES = ("sales_orders", "audit_entries", "hold_codes")


def test_hold_codes_are_read_by_agents_and_added_by_managers(demo_app):
    app = demo_app
    tokens = users_of_each_role(app)
    agent, manager = bearer(tokens["agent"]), bearer(tokens["manager"])
    with client(app) as c:
        listed = c.get(f"{API}/hold-codes", headers=agent)
        assert listed.status_code == 200
        assert {"code": "fraud_review", "description": "Fraud review", "kind": "manual"} in listed.json()
        new = {"code": "gift_wrap", "description": "Waiting for gift wrap"}
        assert c.post(f"{API}/hold-codes", headers=agent, json=new).status_code == 403
        added = c.post(f"{API}/hold-codes", headers=manager, json=new)
        assert added.status_code == 201 and added.json()["kind"] == "manual"
        again = c.post(f"{API}/hold-codes", headers=manager, json=new)
        assert again.status_code == 422 and again.json()["code"] == "hold_code_exists"
        bad = c.post(f"{API}/hold-codes", headers=manager, json={"code": "Bad Code", "description": "x"})
        assert bad.status_code == 422


def test_an_agent_holds_an_order_and_a_manager_clears_it_with_notes_in_the_history(demo_app):
    app = demo_app
    tokens = users_of_each_role(app)
    agent, manager = bearer(tokens["agent"]), bearer(tokens["manager"])
    parent = enter_order(app, "0021")
    base = f"{API}/sales-orders/{parent}"
    with client(app) as c:
        held = c.post(f"{base}/hold", headers=agent, json={"code": "customer_request", "note": "wants to think"})
        assert held.status_code == 200, held.text
        assert held.json() == {
            "sales_id": parent,
            "status": "on_hold",
            "hold_code": "customer_request",
            "note": "wants to think",
            "cleared_children": [],
        }
        order = c.get(base, headers=agent).json()
        assert (order["status"], order["hold_code"], order["hold_reason"]) == (
            "on_hold",
            "customer_request",
            "wants to think",
        )
        assert c.get(f"{API}/continuity-orders/{parent}", headers=agent).json()["hold_code"] == "customer_request"

        job(app, "create-child-orders", START)
        child = children(app, parent)[0][0]
        assert c.get(f"{API}/sales-orders/{child}", headers=agent).json()["hold_code"] == "customer_request"

        cleared = c.post(f"{base}/clear-hold", headers=manager, json={"note": "goes ahead"})
        assert cleared.status_code == 200 and cleared.json()["cleared_children"] == [child]
        entries = c.get(f"{API}/continuity-orders/{parent}/history", headers=agent).json()
        mine = [
            (e["action"], e["actor"], e["actor_kind"], e["reason"])
            for e in entries
            if e["action"] in ("held", "hold_cleared")
        ]
        assert mine == [
            ("hold_cleared", "manager-user", "manager", "goes ahead"),
            ("held", "agent-user", "agent", "wants to think"),
        ]


def test_refused_holds_are_problems_with_their_codes_and_write_nothing(demo_app):
    app = demo_app
    agent = bearer(users_of_each_role(app)["agent"])
    parent = enter_order(app, "0021")
    base = f"{API}/sales-orders/{parent}"
    with client(app) as c:
        before = snapshot(app, TABLES)
        for body, status, code in [
            ({"code": "nope", "note": "x"}, 404, "hold_code_not_found"),
            ({"code": "payment_declined", "note": "x"}, 409, "hold_code_not_manual"),
            ({"code": "fraud_review", "note": ""}, 422, "request_invalid"),
            ({"code": "fraud_review"}, 422, "request_invalid"),
        ]:
            answer = c.post(f"{base}/hold", headers=agent, json=body)
            assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
        clear = c.post(f"{base}/clear-hold", headers=agent, json={"note": "x"})
        assert (clear.status_code, clear.json()["code"]) == (409, "order_not_on_hold")
        missing = c.post(
            f"{API}/sales-orders/SO-999999/hold", headers=agent, json={"code": "fraud_review", "note": "x"}
        )
        assert missing.status_code == 404
        assert snapshot(app, TABLES) == before
