"""The payment review page (issue 17 item 3): the worklist for agents, Retry now / Change card and retry /
Waive / Settle by post-redirect-get, audited under the agent's name; a refusal comes back once; in French."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from jobs_support import APPROVE, DECLINE, enter_order, installments, rows, use_card  # noqa: E402
from test_payment_review import _exhaust  # noqa: E402
from test_web_servicing import agent, section, web_app  # noqa: E402, F401
from web_support import AGENT, csrf_of, follow  # noqa: E402


def _three_exhausted(app):  # type: ignore[no-untyped-def]
    orders = [enter_order(app, "0021") for _ in range(3)]
    for parent in orders[1:]:
        use_card(app, parent, DECLINE)
    _exhaust(app, orders[0])
    return orders


def test_the_worklist_and_its_actions_from_the_page(web_app, agent):
    first, second, third = _three_exhausted(web_app)
    page = agent.get("/payment-review")
    assert page.status_code == 200
    for parent in (first, second, third):
        assert "Retries used up" in section(page.text, f"review-{parent}-1-1")
    token = csrf_of(page.text)

    retried = follow(
        agent, agent.post(f"/payment-review/{first}/1/1/retry", data={"csrf_token": token}), "/payment-review"
    )
    assert "the charge was declined again" in retried.text
    changed = agent.post(
        f"/payment-review/{first}/1/1/change-card",
        data={"csrf_token": token, "card_number": APPROVE, "expiry": "12/31"},
    )
    shown = follow(agent, changed, "/payment-review")
    assert f"Order {first}: the charge was approved." in shown.text and f"review-{first}-1-1" not in shown.text
    assert APPROVE not in shown.text

    waived = agent.post(f"/payment-review/{second}/1/1/waive", data={"csrf_token": token, "reason": "goodwill"})
    assert "the installment is waived" in follow(agent, waived, "/payment-review").text
    settled = agent.post(
        f"/payment-review/{third}/1/1/settle", data={"csrf_token": token, "method": "cheque", "reference": "CHQ 7"}
    )
    assert "settled by the manual payment" in follow(agent, settled, "/payment-review").text
    assert [installments(web_app, o)[0][2] for o in (first, second, third)] == ["paid", "cancelled", "paid"]
    actors = rows(
        web_app, "SELECT DISTINCT actor FROM audit_entries WHERE action IN ('retried', 'waived', 'paid_manually')"
    )
    assert [tuple(r) for r in actors] == [(AGENT[0],)]
    assert "Nothing to review." in agent.get("/payment-review").text


def test_a_refused_action_comes_back_once_with_its_error_in_french(web_app, agent):
    first, _, _ = _three_exhausted(web_app)
    token = csrf_of(agent.get("/payment-review").text)
    agent.post("/language", data={"csrf_token": token, "language": "fr", "next": "/payment-review"})
    refused = agent.post(f"/payment-review/{first}/1/1/waive", data={"csrf_token": token, "reason": " "})
    shown = follow(agent, refused, "/payment-review")
    assert 'id="review-error"' in shown.text and "Écrivez pourquoi" in shown.text
    assert "Nouvelles tentatives épuisées" in shown.text
    assert "Écrivez pourquoi" not in agent.get("/payment-review").text
    assert installments(web_app, first)[0][2] == "declined"
