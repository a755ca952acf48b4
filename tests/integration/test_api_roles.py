"""Role × endpoint: every operation of the OpenAPI document against no token, a wrong token and each
role — 401 without a valid token, 403 for a role the operation's role does not admit, allowed (neither)
for the others. Agents serve customers, the warehouse releases, ships and invoices child orders, a
manager may do both and more, an admin everything."""

from __future__ import annotations

import pytest
from api_support import API, ROLES, bearer, client, users_of_each_role

from continuity.services.users import add_user

#: Who may do what the role may: agents do not release, ship or invoice; the warehouse does nothing else.
ADMITS = {
    "anyone": {"agent", "warehouse", "manager", "admin"},
    "agent": {"agent", "manager", "admin"},
    "warehouse": {"warehouse", "manager", "admin"},
    "manager": {"manager", "admin"},
    "admin": {"admin"},
}
#: (method, path) → the role needed (see ADMITS); None = no token needed.
REQUIRED = {
    ("GET", "/health"): None,
    ("GET", "/me"): "anyone",
    ("GET", "/customers"): "agent",
    ("POST", "/customers"): "agent",
    ("GET", "/customers/{account}"): "agent",
    ("PUT", "/customers/{account}"): "agent",
    ("GET", "/customers/{account}/cards"): "agent",
    ("POST", "/customers/{account}/cards/{token}/default"): "agent",
    ("DELETE", "/customers/{account}/cards/{token}"): "agent",
    ("POST", "/cards"): "agent",
    ("POST", "/sales-orders"): "agent",
    ("GET", "/sales-orders"): "agent",
    ("GET", "/sales-orders/{sales_id}"): "agent",
    ("POST", "/sales-orders/{sales_id}/payments"): "agent",
    ("POST", "/sales-orders/{sales_id}/submit"): "agent",
    ("POST", "/sales-orders/{sales_id}/hold"): "agent",
    ("POST", "/sales-orders/{sales_id}/clear-hold"): "agent",
    ("GET", "/hold-codes"): "agent",
    ("GET", "/payment-review"): "agent",
    ("POST", "/payment-review/{sales_id}/installments/{line_no}/{seq}/retry"): "agent",
    ("POST", "/payment-review/{sales_id}/installments/{line_no}/{seq}/change-card"): "agent",
    ("POST", "/payment-review/{sales_id}/installments/{line_no}/{seq}/waive"): "agent",
    ("POST", "/payment-review/{sales_id}/installments/{line_no}/{seq}/settle"): "agent",
    ("POST", "/payment-review/{sales_id}/cancel"): "agent",
    ("POST", "/hold-codes"): "manager",
    ("POST", "/sales-orders/{sales_id}/release"): "warehouse",
    ("POST", "/sales-orders/{sales_id}/ship"): "warehouse",
    ("POST", "/sales-orders/{sales_id}/invoice"): "warehouse",
    ("GET", "/continuity-orders/{sales_id}"): "agent",
    ("POST", "/sales-orders/{sales_id}/returns"): "agent",
    ("GET", "/sales-orders/{sales_id}/credit-notes"): "agent",
    ("GET", "/return-reasons"): "agent",
    ("PUT", "/return-reasons/{code}"): "manager",
    ("POST", "/continuity-orders/{sales_id}/skip"): "agent",
    ("POST", "/continuity-orders/{sales_id}/reschedule"): "agent",
    ("POST", "/continuity-orders/{sales_id}/substitute"): "agent",
    ("POST", "/continuity-orders/{sales_id}/change-card"): "agent",
    ("POST", "/continuity-orders/{sales_id}/pause"): "agent",
    ("POST", "/continuity-orders/{sales_id}/resume"): "agent",
    ("POST", "/continuity-orders/{sales_id}/cancel"): "agent",
    ("GET", "/continuity-orders/{sales_id}/projection"): "agent",
    ("GET", "/continuity-orders/{sales_id}/history"): "agent",
    ("GET", "/continuity-orders/{sales_id}/occurrences/{seq}/explanation"): "agent",
    ("GET", "/programs/{program_id}/history"): "manager",
    ("GET", "/products"): "agent",  # agents read the catalog to take orders; changing it is a manager's
    ("GET", "/products/{item_id}"): "agent",
    ("POST", "/products"): "manager",
    ("PUT", "/products/{item_id}"): "manager",
    ("GET", "/programs"): "agent",
    ("GET", "/programs/{program_id}"): "agent",
    ("POST", "/programs"): "manager",
    ("PUT", "/programs/{program_id}"): "manager",
    ("GET", "/payment-schedules"): "agent",
    ("GET", "/payment-schedules/{payment_schedule_id}"): "agent",
    ("POST", "/payment-schedules"): "manager",
    ("PUT", "/payment-schedules/{payment_schedule_id}"): "manager",
    ("GET", "/parameters/continuity"): "manager",
    ("GET", "/tax-rates"): "agent",
    ("PUT", "/tax-rates"): "manager",
    ("PUT", "/programs/{program_id}/shipping-charge"): "manager",
    ("PUT", "/products/{item_id}/charges"): "manager",
    ("GET", "/quote"): "agent",
    ("PUT", "/parameters/continuity"): "manager",
    ("PATCH", "/parameters/continuity"): "manager",
    ("POST", "/jobs/{name}"): "manager",
    ("GET", "/job-runs"): "manager",
    ("GET", "/job-runs/{run_id}"): "manager",
    ("GET", "/users"): "admin",
    ("POST", "/users"): "admin",
    ("POST", "/users/{user_name}/revoke-token"): "admin",
    ("POST", "/users/{user_name}/disable"): "admin",
    ("POST", "/users/{user_name}/enable"): "admin",
}
PATH_VALUES = {
    "{account}": "004007",
    "{token}": "tok_none",
    "{sales_id}": "SO-000001",
    "{item_id}": "0013",
    "{program_id}": "TRILOGY",
    "{payment_schedule_id}": "3X",
    "{name}": "close-orders",
    "{run_id}": "1",
    "{seq}": "1",
    "{user_name}": "role-target",
    "{code}": "DAMAGED",
}
#: Well-formed bodies, so that an allowed request is judged on its merits, not refused as malformed.
BODIES = {
    ("POST", "/customers"): {"account": "ROLE-{n}", "name": "Role Test {n}"},
    ("PUT", "/customers/{account}"): {"name": "Karen Berg", "phone": "+47 22 33 44 55"},
    ("POST", "/cards"): {"customer": "004007", "card_number": "4111111111111111", "expiry": "12/30"},
    ("POST", "/sales-orders"): {"customer": "004007", "lines": [{"item_id": "0013"}]},
    ("POST", "/sales-orders/{sales_id}/payments"): {"card_token": "tok_unknown"},
    ("POST", "/sales-orders/{sales_id}/ship"): {"tracking_number": "TRACK-1"},
    ("POST", "/sales-orders/{sales_id}/returns"): {"line_no": 1, "quantity": 1, "reason_code": "DAMAGED"},
    ("PUT", "/return-reasons/{code}"): {"description": "Arrived damaged"},
    ("POST", "/products"): {"item_id": "R-{n}", "name": "Role item", "price": "1.00"},
    ("PUT", "/products/{item_id}"): {"name": "The Northern Lights", "price": "14.95"},
    ("POST", "/programs"): {"program_id": "R-{n}", "events": [{"event_id": 1, "item_id": "0013"}]},
    ("PUT", "/programs/{program_id}"): {
        "events": [{"event_id": 1, "item_id": "0013"}, {"event_id": 2, "item_id": "0014", "action": "end"}]
    },
    ("POST", "/payment-schedules"): {"payment_schedule_id": "R-{n}", "number_of_payments": 2},
    ("PUT", "/payment-schedules/{payment_schedule_id}"): {"number_of_payments": 3, "interval": "1 month"},
    ("PUT", "/parameters/continuity"): {
        "repeat_threshold": 3,
        "delivery_lead_days": 5,
        "max_child_orders_per_run": 0,
        "authorize_child_orders": False,
        "reauthorization_limit": 3,
    },
    ("PATCH", "/parameters/continuity"): {"repeat_threshold": 3},
    ("PUT", "/tax-rates"): {"tax_group": "books", "region": "DK", "rate": "25", "valid_from": "2027-01-01"},
    ("PUT", "/programs/{program_id}/shipping-charge"): {"kind": "none"},
    ("PUT", "/products/{item_id}/charges"): {"tax_group": "books"},
    ("POST", "/jobs/{name}"): {"as_of": "2026-11-23"},
    ("POST", "/continuity-orders/{sales_id}/skip"): {"seq": 1, "preview": True},
    ("POST", "/continuity-orders/{sales_id}/reschedule"): {"seq": 1, "days": 2, "preview": True},
    ("POST", "/continuity-orders/{sales_id}/substitute"): {"seq": 1, "item_id": "0013", "preview": True},
    ("POST", "/continuity-orders/{sales_id}/change-card"): {
        "card_number": "4111111111111111",
        "expiry": "12/30",
        "preview": True,
    },
    ("POST", "/continuity-orders/{sales_id}/pause"): {"preview": True},
    ("POST", "/continuity-orders/{sales_id}/resume"): {"on": "2026-12-01", "preview": True},
    ("POST", "/continuity-orders/{sales_id}/cancel"): {"preview": True},
    ("POST", "/users"): {"name": "new-{n}", "role": "agent"},
    ("POST", "/users/{user_name}/revoke-token"): {"new_token": True},
}


