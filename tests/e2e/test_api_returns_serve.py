"""A return through the JSON API of a real `continuity serve` process (SQLite file and PostgreSQL): a
manager makes TRILOGY replace returned goods; an agent orders two, tokenizes a card, pays and submits;
the manager runs the nightly jobs (the warehouse's stand-in ships and invoices the child order); the agent
lists the reason codes, returns one item (retried under the same Idempotency-Key: one refund), is refused
a second return of two, and reads the credit notes; the warehouse ships the no-charge replacement. Every
refund is checked against the gateway's own ledger."""

from __future__ import annotations

import os

import httpx
from sqlalchemy import text
from test_api_serve import TODAY, Server, _cli, _ok

from continuity.adapters.db import make_engine

PAN = "4111111111111111"


def _ledger(database_url: str, child: str) -> list[tuple]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT g.operation, g.amount_minor, g.outcome FROM test_gateway_ledger g "
                        "JOIN payment_attempts a ON a.idempotency_key = g.idempotency_key "
                        "WHERE a.sales_id = :c ORDER BY g.operation, g.idempotency_key"
                    ),
                    {"c": child},
                )
            ]
    finally:
        engine.dispose()


def test_a_return_through_a_running_api_server(database_url, tmp_path):
    env = {
        **os.environ,
        "CONTINUITY_DATABASE_URL": database_url,
        "CONTINUITY_LOG_FILE": str(tmp_path / "continuity.log"),
        "CONTINUITY_TODAY": TODAY,
    }
    _cli(env, "demo", "load")
    roles = ("agent", "manager", "warehouse")
    tokens = {role: _cli(env, "users", "add", f"{role}-1", "--role", role)["token"] for role in roles}
    server = Server(env, tmp_path / "server.out")
    clients = {
        role: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=30)
        for role in roles
    }
    agent, manager, warehouse = clients["agent"], clients["manager"], clients["warehouse"]
    try:
        trilogy = _ok(manager.get("/programs/TRILOGY"))
        fields = {k: v for k, v in trilogy.items() if k not in ("program_id", "current_event")}
        for e in fields["events"]:
            for key in ("price", "currency") if e["price"] is None else ():
                e.pop(key)
        assert _ok(manager.put("/programs/TRILOGY", json=fields | {"return_action": "replace"}))["return_action"] == (
            "replace"
        )

        order = _ok(
            agent.post("/sales-orders", json={"customer": "004007", "lines": [{"item_id": "0016", "quantity": 2}]}), 201
        )
        parent = order["sales_id"]
        card = _ok(agent.post("/cards", json={"customer": "004007", "card_number": PAN, "expiry": "12/30"}), 201)
        _ok(agent.post(f"/sales-orders/{parent}/payments", json={"card_token": card["token"]}), 201)
        assert _ok(agent.post(f"/sales-orders/{parent}/submit"))["status"] == "open"
        for day in (TODAY, "2026-11-26"):
            _cli(env, "jobs", "run-all", "--as-of", day, "--fulfil")
        children = _ok(agent.get("/sales-orders", params={"parent": parent}))["items"]
        child = children[0]["sales_id"]
        assert children[0]["status"] == "invoiced"

        assert "DAMAGED" in [r["code"] for r in _ok(agent.get("/return-reasons"))]
        body = {"line_no": 1, "quantity": 1, "reason_code": "DAMAGED", "note": "cover torn"}
        key = {"Idempotency-Key": "e2e-return-1"}
        made = _ok(agent.post(f"/sales-orders/{child}/returns", headers=key, json=body), 201)
        again = agent.post(f"/sales-orders/{child}/returns", headers=key, json=body)
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == made
        assert (made["credit_note"], made["amount"], made["refund_status"]) == ("CN-000001", "14.95", "approved")

        refused = agent.post(f"/sales-orders/{child}/returns", json={**body, "quantity": 2})
        assert refused.status_code == 409 and refused.json()["code"] == "return_quantity_exceeds_shipped"
        assert refused.headers["content-type"].startswith("application/problem+json")

        notes = _ok(agent.get(f"/sales-orders/{parent}/credit-notes"))
        assert [(n["credit_note"], n["sales_id"], n["refund_status"]) for n in notes] == [
            ("CN-000001", child, "approved")
        ]
        replacement = made["replacement_sales_id"]
        assert replacement == f"{child}-R1"
        _ok(warehouse.post(f"/sales-orders/{replacement}/release"))
        _ok(warehouse.post(f"/sales-orders/{replacement}/ship", json={"tracking_number": "TRACK-R1"}))
        assert _ok(warehouse.post(f"/sales-orders/{replacement}/invoice"))["status"] == "invoiced"
    finally:
        for client in clients.values():
            client.close()
        server.stop()

    assert _ledger(database_url, child) == [("capture", 2990, "approved"), ("refund", 1495, "approved")]
