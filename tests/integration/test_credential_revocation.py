"""Revocable credentials (issue 15, item 5), SQLite and PostgreSQL: `users revoke-token`, `users disable`
and `users enable` in the CLI and the admin API; a new password or a disabled user ends that user's web
sessions and API token; a web session ends CONTINUITY_SESSION_MAX_HOURS (default 12) after its login
however active it is."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from web_support import CONTINUITY, StepClock, client_login, free_port, web_client  # noqa: E402

from continuity.adapters.orm_web import web_sessions  # noqa: E402
from continuity.adapters.web_auth_store import WebAuthStore  # noqa: E402
from continuity.config import Settings  # noqa: E402
from continuity.domain.errors import ValidationFailed  # noqa: E402
from continuity.entrypoints.cli import app as cli  # noqa: E402
from continuity.services.users import add_user  # noqa: E402
from continuity.services.web_auth import set_password  # noqa: E402

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
KIM = ("kim", "kim-pass-2026")
API = "/api/v1"


def _with_kim(app):  # type: ignore[no-untyped-def]
    """The app on a clock the test moves, with the agent KIM (web password and API token)."""
    app.clock = StepClock(app.clock, T0)
    _, token = add_user(app.uow, app.clock, KIM[0], "agent")
    set_password(WebAuthStore(app.engine), app.clock, *KIM)
    return app, token


@pytest.fixture
def kim(app):  # type: ignore[no-untyped-def]
    return _with_kim(app)


@pytest.fixture
def cli_run(monkeypatch, database_url):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONTINUITY_DATABASE_URL", database_url)

    def run(*args: str, stdin: str = ""):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), input=stdin)

    return run


def _me(client, token: str) -> int:  # type: ignore[no-untyped-def]
    return client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    page = client.get("/")
    assert page.status_code in (200, 303)
    return page.status_code == 200


def _sessions(app) -> int:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(web_sessions)).scalar_one()


# -- the CLI ---------------------------------------------------------------------------------------


def test_disable_ends_sessions_and_token_and_enable_gives_the_login_back(kim, cli_run):
    app, token = kim
    with web_client(app) as web, web_client(app) as other:
        assert client_login(web, KIM).status_code == 303 and _logged_in(web) and _me(web, token) == 200
        done = cli_run("users", "disable", KIM[0], "--json")
        assert done.exit_code == 0, done.output
        assert json.loads(done.output) == {"name": KIM[0], "disabled": True}
        assert not _logged_in(web) and _sessions(app) == 0
        assert _me(web, token) == 401
        assert client_login(other, KIM).status_code == 401  # the right password, refused like a wrong one
        assert cli_run("users", "enable", KIM[0]).exit_code == 0
        assert client_login(other, KIM).status_code == 303
        assert _me(other, token) == 401  # enabling does not bring the revoked token back
        new = cli_run("users", "revoke-token", KIM[0], "--new", "--json")
        assert new.exit_code == 0, new.output
        assert _me(other, json.loads(new.output)["token"]) == 200


def test_revoke_token_stops_the_token_at_once_and_new_prints_its_replacement(kim, cli_run):
    app, token = kim
    with web_client(app) as web:
        assert client_login(web, KIM).status_code == 303
        done = cli_run("users", "revoke-token", KIM[0])
        assert done.exit_code == 0 and "revoked" in done.output
        assert _me(web, token) == 401
        assert _logged_in(web)  # a token is not a web session
        new = json.loads(cli_run("users", "revoke-token", KIM[0], "--new", "--json").output)["token"]
        assert new.startswith("ct_") and new != token and _me(web, new) == 200
        assert _me(web, token) == 401
    unknown = cli_run("users", "disable", "nobody")
    assert unknown.exit_code == 1 and "no user named 'nobody'" in unknown.output


def test_a_new_password_ends_the_users_sessions_and_token(kim, cli_run):
    app, token = kim
    with web_client(app) as web, web_client(app) as other:
        assert client_login(web, KIM).status_code == 303 and _me(web, token) == 200
        done = cli_run("users", "set-password", KIM[0], "--password-stdin", "--json", stdin="kim-new-pass-1\n")
        assert done.exit_code == 0, done.output
        assert not _logged_in(web) and _sessions(app) == 0
        assert _me(web, token) == 401
        assert json.loads(done.output)["token_revoked"] is True
        assert client_login(other, (KIM[0], "kim-new-pass-1")).status_code == 303
        first = cli_run("users", "add", "lee", "--role", "agent", "--password-stdin", "--json", stdin="lee-pass-2026\n")
        assert _me(other, json.loads(first.output)["token"]) == 200  # a first password ends nothing


# -- the admin API ---------------------------------------------------------------------------------


def test_an_admin_revokes_disables_and_enables_through_the_api(kim):
    app, token = kim
    _, admin = add_user(app.uow, app.clock, "root", "admin")
    as_admin = {"Authorization": f"Bearer {admin}"}
    with web_client(app) as c:
        assert client_login(c, KIM).status_code == 303
        disabled = c.post(f"{API}/users/{KIM[0]}/disable", headers=as_admin)
        assert disabled.status_code == 200, disabled.text
        assert disabled.json() == {"name": KIM[0], "role": "agent", "disabled": True, "has_token": False}
        assert _me(c, token) == 401 and not _logged_in(c)
        enabled = c.post(f"{API}/users/{KIM[0]}/enable", headers=as_admin)
        assert enabled.status_code == 200 and enabled.json()["disabled"] is False
        renewed = c.post(f"{API}/users/{KIM[0]}/revoke-token", headers=as_admin, json={"new_token": True})
        assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
        new = renewed.json()["token"]
        assert _me(c, new) == 200 and _me(c, token) == 401
        revoked = c.post(f"{API}/users/{KIM[0]}/revoke-token", headers=as_admin)
        assert revoked.status_code == 200 and revoked.json()["token"] is None and _me(c, new) == 401
        listed = {u["name"]: u for u in c.get(f"{API}/users", headers=as_admin).json()}
        assert listed[KIM[0]]["has_token"] is False and listed["root"]["disabled"] is False
        unknown = c.post(f"{API}/users/nobody/disable", headers=as_admin)
        assert unknown.status_code == 404 and unknown.json()["code"] == "user_not_found"
        for action, body in (("disable", None), ("revoke-token", {"new_token": False})):
            own = c.post(f"{API}/users/root/{action}", headers=as_admin, json=body)
            assert own.status_code == 409 and own.json()["code"] == "self_lockout"
        assert _me(c, admin) == 200


# -- the absolute session lifetime -----------------------------------------------------------------


def _active_until(client, clock, end: timedelta) -> None:  # type: ignore[no-untyped-def]
    """A request every 25 minutes (never idle) from T0 up to T0 + end."""
    step = timedelta(minutes=25)
    while clock.at + step <= T0 + end:
        clock.at += step
        assert _logged_in(client), f"logged out at {clock.at - T0}"


def test_a_session_ends_12_hours_after_its_login_however_active(kim):
    app, _ = kim
    with web_client(app) as web:
        assert client_login(web, KIM).status_code == 303
        _active_until(web, app.clock, timedelta(hours=11, minutes=59))
        app.clock.at = T0 + timedelta(hours=12, minutes=1)
        page = web.get("/")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert _sessions(app) == 0


def test_the_session_lifetime_is_the_setting(make_app):
    app, _ = _with_kim(make_app(session_max_hours=2))
    with web_client(app) as web:
        assert client_login(web, KIM).status_code == 303
        _active_until(web, app.clock, timedelta(hours=1, minutes=59))
        app.clock.at = T0 + timedelta(hours=2, minutes=1)
        assert not _logged_in(web)


def test_the_session_lifetime_setting_is_read_and_checked(monkeypatch):
    monkeypatch.delenv("CONTINUITY_SESSION_MAX_HOURS", raising=False)
    assert Settings.from_env().session_max_hours == 12
    monkeypatch.setenv("CONTINUITY_SESSION_MAX_HOURS", " 3 ")
    assert Settings.from_env().session_max_hours == 3
    for bad in ("0", "-1", "12h", "1.5", "٣", "8761", "99999999999999999999"):
        monkeypatch.setenv("CONTINUITY_SESSION_MAX_HOURS", bad)
        with pytest.raises(ValidationFailed) as refused:
            Settings.from_env()
        assert refused.value.code == "setting_invalid"
        assert "CONTINUITY_SESSION_MAX_HOURS must be a whole number of hours from 1 to 8760" in refused.value.message


def test_a_bad_session_lifetime_stops_the_cli_and_serve_with_one_line(monkeypatch, tmp_path):
    env = {"CONTINUITY_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CONTINUITY_SESSION_MAX_HOURS": "twelve"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    done = CliRunner().invoke(cli, ["users", "add", "zed", "--role", "agent"])
    assert done.exit_code == 1 and "CONTINUITY_SESSION_MAX_HOURS" in done.output
    import os

    served = subprocess.run(
        [str(CONTINUITY), "serve", "--port", str(free_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (served.stdout + served.stderr).strip()
    assert served.returncode == 1 and "Traceback" not in output
    assert len(output.splitlines()) == 1 and "CONTINUITY_SESSION_MAX_HOURS" in output, output
