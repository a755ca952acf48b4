"""The servicing operations of the JSON API: preview writes nothing, the change is made by the
authenticated user (audit trail), errors are problem+json with stable codes."""

from __future__ import annotations

from api_support import API, bearer, client, users_of_each_role
from jobs_support import START, enter_order, nightly, snapshot
from sqlalchemy import text

TABLES = ("schedule_occurrences", "installments", "schedule_adjustments", "audit_entries", "continuity_lines")


def test_skip_preview_then_apply_history_explanation_and_projection(demo_app):
    app = demo_app
    tokens = users_of_each_role(app)
    agent = bearer(tokens["agent"])
    parent = enter_order(app, "88000", payment_schedule_id="3X")
    nightly(app, START)
    base = f"{API}/continuity-orders/{parent}"
    with client(app) as c:
        before = snapshot(app, TABLES)
        preview = c.post(f"{base}/skip", headers=agent, json={"seq": 2, "preview": True, "reason": "away"})
        assert preview.status_code == 200, preview.text
        assert snapshot(app, TABLES) == before
        assert [s["status"] for s in preview.json()["after"]["shipments"]][:3] == [
            "child_created",
            "skipped",
            "pending",
        ]

        applied = c.post(f"{base}/skip", headers=agent, json={"seq": 2, "reason": "away"})
        assert applied.status_code == 200 and applied.json()["applied"] is True
        assert applied.json()["after"] == preview.json()["after"]

        again = c.post(f"{base}/skip", headers=agent, json={"seq": 2})
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")
        assert again.json()["code"] == "occurrence_not_pending"

        entries = c.get(f"{base}/history", headers=agent).json()
        mine = [e for e in entries if e["actor"] == "agent-user"]
        assert mine and {e["actor_kind"] for e in mine} == {"agent"} and {e["reason"] for e in mine} == {"away"}
        assert any(e["action"] == "child_order_created" for e in entries)

        explained = c.get(f"{base}/occurrences/3/explanation", headers=agent).json()
        assert explained["code"] == "interval" and explained["text"].startswith("Occurrence 3 ships on 2027-01-26")
        assert c.get(f"{base}/occurrences/9/explanation", headers=agent).json()["code"] == "occurrence_not_found"

        projection = c.get(f"{base}/projection?count=2", headers=agent).json()
        assert len(projection["shipments"]) == 2 and len(projection["charges"]) == 2
        assert projection["charges"][0]["for"].startswith("installment 2 of 3")

        reschedule = c.post(f"{base}/reschedule", headers=agent, json={"seq": 3, "preview": True})
        assert reschedule.status_code == 422 and reschedule.json()["code"] == "request_invalid"
        assert c.get(f"{API}/programs/BOOKCLUB/history", headers=agent).status_code == 403
        manager = bearer(tokens["manager"])
        assert c.get(f"{API}/programs/BOOKCLUB/history", headers=manager).status_code == 200


def test_setup_changes_through_the_api_are_recorded_with_the_manager(demo_app):
    tokens = users_of_each_role(demo_app)
    with client(demo_app) as c:
        response = c.put(
            f"{API}/products/0013",
            headers=bearer(tokens["manager"]),
            json={"name": "The Northern Lights (2nd ed.)", "price": "15.95"},
        )
        assert response.status_code == 200
    with demo_app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT actor, actor_kind, action, after FROM audit_entries "
                "WHERE entity = 'product' AND entity_key = '0013' ORDER BY entry_id"
            )
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows][-1] == ("manager-user", "manager", "changed")
    assert '"price": "15.95"' in rows[-1][3]
