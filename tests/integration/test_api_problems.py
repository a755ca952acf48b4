"""Errors are application/problem+json with a stable code, mapped once from the domain errors; a
validation error names the fields but never repeats what was sent; a 500 carries a logged request id
and no traceback. Lists page with limit and cursor."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from api_support import API, bearer, client, live_server, users_of_each_role

from continuity.entrypoints.api.deps import encode_cursor
from continuity.services import customers

PAN = "4111111111111111"


@pytest.fixture
def api(demo_app):
    tokens = users_of_each_role(demo_app)
    with client(demo_app) as c:
        yield c, bearer(tokens["agent"]), bearer(tokens["manager"])


def _problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "code", "request_id"} <= set(body)
    assert body["status"] == status and body["code"] == code and body["type"].endswith(code)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_domain_errors_map_to_their_status_and_code(api):
    c, agent, manager = api
    _problem(c.get(f"{API}/customers/NOPE", headers=agent), 404, "customer_not_found")
    order = c.post(f"{API}/sales-orders", headers=agent, json={"customer": "004007", "lines": [{"item_id": "88000"}]})
    sales_id = order.json()["sales_id"]
    _problem(c.post(f"{API}/sales-orders/{sales_id}/submit", headers=agent), 409, "payment_required")
    _problem(c.post(f"{API}/sales-orders/{sales_id}/release", headers=manager), 409, "not_a_child_order")
    gap = {"program_id": "GAPPY", "events": [{"event_id": 1, "item_id": "0013"}, {"event_id": 3, "item_id": "0014"}]}
    _problem(c.post(f"{API}/programs", headers=manager, json=gap), 422, "event_ids_not_sequential")
    _problem(
        c.post(f"{API}/products", headers=manager, json={"item_id": "0013", "name": "again", "price": "1.00"}),
        409,
        "product_exists",
    )
    expired = {"customer": "004007", "card_number": PAN, "expiry": "01/20"}
    _problem(c.post(f"{API}/cards", headers=agent, json=expired), 422, "card_expired")


def test_a_validation_error_lists_the_fields_without_the_values_sent(api):
    c, agent, _ = api
    bad = {"customer": "004007", "card_number": "4111 1111 1111 111X", "expiry": "13/99", "cvv": "123"}
    body = _problem(c.post(f"{API}/cards", headers=agent, json=bad), 422, "request_invalid")
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "card_number"), ("body", "expiry"), ("body", "cvv")}
    assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])
    text = c.post(f"{API}/cards", headers=agent, json=bad).text
    assert "4111" not in text and "111X" not in text and "13/99" not in text and "123" not in text

    not_luhn = _problem(
        c.post(
            f"{API}/cards",
            headers=agent,
            json={**bad, "card_number": "4111111111111112", "expiry": "12/30", "cvv": None},
        ),
        422,
        "request_invalid",
    )
    assert "4111111111111112" not in str(not_luhn)
    luhn = _problem(
        c.post(
            f"{API}/cards",
            headers=agent,
            json={"customer": "004007", "card_number": "4111111111111112", "expiry": "12/30"},
        ),
        422,
        "card_number_invalid",
    )
    assert "4111111111111112" not in str(luhn)


def test_a_card_number_sent_to_any_other_write_endpoint_is_refused_and_not_echoed(api):
    c, agent, manager = api
    for method, path in [
        ("POST", "/customers"),
        ("POST", "/sales-orders"),
        ("POST", "/products"),
        ("PUT", "/parameters/continuity"),
        ("POST", "/jobs/close-orders"),
        ("POST", "/sales-orders/SO-000001/payments"),
    ]:
        response = c.request(method, API + path, headers=manager, json={"card_number": PAN, "cvv": "123"})
        body = _problem(response, 422, "request_invalid")
        assert PAN not in response.text and "123" not in str(body["errors"]), (method, path)


def test_malformed_json_and_undecodable_bodies_are_problems_too(api):
    c, agent, _ = api
    headers = {**agent, "Content-Type": "application/json"}
    _problem(c.post(f"{API}/customers", headers=headers, content=b'{"account": '), 422, "request_invalid")
    _problem(c.post(f"{API}/customers", headers=headers, content=b"\xff\xfe\x00"), 400, "bad_request")
    _problem(c.get(f"{API}/nowhere", headers=agent), 404, "not_found")
    _problem(c.delete(f"{API}/customers", headers=agent), 405, "method_not_allowed")


def test_an_internal_error_is_a_logged_500_with_a_request_id_and_no_traceback(api, monkeypatch, caplog):
    c, agent, _ = api

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database melted")

    monkeypatch.setattr(customers, "customer", broken)
    with caplog.at_level(logging.ERROR, logger="continuity.api"):
        response = c.get(f"{API}/customers/004007", headers=agent)
    body = _problem(response, 500, "internal_error")
    assert "melted" not in response.text and "Traceback" not in response.text and "RuntimeError" not in response.text
    assert body["request_id"] in body["detail"]
    [record] = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert record.exc_info and "melted" in str(record.exc_info[1])


def test_customer_search_pages_with_limit_and_cursor(api):
    c, agent, _ = api
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = c.get(f"{API}/customers", headers=agent, params=params).json()
        seen += [(p["name"], p["account"]) for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 6 and seen == sorted(seen) and len(set(seen)) == 6
    karen = c.get(f"{API}/customers", headers=agent, params={"q": "Karen"}).json()
    assert [(k["account"], k["name"]) for k in karen["items"]] == [("004007", "Karen Berg")]
    _problem(c.get(f"{API}/customers", headers=agent, params={"cursor": "bm90LWEtY3Vyc29y"}), 422, "cursor_invalid")
    gone = encode_cursor("NO-SUCH-ACCOUNT")
    _problem(c.get(f"{API}/customers", headers=agent, params={"cursor": gone}), 422, "cursor_invalid")


def test_a_race_to_create_the_same_customer_has_one_winner_and_no_server_error(demo_app):
    tokens = users_of_each_role(demo_app)
    racers = 12
    barrier = Barrier(racers)
    with live_server(demo_app) as url, httpx.Client(base_url=url, timeout=60) as http:

        def create(i: int) -> httpx.Response:
            barrier.wait()
            return http.post(
                f"{API}/customers", headers=bearer(tokens["agent"]), json={"account": "RACE-1", "name": f"Racer {i}"}
            )

        with ThreadPoolExecutor(racers) as pool:
            responses = list(pool.map(create, range(racers)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * (racers - 1)
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"customer_exists", "concurrent_change"}
