"""`continuity serve` (a real uvicorn) takes X-Forwarded-Proto from nobody unless
CONTINUITY_TRUST_FORWARDED_PROTO is on: uvicorn's own proxy_headers (on by default, trusting 127.0.0.1)
would otherwise let any local client claim https (and send HSTS) or another client address."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager

import httpx
import pytest
from web_support import CONTINUITY, free_port, prepare_demo_database

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


@contextmanager
def served(tmp_path, **env: str):  # type: ignore[no-untyped-def]
    database = tmp_path / "serve.db"
    if not database.exists():
        prepare_demo_database(f"sqlite:///{database}")
    port = free_port()
    process = subprocess.Popen(
        [str(CONTINUITY), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "CONTINUITY_DATABASE_URL": f"sqlite:///{database}", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(15)


@pytest.mark.parametrize("trust, hsts", [("", False), ("off", False), ("on", True)])
def test_a_forwarded_proto_from_localhost_counts_only_when_trusted(tmp_path, trust, hsts):
    with served(tmp_path, CONTINUITY_TRUST_FORWARDED_PROTO=trust) as url:
        forwarded = httpx.get(f"{url}/api/v1/health", headers=FORWARDED)
        plain = httpx.get(f"{url}/login")
    assert forwarded.status_code == 200 and plain.status_code == 200
    assert ("strict-transport-security" in forwarded.headers) is hsts
    assert "strict-transport-security" not in plain.headers
