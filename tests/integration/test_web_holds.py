"""The order page's hold section (issue 17 item 1): an agent puts an order on hold with a code and a note and
clears it (post-redirect-get, audited under the agent's name), the page words the code in the agent's
language, a refusal comes back once with its error; a payment hold offers no clearing by hand."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from jobs_support import DECLINE, START, children, enter_order, job, rows  # noqa: E402
from test_web_servicing import agent, section, web_app  # noqa: E402, F401
from web_support import AGENT, MANAGER, client_login, csrf_of, follow, web_client  # noqa: E402

from continuity.services import order_entry, payment_entry  # noqa: E402


def _hold_of(app, sales_id):  # type: ignore[no-untyped-def]
    return tuple(
        rows(app, "SELECT status, hold_code, hold_reason FROM sales_orders WHERE sales_id = :s", s=sales_id)[0]
    )


def test_an_agent_holds_and_clears_an_order_from_its_page(web_app, agent):
    parent = enter_order(web_app, "0021")
    page = agent.get(f"/orders/{parent}")
    hold = section(page.text, "hold")
    assert f'action="/orders/{parent}/hold"' in hold and "Fraud review" in hold and "payment_declined" not in hold

    token = csrf_of(page.text)
    posted = agent.post(f"/orders/{parent}/hold", data={"csrf_token": token, "code": "fraud_review", "note": "odd"})
    shown = follow(agent, posted, f"/orders/{parent}")
    assert _hold_of(web_app, parent) == ("on_hold", "fraud_review", "odd")
    hold = section(shown.text, "hold")
    assert "The order is on hold." in hold and "Fraud review" in hold and "clear-hold" in hold
    history = section(shown.text, "history")
    assert "Put on hold" in history and "odd" in history

    job(web_app, "create-child-orders", START)
    child = children(web_app, parent)[0][0]
    assert "Fraud review" in section(agent.get(f"/orders/{child}").text, "hold")

    posted = agent.post(f"/orders/{parent}/clear-hold", data={"csrf_token": token, "note": "checked with bank"})
    shown = follow(agent, posted, f"/orders/{parent}")
    assert _hold_of(web_app, parent) == ("open", "", "") and _hold_of(web_app, child)[0] == "open"
    assert "The hold is cleared" in section(shown.text, "hold")
    assert "Hold cleared" in section(shown.text, "history") and "checked with bank" in shown.text
    actors = rows(
        web_app,
        "SELECT actor, actor_kind, action FROM audit_entries WHERE sales_id = :s AND action IN ('held', 'hold_cleared') ORDER BY entry_id",
        s=parent,
    )
    assert [tuple(r) for r in actors] == [(AGENT[0], "agent", "held"), (AGENT[0], "agent", "hold_cleared")]


def test_a_refused_hold_comes_back_once_with_its_error_in_the_agents_language(web_app, agent):
    parent = enter_order(web_app, "0021")
    token = csrf_of(agent.get(f"/orders/{parent}").text)
    agent.post("/language", data={"csrf_token": token, "language": "fr", "next": f"/orders/{parent}"})
    posted = agent.post(f"/orders/{parent}/hold", data={"csrf_token": token, "code": "address_check", "note": "  "})
    shown = follow(agent, posted, f"/orders/{parent}")
    hold = section(shown.text, "hold")
    assert "Écrivez une note" in hold and "Vérification de l’adresse" in hold.replace("&#39;", "’")
    assert _hold_of(web_app, parent)[0] == "open"
    assert "Écrivez une note" not in agent.get(f"/orders/{parent}").text  # shown once


def test_a_payment_hold_is_shown_with_its_code_and_cannot_be_cleared_by_hand(web_app, agent):
    sales_id = order_entry.create_order_with_line(web_app.uow, web_app.clock, "004007", "0021")
    payment_entry.add_card_payment(web_app.uow, web_app.gateway, web_app.clock, sales_id, DECLINE, "12/30")
    payment_entry.submit(web_app.uow, web_app.gateway, web_app.clock, sales_id)
    hold = section(agent.get(f"/orders/{sales_id}").text, "hold")
    assert "Card payment declined at submit" in hold and "clear-hold" not in hold
    assert "cleared by the payments" in hold


def test_a_manager_may_hold_an_order_too(web_app):
    parent = enter_order(web_app, "0021")
    with web_client(web_app) as manager:
        assert client_login(manager, MANAGER).status_code == 303
        token = csrf_of(manager.get(f"/orders/{parent}").text)
        posted = manager.post(
            f"/orders/{parent}/hold", data={"csrf_token": token, "code": "customer_request", "note": "x"}
        )
        assert posted.status_code == 303
    assert _hold_of(web_app, parent)[:2] == ("on_hold", "customer_request")
