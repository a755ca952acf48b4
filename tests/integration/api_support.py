"""Helpers shared by the tests/integration/test_api_*.py files (not a test module itself)."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from contextlib import contextmanager

import httpx
import uvicorn

from continuity.bootstrap import App
from continuity.services.users import add_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers httpx2 for its TestClient; httpx is what we pin
    from fastapi.testclient import TestClient

from continuity.entrypoints.api.app import create_app  # noqa: E402

ROLES = ("agent", "warehouse", "manager", "admin")
API = "/api/v1"


def users_of_each_role(app: App) -> dict[str, str]:
    """One user per role; returns role → bearer token."""
    return {role: add_user(app.uow, app.clock, f"{role}-user", role)[1] for role in ROLES}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(app: App) -> TestClient:
    return TestClient(create_app(app), raise_server_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app: App):
    """The API served by uvicorn in a thread on a free port (real HTTP, real concurrency)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{API}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
