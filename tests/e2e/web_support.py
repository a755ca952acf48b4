"""Support for the web UI tests (both web helpers use it).

- ``web_server`` (module scope): `continuity serve` as a subprocess on a free port, over a fresh SQLite
  file holding the demo data (business date TODAY) and the web users AGENT and MANAGER.
- ``browser`` (module scope) / ``page``: Chromium as ``chromium_path`` finds it (Debian's /usr/bin/chromium here)
  through Playwright, viewport 1280×800; ``login(page, server, user)``; ``screenshot(page, name)`` saves
  test-artifacts/screenshots/<name>.png.
- ``web_client(app)`` / ``client_login(client, user)``: a FastAPI TestClient on an App, for
  integration tests (tests/integration imports this module by path).

Demo logins (also printed by the fixture): agent / agent-pass-2026, manager / manager-pass-2026.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest

from continuity.adapters.clock import FixedClock
from continuity.adapters.migrate import upgrade
from continuity.adapters.web_auth_store import WebAuthStore
from continuity.bootstrap import App, bootstrap
from continuity.config import Settings
from continuity.services.demo import load_demo
from continuity.services.users import add_user
from continuity.services.web_auth import set_password

REPO = Path(__file__).resolve().parents[2]
CONTINUITY = Path(sys.executable).with_name("continuity")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def chromium_path() -> str | None:
    """CONTINUITY_CHROMIUM, else `chromium` on the PATH (Debian's /usr/bin/chromium), else None: Playwright's own
    browser, which `make test` installs where no Chromium can be (scripts/ensure-chromium.sh)."""
    return os.environ.get("CONTINUITY_CHROMIUM") or shutil.which("chromium")


TODAY = date(2026, 11, 23)
AGENT = ("agent", "agent-pass-2026")
MANAGER = ("manager", "manager-pass-2026")
VIEWPORT = {"width": 1280, "height": 800}


class StepClock:
    """The app's clock standing still at ``at`` (its business day the inner clock's) until the test moves it."""

    def __init__(self, clock, at: datetime) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.at = clock, at

    def today(self):  # type: ignore[no-untyped-def]
        return self.inner.today()

    def now(self) -> datetime:
        return self.at


def add_web_users(app: App) -> None:
    """The demo web users: AGENT (role agent) and MANAGER (role manager) with their passwords."""
    store = WebAuthStore(app.engine)
    for (name, password), role in ((AGENT, "agent"), (MANAGER, "manager")):
        add_user(app.uow, app.clock, name, role)
        set_password(store, app.clock, name, password)


def prepare_demo_database(url: str, today: date = TODAY) -> None:
    app = bootstrap(Settings(url, None, None), clock=FixedClock(today))
    try:
        upgrade(app.engine)
        load_demo(app.uow, today)
        add_web_users(app)
    finally:
        app.engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class WebServer:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    database: Path
    output: Path  # the server's stdout and stderr (uvicorn's access log)
    log_file: Path  # the application log (CONTINUITY_LOG_FILE)
    process: subprocess.Popen  # type: ignore[type-arg]

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(folder: Path, today: date = TODAY) -> WebServer:
    database = folder / "web.db"
    prepare_demo_database(f"sqlite:///{database}", today)
    port = free_port()
    output, log_file = folder / "server-output.txt", folder / "app.log"
    env = {
        **os.environ,
        "CONTINUITY_DATABASE_URL": f"sqlite:///{database}",
        "CONTINUITY_TODAY": today.isoformat(),
        "CONTINUITY_LOG_FILE": str(log_file),
    }
    with output.open("w") as out:
        process = subprocess.Popen(
            [str(CONTINUITY), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    server = WebServer(f"http://127.0.0.1:{port}", database, output, log_file, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {output.read_text()}")
        try:
            if httpx.get(f"{server.url}/api/v1/health", timeout=1).status_code == 200:
                print(f"web server at {server.url}; logins {AGENT[0]}/{AGENT[1]}, {MANAGER[0]}/{MANAGER[1]}")
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError("the web server did not answer within 30 s")


@pytest.fixture(scope="module")
def web_server(tmp_path_factory) -> Iterator[WebServer]:
    server = start_server(tmp_path_factory.mktemp("web"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is not None and not Path(path).exists():
        pytest.fail(f"Chromium is not installed at {path} (CONTINUITY_CHROMIUM)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--headless", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def login(page, server: WebServer, user: tuple[str, str] = AGENT) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/login")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.press("#password", "Enter")
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def screenshot(page, name: str, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# -- TestClient (integration tests) -------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_client(app: App, base_url: str = "http://testserver"):  # type: ignore[no-untyped-def]
    """A TestClient on the full FastAPI app (API + web UI) of ``app``; redirects are not followed."""
    from fastapi.testclient import TestClient

    from continuity.entrypoints.api.app import create_app

    return TestClient(create_app(app), base_url=base_url, follow_redirects=False)


def follow(client, response, to: str | None = None):  # type: ignore[no-untyped-def]
    """Post-redirect-get (issue 18 item 8): a POST answers 303; the page it leads to (``to``: its path,
    when given, must be the Location's), read with a GET as the browser does."""
    assert response.status_code == 303, (response.status_code, response.text[:500])
    location = response.headers["location"]
    assert to is None or location.split("?")[0] == to, (location, to)
    return client.get(location)


def flash_cookie(client) -> str:  # type: ignore[no-untyped-def]
    """The flash the last POST left, decoded to text ("" when none): what the next page shows once."""
    import base64
    import zlib

    raw = client.cookies.get("continuity_flash")
    if not raw:
        return ""
    body = raw.strip('"').rpartition(".")[0]
    return zlib.decompress(base64.urlsafe_b64decode(body.encode())).decode()


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def client_login(client, user: tuple[str, str] = AGENT):  # type: ignore[no-untyped-def]
    """Log in through the form; returns the response (303 on success). The client keeps the cookie."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": user[0], "password": user[1], "csrf_token": token, "next": "/"})
