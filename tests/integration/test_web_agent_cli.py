"""`continuity users add --password-stdin` and `users set-password`: the web login works afterwards;
the password is never printed and only its argon2 hash is stored."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from continuity.adapters.orm_web import web_logins
from continuity.adapters.web_auth_store import WebAuthStore
from continuity.bootstrap import bootstrap
from continuity.config import Settings
from continuity.entrypoints.cli import app as cli
from continuity.services import web_auth


def _run(monkeypatch, url: str, args: list[str], stdin: str = ""):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONTINUITY_DATABASE_URL", url)
    return CliRunner().invoke(cli, args, input=stdin)


def test_users_add_with_a_password_from_stdin_can_log_in(monkeypatch, database_url):
    done = _run(
        monkeypatch,
        database_url,
        ["users", "add", "kim", "--role", "agent", "--password-stdin", "--json"],
        "kim-secret-1\n",
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["web_login"] is True and "kim-secret-1" not in done.output
    app = bootstrap(Settings(database_url, None, None))
    try:
        with app.engine.connect() as conn:
            stored = conn.execute(select(web_logins.c.password_hash)).scalar_one()
        assert stored.startswith("$argon2id$") and "kim-secret-1" not in stored
        session = web_auth.log_in(WebAuthStore(app.engine), app.clock, "kim", "kim-secret-1", None)
        assert session.session.user.name == "kim"
    finally:
        app.engine.dispose()


def test_a_too_short_password_creates_no_user(monkeypatch, database_url):
    done = _run(monkeypatch, database_url, ["users", "add", "lee", "--role", "agent", "--password-stdin"], "short\n")
    assert done.exit_code != 0 and "8 to 200 characters" in done.output
    unknown = _run(monkeypatch, database_url, ["users", "set-password", "lee", "--password-stdin"], "long-enough-1\n")
    assert unknown.exit_code != 0 and "no user named" in unknown.output


def test_set_password_replaces_the_old_one(monkeypatch, database_url):
    _run(monkeypatch, database_url, ["users", "add", "ann", "--role", "manager", "--password-stdin"], "first-pass-1\n")
    app = bootstrap(Settings(database_url, None, None))
    store = WebAuthStore(app.engine)
    try:
        done = _run(monkeypatch, database_url, ["users", "set-password", "ann", "--password-stdin"], "second-pass-2\n")
        assert done.exit_code == 0, done.output
        assert web_auth.log_in(store, app.clock, "ann", "second-pass-2", None).session.user.name == "ann"
        try:
            web_auth.log_in(store, app.clock, "ann", "first-pass-1", None)
            raise AssertionError("the old password still works")
        except web_auth.LoginRefused:
            pass
    finally:
        app.engine.dispose()
