"""The payment review through the JSON API: the worklist, retry (an agent's retry and a second one at once
charge once), change card and retry, waive, a manual payment, cancel; problems with stable codes."""

from __future__ import annotations

from api_support import API, bearer, client, users_of_each_role
from jobs_support import APPROVE, DECLINE, attempts, enter_order, installments, snapshot, use_card
from test_payment_review import _charges_of, _exhaust

TABLES = ("installments", "payment_attempts", "audit_entries", "sales_orders")


def test_the_worklist_and_each_action_through_the_api(demo_app):
    app = demo_app
    agent = bearer(users_of_each_role(app)["agent"])
    first, second, third = (enter_order(app, "0021") for _ in range(3))
    for parent in (second, third):
        use_card(app, parent, DECLINE)
    _exhaust(app, first)  # and the others: 4 declines each on their card
    with client(app) as c:
        listed = c.get(f"{API}/payment-review", headers=agent)
        assert listed.status_code == 200, listed.text
        assert {(i["kind"], i["sales_id"], i["seq"]) for i in listed.json()} == {
            ("retries_exhausted", first, 1),
            ("retries_exhausted", second, 1),
            ("retries_exhausted", third, 1),
        }
        base = f"{API}/payment-review/{first}/installments/1/1"
        retried = c.post(f"{base}/retry", headers=agent)
        assert retried.status_code == 200 and retried.json()["outcome"] == "declined"
        changed = c.post(f"{base}/change-card", headers=agent, json={"card_number": APPROVE, "expiry": "12/31"})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["outcome"], changed.json()["status"]) == ("approved", "paid")
        assert [o for _, o in _charges_of(app, first)][-1] == "approved"

        waived = c.post(
            f"{API}/payment-review/{second}/installments/1/1/waive", headers=agent, json={"reason": "goodwill"}
        )
        assert waived.status_code == 200 and waived.json()["status"] == "cancelled"
        tried = len(attempts(app, third))
        settled = c.post(
            f"{API}/payment-review/{third}/installments/1/1/settle",
            headers=agent,
            json={"method": "cheque", "reference": "CHQ 0042"},
        )
        assert settled.status_code == 200 and settled.json()["status"] == "paid"
        assert installments(app, third)[0][2] == "paid" and len(attempts(app, third)) == tried

        before = snapshot(app, TABLES)
        for path, body, status, code in [
            (
                f"{API}/payment-review/{third}/installments/1/1/settle",
                {"method": "cash", "reference": "x"},
                409,
                "installment_not_open",
            ),
            (f"{API}/payment-review/{third}/installments/1/9/retry", None, 404, "installment_not_found"),
            (f"{API}/payment-review/{first}/installments/1/1/retry", None, 409, "installment_not_retryable"),
            (f"{API}/payment-review/{second}/installments/1/1/waive", {"reason": ""}, 422, "request_invalid"),
            (
                f"{API}/payment-review/{first}/installments/1/2/change-card",
                {"card_number": APPROVE},
                422,
                "request_invalid",
            ),
        ]:
            answer = c.post(path, headers=agent, json=body)
            assert (answer.status_code, answer.json()["code"]) == (status, code), (path, answer.text)
        assert snapshot(app, TABLES) == before

        cancelled = c.post(f"{API}/payment-review/{second}/cancel", headers=agent, json={"reason": "customer left"})
        assert cancelled.status_code == 200 and cancelled.json() == {"sales_id": second, "applied": True}
