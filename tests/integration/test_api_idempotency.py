"""The Idempotency-Key contract (RELIABILITY-REFERENCE R4): a retry with the same key and body gets the
first response and causes no second effect; the same key with another body is refused (422); concurrent
duplicates make exactly one order (the others get 409 or the replay); a response is kept for 24 hours."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from threading import Barrier

import httpx
import pytest
from api_support import API, bearer, client, live_server, users_of_each_role
from sqlalchemy import text

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.services.demo import load_demo
from continuity.services.idempotency import request_hash

TODAY = date(2026, 11, 23)
#: the same BOOKCLUB order each time: the caller wants another one (else the second is a 409 duplicate)
ORDER = {"customer": "004007", "lines": [{"item_id": "88000"}], "confirm_duplicate": True}


class MovableClock(FixedClock):
    """The business date stays put; the instant (used for key ages) can be moved forward."""

    def __init__(self, day: date) -> None:
        super().__init__(day)
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def setup(database_url):
    clock = MovableClock(TODAY)
    app = bootstrap(Settings(database_url, None, None), clock=clock)
    load_demo(app.uow, TODAY)
    tokens = users_of_each_role(app)
    yield app, clock, tokens
    app.engine.dispose()


def _count(app, sql: str) -> int:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def _orders(app) -> int:  # type: ignore[no-untyped-def]
    return _count(app, "SELECT count(*) FROM sales_orders")


def test_a_retry_with_the_same_key_and_body_replays_the_first_response_and_creates_one_order(setup):
    app, _, tokens = setup
    headers = {**bearer(tokens["agent"]), "Idempotency-Key": "order-1"}
    with client(app) as c:
        first = c.post(f"{API}/sales-orders", headers=headers, json=ORDER)
        again = c.post(f"{API}/sales-orders", headers=headers, json=ORDER)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert _orders(app) == 1


def test_a_replayed_payment_and_submit_charge_the_card_once(setup):
    app, _, tokens = setup
    agent = bearer(tokens["agent"])
    with client(app) as c:
        card = c.post(
            f"{API}/cards",
            headers=agent,
            json={"customer": "004007", "card_number": "4111111111111111", "expiry": "12/30"},
        ).json()
        sales_id = c.post(
            f"{API}/sales-orders", headers=agent, json={"customer": "004007", "lines": [{"item_id": "0021"}]}
        ).json()["sales_id"]
        for _ in range(2):
            paid = c.post(
                f"{API}/sales-orders/{sales_id}/payments",
                headers={**agent, "Idempotency-Key": "pay-1"},
                json={"card_token": card["token"]},
            )
            submitted = c.post(f"{API}/sales-orders/{sales_id}/submit", headers={**agent, "Idempotency-Key": "sub-1"})
            assert paid.status_code == 201 and submitted.status_code == 200
            assert submitted.json()["status"] == "open"
    assert _count(app, "SELECT count(*) FROM payments") == 1
    assert _count(app, "SELECT count(*) FROM payment_attempts") == 1
    assert _count(app, "SELECT count(*) FROM test_gateway_ledger") == 1


def test_the_same_key_with_a_different_body_is_refused_and_changes_nothing(setup):
    app, _, tokens = setup
    headers = {**bearer(tokens["agent"]), "Idempotency-Key": "order-2"}
    with client(app) as c:
        assert c.post(f"{API}/sales-orders", headers=headers, json=ORDER).status_code == 201
        other = c.post(
            f"{API}/sales-orders", headers=headers, json={"customer": "004007", "lines": [{"item_id": "0013"}]}
        )
        elsewhere = c.post(f"{API}/customers", headers=headers, json={"account": "X1", "name": "X"})
    assert other.status_code == elsewhere.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == elsewhere.json()["code"] == "idempotency_key_reused"
    assert _orders(app) == 1
    assert _count(app, "SELECT count(*) FROM customers WHERE account = 'X1'") == 0


def test_keys_belong_to_their_user(setup):
    app, _, tokens = setup
    with client(app) as c:
        for role in ("agent", "manager"):
            response = c.post(
                f"{API}/sales-orders", headers={**bearer(tokens[role]), "Idempotency-Key": "shared"}, json=ORDER
            )
            assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert _orders(app) == 2


def test_concurrent_duplicates_make_exactly_one_order(setup):
    app, _, tokens = setup
    headers = {**bearer(tokens["agent"]), "Idempotency-Key": "burst-1"}
    requests = 20
    barrier = Barrier(requests)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as http:

        def post(_: int) -> httpx.Response:
            barrier.wait()
            return http.post(f"{API}/sales-orders", headers=headers, json=ORDER)

        with ThreadPoolExecutor(requests) as pool:
            responses = list(pool.map(post, range(requests)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["sales_id"] for r in created}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in created) == 1  # one ran, the rest replayed
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["code"] == "idempotency_key_in_use" and refused.headers["retry-after"] == "1"
    assert _orders(app) == 1


def test_a_response_is_replayed_for_24_hours_and_the_key_runs_afresh_after(setup):
    app, clock, tokens = setup
    headers = {**bearer(tokens["agent"]), "Idempotency-Key": "order-3"}
    with client(app) as c:
        first = c.post(f"{API}/sales-orders", headers=headers, json=ORDER)
        clock.shift = timedelta(hours=23)
        replay = c.post(f"{API}/sales-orders", headers=headers, json=ORDER)
        clock.shift = timedelta(hours=25)
        fresh = c.post(f"{API}/sales-orders", headers=headers, json=ORDER)
    assert replay.content == first.content and replay.headers["idempotent-replayed"] == "true"
    assert fresh.status_code == 201 and "idempotent-replayed" not in fresh.headers
    assert fresh.json()["sales_id"] != first.json()["sales_id"]
    assert _orders(app) == 2


def test_a_request_left_running_by_a_dead_process_frees_its_key_after_the_lease(setup):
    app, clock, tokens = setup
    token, raw = tokens["agent"], json.dumps(ORDER).encode()
    headers = {**bearer(token), "Idempotency-Key": "order-4", "Content-Type": "application/json"}
    user_id = _count(app, "SELECT user_id FROM users WHERE role = 'agent'")
    with app.engine.begin() as conn:  # what a crash between claiming the key and answering leaves behind
        conn.execute(
            text(
                "INSERT INTO idempotency_records (user_id, idempotency_key, request_hash, method, path, "
                "status, created_at) VALUES (:u, 'order-4', :h, 'POST', :p, 'running', :t)"
            ),
            {
                "u": user_id,
                "h": request_hash(token, "POST", f"{API}/sales-orders", raw),
                "p": f"{API}/sales-orders",
                "t": datetime.now(UTC),
            },
        )
    with client(app) as c:
        busy = c.post(f"{API}/sales-orders", headers=headers, content=raw)
        clock.shift = timedelta(minutes=11)
        later = c.post(f"{API}/sales-orders", headers=headers, content=raw)
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_key_in_use"
    assert later.status_code == 201
    assert _orders(app) == 1


def test_errors_are_replayed_too_but_a_new_token_is_never_kept(setup):
    app, _, tokens = setup
    agent = {**bearer(tokens["agent"]), "Idempotency-Key": "missing-item"}
    admin = {**bearer(tokens["admin"]), "Idempotency-Key": "new-user"}
    with client(app) as c:
        missing = [
            c.post(f"{API}/sales-orders", headers=agent, json={"customer": "004007", "lines": [{"item_id": "NOPE"}]})
            for _ in range(2)
        ]
        user = c.post(f"{API}/users", headers=admin, json={"name": "zoe", "role": "agent"})
        retry = c.post(f"{API}/users", headers=admin, json={"name": "zoe", "role": "agent"})
    assert [r.status_code for r in missing] == [404, 404] and missing[1].content == missing[0].content
    assert user.status_code == 201 and user.headers["cache-control"] == "no-store"
    assert retry.status_code == 409 and retry.json()["code"] == "idempotency_response_not_stored"
    assert _count(app, "SELECT count(*) FROM users WHERE name = 'zoe'") == 1
    with app.engine.connect() as conn:
        stored = conn.execute(text("SELECT coalesce(response_body, '') FROM idempotency_records")).scalars().all()
    assert not any(user.json()["token"] in body for body in stored)


def test_an_invalid_key_is_refused(setup):
    app, _, tokens = setup
    with client(app) as c:
        response = c.post(
            f"{API}/sales-orders", headers={**bearer(tokens["agent"]), "Idempotency-Key": "x" * 256}, json=ORDER
        )
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_invalid"
    assert _orders(app) == 0
