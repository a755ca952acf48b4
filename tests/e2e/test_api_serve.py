"""The JSON API end to end against a real `continuity serve` process on a free port (SQLite file and
PostgreSQL): a manager defines a three-event program and its parent product; an agent finds Karen,
orders the parent item, tokenizes 4111111111111111, pays and submits; the manager runs
process-payments and create-child-orders; the agent sees the child order in the continuity order.
Then card numbers are sent where they do not belong, and the database, the server's output and the
application log are scanned: no card number anywhere (RELIABILITY-REFERENCE S1/S2)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import inspect, text

from continuity.adapters.db import make_engine

CONTINUITY = Path(sys.executable).with_name("continuity")
TODAY = "2026-11-23"
PAN = "4111111111111111"
STRAY_PAN = "5555555555554444"  # sent only where card numbers do not belong
PANS = [PAN, STRAY_PAN]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`continuity serve` as a subprocess; its stdout/stderr go to a file."""

    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.output = output.open("w")
        self.process = subprocess.Popen(
            [str(CONTINUITY), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited: {output.read_text()}"
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the server did not answer within 30 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.output.close()


def _cli(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([str(CONTINUITY), *args, "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def test_the_seed_story_through_a_running_api_server_leaves_no_card_number_anywhere(database_url, tmp_path):
    log_file, server_output = tmp_path / "continuity.log", tmp_path / "server.out"
    env = {
        **os.environ,
        "CONTINUITY_DATABASE_URL": database_url,
        "CONTINUITY_LOG_FILE": str(log_file),
        "CONTINUITY_TODAY": TODAY,
    }
    _cli(env, "demo", "load")
    tokens = {role: _cli(env, "users", "add", f"{role}-1", "--role", role)["token"] for role in ("agent", "manager")}
    server = Server(env, server_output)
    try:
        agent = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens['agent']}"}, timeout=30)
        manager = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {tokens['manager']}"}, timeout=30
        )
        sales_id, child = _story(agent, manager)
        _stray_card_numbers(agent, manager, sales_id)
        agent.close()
        manager.close()
    finally:
        server.stop()

    assert child == f"{sales_id}-1-1"
    logs = {"server output": server_output.read_text(encoding="utf-8"), "log file": log_file.read_text("utf-8")}
    assert "POST /api/v1/cards 201" in logs["log file"], "the log file got nothing: the scan would prove nothing"
    assert "/api/v1/cards" in logs["server output"]
    for where, content in logs.items():
        _assert_no_card_number(where, content)
    _assert_no_card_number("the database", _database_text(database_url))
    if database_url.startswith("sqlite"):
        _assert_no_card_number_in_files(database_url)


def _story(agent: httpx.Client, manager: httpx.Client) -> tuple[str, str]:
    for item_id, name, price in (
        ("E2E-1", "First book", "10.00"),
        ("E2E-2", "Second book", "11.00"),
        ("E2E-3", "Third book", "12.50"),
    ):
        _ok(manager.post("/products", json={"item_id": item_id, "name": name, "price": price, "currency": "EUR"}), 201)
    program = _ok(
        manager.post(
            "/programs",
            headers={"Idempotency-Key": "e2e-program"},
            json={
                "program_id": "E2E-CLUB",
                "description": "Three books, one a month",
                "order_start": "first_event",
                "bill_up_front": False,
                "days_after_order": 0,
                "active": True,
                "events": [
                    {
                        "event_id": 1,
                        "item_id": "E2E-1",
                        "quantity": 1,
                        "times_to_repeat": 1,
                        "interval": "1 month",
                        "action": "normal",
                    },
                    {
                        "event_id": 2,
                        "item_id": "E2E-2",
                        "quantity": 1,
                        "times_to_repeat": 1,
                        "interval": "1 month",
                        "action": "normal",
                    },
                    {
                        "event_id": 3,
                        "item_id": "E2E-3",
                        "quantity": 1,
                        "times_to_repeat": 1,
                        "interval": "1 month",
                        "action": "end",
                    },
                ],
            },
        ),
        201,
    )
    assert [e["event_id"] for e in program["events"]] == [1, 2, 3]
    _ok(
        manager.post(
            "/products",
            json={
                "item_id": "E2E-PARENT",
                "name": "E2E book club",
                "price": "0.00",
                "continuity_program_id": "E2E-CLUB",
            },
        ),
        201,
    )

    found = _ok(agent.get("/customers", params={"q": "Karen"}))["items"]
    assert [(c["account"], c["name"]) for c in found] == [("004007", "Karen Berg")]
    account = found[0]["account"]
    order = _ok(
        agent.post(
            "/sales-orders",
            headers={"Idempotency-Key": "e2e-order"},
            json={
                "customer": account,
                "lines": [{"item_id": "E2E-PARENT", "quantity": 1}],
                "continuity": {"start_date": TODAY},
            },
        ),
        201,
    )
    sales_id = order["sales_id"]
    assert order["status"] == "draft" and order["is_continuity_parent"]
    schedule = order["lines"][0]["continuity"]["schedule"]
    assert [(o["seq"], o["event_id"], o["item_id"], o["ship_date"]) for o in schedule] == [
        (1, 1, "E2E-1", "2026-11-23"),
        (2, 2, "E2E-2", "2026-12-23"),
        (3, 3, "E2E-3", "2027-01-23"),
    ]

    card = _ok(agent.post("/cards", json={"customer": account, "card_number": PAN, "expiry": "12/30"}), 201)
    assert card["last4"] == "1111" and card["brand"] == "visa" and set(card) == {"token", "brand", "last4", "expiry"}
    paid = _ok(
        agent.post(f"/sales-orders/{sales_id}/payments", json={"method": "card", "card_token": card["token"]}), 201
    )
    assert [p["status"] for p in paid["payments"]] == ["not_submitted"]
    submitted = _ok(agent.post(f"/sales-orders/{sales_id}/submit", headers={"Idempotency-Key": "e2e-submit"}))
    assert submitted["status"] == "open" and [p["status"] for p in submitted["payments"]] == ["authorized"]

    payments = _ok(manager.post("/jobs/process-payments", json={"as_of": TODAY, "item_id": "E2E-PARENT"}), 201)
    children = _ok(manager.post("/jobs/create-child-orders", json={"as_of": TODAY, "item_id": "E2E-PARENT"}), 201)
    assert payments["status"] == children["status"] == "succeeded"
    assert children["counts"]["created"] == 1
    runs = _ok(manager.get("/job-runs", params={"limit": 2}))["items"]
    assert [r["run_id"] for r in runs] == [children["run_id"], payments["run_id"]]

    continuity = _ok(agent.get(f"/continuity-orders/{sales_id}"))
    [line] = continuity["lines"]
    first, *rest = line["schedule"]
    assert first["status"] == "child_created" and first["child_sales_id"] and first["child_status"] == "open"
    assert [o["status"] for o in rest] == ["pending", "pending"]
    listed = _ok(agent.get("/sales-orders", params={"parent": sales_id}))["items"]
    assert [(o["sales_id"], o["parent_sales_id"], o["lines"][0]["item_id"]) for o in listed] == [
        (first["child_sales_id"], sales_id, "E2E-1")
    ]
    return sales_id, first["child_sales_id"]


def _stray_card_numbers(agent: httpx.Client, manager: httpx.Client, sales_id: str) -> None:
    """S2: a card number (and a CVV) posted to write endpoints that take none is refused and not echoed."""
    for client_, method, path in [
        (agent, "POST", "/customers"),
        (agent, "POST", "/sales-orders"),
        (agent, "POST", f"/sales-orders/{sales_id}/payments"),
        (agent, "POST", f"/sales-orders/{sales_id}/submit"),
        (manager, "POST", "/products"),
        (manager, "POST", "/programs"),
        (manager, "PUT", "/parameters/continuity"),
        (manager, "POST", "/jobs/close-orders"),
    ]:
        response = client_.request(method, path, json={"card_number": STRAY_PAN, "cvv": "737"})
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert STRAY_PAN not in response.text
    bad = agent.post("/cards", json={"customer": "004007", "card_number": STRAY_PAN[:-1] + "5", "expiry": "12/30"})
    assert bad.status_code == 422 and STRAY_PAN[:-1] not in bad.text


def _database_text(url: str) -> str:
    """Every row of every table as text (plus pg_dump's output on PostgreSQL when it is installed)."""
    engine = make_engine(url)
    parts = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            parts.append(table)
            parts += [" | ".join(map(str, row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    engine.dispose()
    dump = shutil.which("pg_dump")
    if url.startswith("postgresql") and dump:
        done = subprocess.run(
            [dump, "--no-owner", url.replace("postgresql+psycopg://", "postgresql://")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode == 0:  # a pg_dump older than the server refuses; the row scan still counts
            parts.append(done.stdout)
    content = "\n".join(parts)
    assert "Karen Berg" in content and "E2E-CLUB" in content, "the scan does not see the data"
    return content


def _assert_no_card_number_in_files(url: str) -> None:
    """The SQLite files byte for byte (free pages, WAL): no card number in any encoding."""
    db = Path(url.removeprefix("sqlite:///"))
    files = [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
    assert db in files
    for path in files:
        content = path.read_bytes()
        for pan in PANS:
            for encoding in ("ascii", "utf-16-le", "utf-16-be"):
                assert pan.encode(encoding) not in content, f"a card number ({encoding}) is in {path.name}"


def _assert_no_card_number(where: str, content: str) -> None:
    for pan in PANS:
        for form in (pan, " ".join(re.findall("....", pan)), "-".join(re.findall("....", pan))):
            assert form not in content, f"a card number ({form}) is in {where}"
    runs = [m for m in re.findall(r"(?<!\d)\d{13,19}(?!\d)", content) if _luhn(m)]
    assert runs == [], f"Luhn-valid digit runs in {where}: {runs[:5]}"


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0