@pytest.fixture
def api(demo_app):
    tokens = users_of_each_role(demo_app)
    add_user(demo_app.uow, demo_app.clock, "role-target", "agent")  # revoked, disabled, enabled by the table
    with client(demo_app) as c:
        order = c.post(
            f"{API}/sales-orders",
            headers=bearer(tokens["agent"]),
            json={"customer": "004007", "lines": [{"item_id": "88000"}]},
        )
        assert order.status_code == 201 and order.json()["sales_id"] == "SO-000001"
        c.post(f"{API}/jobs/close-orders", headers=bearer(tokens["manager"]))  # job run 1
        yield c, tokens


def _call(c, method: str, path: str, headers: dict, n: int):  # type: ignore[no-untyped-def]
    url = path
    for name, value in PATH_VALUES.items():
        url = url.replace(name, value)
    body = BODIES.get((method, path))
    if body is not None:
        body = {k: (v.format(n=n) if isinstance(v, str) else v) for k, v in body.items()}
    return c.request(method, API + url, headers=headers, json=body)


def test_the_table_covers_every_operation_of_the_openapi_document(api):
    c, _ = api
    document = c.get(f"{API}/openapi.json").json()
    operations = {(m.upper(), p.removeprefix(API)) for p, ops in document["paths"].items() for m in ops}
    assert operations == set(REQUIRED)


