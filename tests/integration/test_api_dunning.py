"""Dunning through the JSON API: an installment's decline code, class and next retry day on the order;
the dunning parameters read and changed (PATCH), a bad schedule refused with a problem, nothing written."""

from __future__ import annotations

from datetime import timedelta

from api_support import API, bearer, client, users_of_each_role
from jobs_support import START, enter_order, job, use_card

NO_FUNDS, EXPIRED = "4000000000009995", "4000000000000069"
DAY = timedelta(days=1)


def _installment(c, headers, sales_id: str) -> dict:  # type: ignore[no-untyped-def]
    answer = c.get(f"{API}/sales-orders/{sales_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["installments"][0]


def test_the_decline_class_and_next_retry_day_follow_the_parameters_through_the_api(demo_app):
    app = demo_app
    users = users_of_each_role(app)
    agent, manager = bearer(users["agent"]), bearer(users["manager"])
    soft, hard = enter_order(app, "0021"), enter_order(app, "0021")
    use_card(app, soft, NO_FUNDS)
    use_card(app, hard, EXPIRED)
    job(app, "process-payments", START)
    with client(app) as c:
        first = _installment(c, agent, soft)
        assert (first["status"], first["decline_code"], first["decline_class"], first["next_retry"]) == (
            "declined",
            "insufficient_funds",
            "soft",
            str(START + DAY),
        )
        expired = _installment(c, agent, hard)
        assert (expired["decline_code"], expired["decline_class"], expired["next_retry"]) == (
            "expired_card",
            "hard",
            None,
        )

        changed = c.patch(f"{API}/parameters/continuity", headers=manager, json={"retry_days": [2, 6]})
        assert changed.status_code == 200 and changed.json()["retry_days"] == [2, 6]
        assert _installment(c, agent, soft)["next_retry"] == str(START + 2 * DAY)

        refused = c.patch(f"{API}/parameters/continuity", headers=manager, json={"retry_days": [6, 2]})
        assert refused.status_code == 422 and refused.json()["code"] == "parameters_invalid"
        assert c.get(f"{API}/parameters/continuity", headers=manager).json()["retry_days"] == [2, 6]
    job(app, "process-payments", START + DAY)  # not a retry day any more
    job(app, "process-payments", START + 2 * DAY)
    with client(app) as c:
        assert _installment(c, agent, soft)["next_retry"] == str(START + 6 * DAY)
