"""One authorization per payment under any concurrency (issue 15, item 1), and payments capped at what is
due (item 2): 20 parallel submits over real HTTP, with and without Idempotency-Keys, on SQLite and
PostgreSQL; the gateway's own ledger is the judge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

import httpx
import pytest
from api_support import API, bearer, client, live_server, users_of_each_role
from sqlalchemy import text

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.demo import load_demo

TODAY = date(2026, 11, 23)
KAREN = "004007"
PARALLEL = 20


@pytest.fixture
def setup(database_url):
    app = bootstrap(Settings(database_url, None, None), clock=FixedClock(TODAY))
    load_demo(app.uow, TODAY)
    tokens = users_of_each_role(app)
    yield app, bearer(tokens["agent"])
    app.engine.dispose()


def _authorizations(app) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT card_token, amount_minor FROM test_gateway_ledger WHERE operation = 'authorize'")
            )
        ]


def _draft_order(c, agent: dict, item: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A saved card and a draft order for ``item``: (sales_id, card token)."""
    card = c.post(
        f"{API}/cards", headers=agent, json={"customer": KAREN, "card_number": "4111111111111111", "expiry": "12/30"}
    ).json()
    sales_id = c.post(
        f"{API}/sales-orders", headers=agent, json={"customer": KAREN, "lines": [{"item_id": item}]}
    ).json()["sales_id"]
    return sales_id, card["token"]


def _paid_order(c, agent: dict, item: str) -> str:  # type: ignore[no-untyped-def]
    sales_id, token = _draft_order(c, agent, item)
    paid = c.post(f"{API}/sales-orders/{sales_id}/payments", headers=agent, json={"card_token": token})
    assert paid.status_code == 201, paid.text
    return sales_id


@pytest.mark.parametrize("with_keys", [False, True], ids=["no-keys", "distinct-keys"])
@pytest.mark.parametrize("item", ["0013", "0021"], ids=["one-book", "installments"])
def test_parallel_submits_authorize_each_payment_once(setup, with_keys, item):
    app, agent = setup
    with client(app) as c:
        sales_id = _paid_order(c, agent, item)
        due = c.get(f"{API}/sales-orders/{sales_id}", headers=agent).json()["amount_due_now"]
    barrier = Barrier(PARALLEL)
    with live_server(app) as url:

        def submit(n: int) -> httpx.Response:
            headers = {**agent, **({"Idempotency-Key": f"submit-{n}"} if with_keys else {})}
            barrier.wait()
            return httpx.post(f"{url}{API}/sales-orders/{sales_id}/submit", headers=headers, timeout=60)

        with ThreadPoolExecutor(PARALLEL) as pool:
            answers = list(pool.map(submit, range(PARALLEL)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 1, [(r.status_code, r.text[:200]) for r in answers]
    refused = [r.json()["code"] for r in answers if r.status_code != 200]
    assert set(refused) <= {"submit_in_progress", "order_not_editable"} and len(refused) == PARALLEL - 1
    ledger = _authorizations(app)
    assert len(ledger) == 1, ledger
    assert ledger[0][1] == round(float(due) * 100)
    with client(app) as c:
        assert c.get(f"{API}/sales-orders/{sales_id}", headers=agent).json()["status"] == "open"


def test_a_payment_above_what_is_due_is_refused(setup):
    app, agent = setup
    with client(app) as c:
        sales_id, token = _draft_order(c, agent, "0013")
        too_much = c.post(
            f"{API}/sales-orders/{sales_id}/payments", headers=agent, json={"card_token": token, "amount": "99999.99"}
        )
        assert too_much.status_code == 422 and too_much.json()["code"] == "payment_exceeds_due"
        order = c.get(f"{API}/sales-orders/{sales_id}", headers=agent).json()
        assert order["payments"] == []


def test_a_new_payment_replaces_the_one_not_yet_submitted_so_submit_authorizes_once(setup):
    app, agent = setup
    with client(app) as c:
        sales_id, token = _draft_order(c, agent, "0013")
        for amount in ("1.00", None, None):
            body = {"card_token": token, **({"amount": amount} if amount else {})}
            assert c.post(f"{API}/sales-orders/{sales_id}/payments", headers=agent, json=body).status_code == 201
        assert c.post(f"{API}/sales-orders/{sales_id}/submit", headers=agent).status_code == 200
        order = c.get(f"{API}/sales-orders/{sales_id}", headers=agent).json()
    statuses = [p["status"] for p in order["payments"]]
    assert statuses == ["cancelled", "cancelled", "authorized"]
    assert _authorizations(app) == [(token, 1495)]