def test_every_role_is_allowed_or_denied_exactly_as_the_table_says(api):
    c, tokens = api
    mismatches, n = [], 0
    for (method, path), needed in REQUIRED.items():
        callers = {
            "no token": {},
            "wrong token": bearer("ct_not-a-real-token"),
            "malformed": {"Authorization": "Basic x"},
            **{role: bearer(tokens[role]) for role in ROLES},
        }
        for who, headers in callers.items():
            n += 1
            status = _call(c, method, path, headers, n).status_code
            if needed is None:
                expected = "allowed"
            elif who not in ROLES:
                expected = 401
            else:
                expected = "allowed" if who in ADMITS[needed] else 403
            got = status if status in (401, 403) else "allowed"
            if got != expected or status >= 500:
                mismatches.append(f"{method} {path} as {who}: expected {expected}, got {status}")
    assert mismatches == []


def test_a_refusal_is_a_problem_document_and_401_asks_for_a_bearer_token(api):
    c, tokens = api
    missing = c.get(f"{API}/customers/004007")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "not_authenticated"
    denied = c.get(f"{API}/users", headers=bearer(tokens["manager"]))
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden" and denied.json()["status"] == 403
    assert denied.json()["request_id"] == denied.headers["x-request-id"]


def test_the_warehouse_ships_a_child_order_that_an_agent_may_not_touch(api, demo_app):
    c, tokens = api
    child = _child_order(c, tokens["agent"], tokens["manager"])
    agent, warehouse = bearer(tokens["agent"]), bearer(tokens["warehouse"])
    for step, body in (("release", None), ("ship", {"tracking_number": "T-1"}), ("invoice", None)):
        refused = c.post(f"{API}/sales-orders/{child}/{step}", headers=agent, json=body)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert "warehouse" in refused.json()["detail"]
        done = c.post(f"{API}/sales-orders/{child}/{step}", headers=warehouse, json=body)
        assert done.status_code == 200, done.text
    assert c.get(f"{API}/sales-orders/{child}", headers=agent).json()["status"] == "invoiced"
    history = c.get(f"{API}/continuity-orders/{child}/history", headers=agent).json()
    shipped = [e for e in history if e["actor"] == "warehouse-user"]
    assert shipped and {e["actor_kind"] for e in shipped} == {"warehouse"}


def _child_order(c, agent_token: str, manager_token: str) -> str:  # type: ignore[no-untyped-def]
    agent, manager = bearer(agent_token), bearer(manager_token)
    card = c.post(
        f"{API}/cards", headers=agent, json={"customer": "004007", "card_number": "4111111111111111", "expiry": "12/30"}
    ).json()
    assert (
        c.post(f"{API}/sales-orders/SO-000001/payments", headers=agent, json={"card_token": card["token"]}).status_code
        == 201
    )
    assert c.post(f"{API}/sales-orders/SO-000001/submit", headers=agent).json()["status"] == "open"
    for job in ("create-child-orders", "process-payments"):
        assert c.post(f"{API}/jobs/{job}", headers=manager, json={"as_of": "2026-11-23"}).status_code == 201
    children = c.get(f"{API}/sales-orders", headers=agent, params={"parent": "SO-000001"}).json()["items"]
    assert children, "the order's first child order was made"
    return children[0]["sales_id"]
