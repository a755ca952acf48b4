"""Issue 11 item 11: a card that will be expired when the next child order it pays for is made (and so
skipped by create-child-orders) is told to the customer card_expiry_notice_days ahead, once per line and
card, and listed in the agents' worklist on the customer-service home page until the card is replaced."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from jobs_support import APPROVE, START, enter_order, job, nightly, rows, set_up, use_card  # noqa: E402
from web_support import add_web_users, client_login, web_client  # noqa: E402

from continuity.services import card_expiry  # noqa: E402

DECEMBER = date(2026, 12, 23)
#: occurrence 3 ships 2027-01-26; its child order is made on 01-21 (delivery_lead_days 5), after 12/26 ran out
NOTICE_DAY = date(2027, 1, 7)  # 01-21 - card_expiry_notice_days 14


def _notices(app, parent: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        json.loads(p)
        for (p,) in rows(
            app, "SELECT payload FROM notifications WHERE sales_id = :p AND kind = 'card_expiring'", p=parent
        )
    ]


def _worklist(app, day: date) -> list[str]:  # type: ignore[no-untyped-def]
    with app.uow() as uow:
        params = uow.setup.parameters()
    return [e.sales_id for e in card_expiry.expiring_cards(app.card_expiry_reads(), day, params)]


def _expiring_order(app) -> str:  # type: ignore[no-untyped-def]
    parent = enter_order(app, "88000", expiry="12/26")  # valid at order entry, expired from January 2027
    nightly(app, START)
    nightly(app, DECEMBER)  # children of occurrences 1 and 2 made; occurrence 3 is next
    return parent


def test_the_customer_is_told_ahead_once_and_the_agents_see_it_until_the_card_is_replaced(demo_app):
    app = demo_app
    parent = _expiring_order(app)
    assert _notices(app, parent) == [] and _worklist(app, DECEMBER) == []

    assert job(app, "create-child-orders", date(2027, 1, 6))["counts"]["card_expiry_notices"] == 0  # too early
    assert job(app, "create-child-orders", NOTICE_DAY)["counts"]["card_expiry_notices"] == 1
    assert job(app, "create-child-orders", NOTICE_DAY)["counts"]["card_expiry_notices"] == 0  # a re-run
    assert job(app, "create-child-orders", date(2027, 1, 8))["counts"]["card_expiry_notices"] == 0  # next night
    assert _notices(app, parent) == [{"last4": "1111", "expiry": "12/26", "ship_date": "2027-01-26"}]
    assert _worklist(app, NOTICE_DAY) == [parent]

    use_card(app, parent, APPROVE, "12/30")
    assert _worklist(app, NOTICE_DAY) == []
    assert job(app, "create-child-orders", date(2027, 1, 9))["counts"]["card_expiry_notices"] == 0


def test_the_notice_lead_is_a_parameter(demo_app):
    app = demo_app
    parent = _expiring_order(app)
    set_up(app, {"parameters": {"card_expiry_notice_days": 30}})
    assert job(app, "create-child-orders", DECEMBER)["counts"]["card_expiry_notices"] == 1  # 01-21 - 30 days
    assert len(_notices(app, parent)) == 1


def test_a_card_valid_on_the_day_its_next_child_order_is_made_is_not_listed(demo_app):
    app = demo_app
    enter_order(app, "88000", expiry="01/27")  # still valid on 01-21, when occurrence 3's child order is made
    nightly(app, START)
    nightly(app, DECEMBER)
    assert job(app, "create-child-orders", NOTICE_DAY)["counts"]["card_expiry_notices"] == 0
    assert _worklist(app, NOTICE_DAY) == []


def test_the_agents_home_page_lists_the_orders_whose_card_to_update(demo_app):
    app = demo_app
    parent = _expiring_order(app)
    add_web_users(app)
    app.clock.day = NOTICE_DAY
    with web_client(app) as agent:
        assert client_login(agent).status_code == 303
        home = agent.get("/").text
    assert "Cards to update before the next shipment" in home
    assert f'<a href="/orders/{parent}">{parent}</a>' in home and "12/26" in home
