"""Holds and the payment review end to end through a real `continuity serve` (SQLite file and PostgreSQL):
an agent holds a continuity order with a code and a note over HTTP, the night makes its child on hold, a
manager clears it (the child too); a child's charge declined hard (lost card) is in the payment review, and
the agent's change of card pays it. The orders are entered and the jobs run through the CLI."""

from __future__ import annotations

import os

import httpx
from test_api_serve import TODAY, Server, _cli, _ok

APPROVE, LOST = "4111111111111111", "4000000000009987"


def test_holds_and_the_payment_review_through_a_running_server(database_url, tmp_path):
    env = {
        **os.environ,
        "CONTINUITY_DATABASE_URL": database_url,
        "CONTINUITY_LOG_FILE": str(tmp_path / "continuity.log"),
        "CONTINUITY_TODAY": TODAY,
    }
    _cli(env, "demo", "load")
    tokens = {role: _cli(env, "users", "add", f"{role}-1", "--role", role)["token"] for role in ("agent", "manager")}
    held, lost = (_cli(env, "orders", "new", "--customer", "004007", "--item", "88000")["sales_id"] for _ in range(2))
    for sales_id in (held, lost):
        _cli(env, "orders", "pay", sales_id, "--card", APPROVE, "--expiry", "12/30")
        _cli(env, "orders", "submit", sales_id)
    _cli(env, "orders", "change-card", lost, "--card", LOST, "--expiry", "12/30")
    server = Server(env, tmp_path / "server.out")
    try:
        agent = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens['agent']}"}, timeout=30)
        manager = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {tokens['manager']}"}, timeout=30
        )
        codes = {c["code"] for c in _ok(agent.get("/hold-codes"))}
        assert {"fraud_review", "address_check", "customer_request", "payment_review"} <= codes
        done = _ok(agent.post(f"/sales-orders/{held}/hold", json={"code": "fraud_review", "note": "two countries"}))
        assert done["status"] == "on_hold"

        _cli(env, "jobs", "create-child-orders", "--as-of", TODAY)
        _cli(env, "jobs", "process-payments", "--as-of", TODAY)
        child = f"{held}-1-1"
        assert _ok(agent.get(f"/sales-orders/{child}"))["hold_code"] == "fraud_review"
        cleared = _ok(manager.post(f"/sales-orders/{held}/clear-hold", json={"note": "confirmed by phone"}))
        assert cleared["cleared_children"] == [child]
        actions = [e["action"] for e in _ok(agent.get(f"/continuity-orders/{held}/history"))]
        assert "held" in actions and "hold_cleared" in actions

        listed = _ok(agent.get("/payment-review"))
        review = [i for i in listed if i["sales_id"] == f"{lost}-1-1"]
        assert [(i["kind"], i["seq"], i["attempts"]) for i in review] == [("retries_exhausted", 1, 1)]
        base = f"/payment-review/{lost}-1-1/installments/0/1"
        refused = agent.post(f"{base}/retry")  # never after a hard decline on the same card
        assert refused.status_code == 409 and refused.json()["code"] == "installment_not_retryable"
        paid = _ok(agent.post(f"{base}/change-card", json={"card_number": APPROVE, "expiry": "12/31"}))
        assert (paid["outcome"], paid["status"]) == ("approved", "paid")
        assert not [i for i in _ok(agent.get("/payment-review")) if i["sales_id"] == f"{lost}-1-1"]
        agent.close()
        manager.close()
    finally:
        server.stop()
