"""Login throttling without enumeration (issue 15, item 4), SQLite and PostgreSQL.

Failed logins slow down the client address that made them and, for clients that have failed
themselves, the account name tried; nothing is ever locked, so the owner logs in from a client that
has not failed. An unknown name, a wrong password, a disabled user and a throttled client get the same
answer after the same work (one argon2 verify each). The counts live in the database (every worker sees
them). The clock is the app's: the tests move it instead of sleeping."""

from __future__ import annotations

import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from web_support import AGENT, MANAGER, StepClock, add_web_users, csrf_of  # noqa: E402

from continuity.adapters import orm_web  # noqa: E402
from continuity.adapters.orm_web import web_sessions  # noqa: E402
from continuity.adapters.web_auth_store import WebAuthStore  # noqa: E402
from continuity.services import users, web_auth  # noqa: E402

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ATTACKER, OWNER = "10.0.0.66", "10.0.0.7"


@pytest.fixture
def web_app(app):  # type: ignore[no-untyped-def]
    app.clock = StepClock(app.clock, T0)
    add_web_users(app)
    return app


@pytest.fixture
def api(web_app):  # type: ignore[no-untyped-def]
    from continuity.entrypoints.api.app import create_app

    return create_app(web_app)


def _client(api, address: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    return TestClient(api, follow_redirects=False, client=(address, 50000))


def _post(client, name: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token})


def _refusal(response, name: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Status and page with the echoed name taken out (the only part that may differ)."""
    return response.status_code, re.sub(rf'value="{re.escape(name)}"', 'value="NAME"', response.text)


def _logs_in(api, name: str, password: str, address: str) -> bool:  # type: ignore[no-untyped-def]
    """One login through the form from ``address``: True when it opened a session."""
    with _client(api, address) as c:
        done = _post(c, name, password)
    assert done.status_code in (303, 401), done.status_code
    return done.status_code == 303


# -- nobody can lock anybody out -------------------------------------------------------------------


def test_an_anonymous_client_cannot_lock_the_owner_out(api, web_app):
    with _client(api, ATTACKER) as attacker, _client(api, OWNER) as owner:
        answers = {_post(attacker, AGENT[0], f"guess-{n}").status_code for n in range(30)}
        assert answers == {401}  # never 423: there is no lock
        done = _post(owner, *AGENT)
        assert done.status_code == 303 and "continuity_session" in owner.cookies
        assert owner.get("/").status_code == 200


def test_the_client_that_failed_waits_and_the_wait_grows_then_ends(api, web_app):
    app = web_app
    for n in range(5):  # five failures are free: each is checked
        assert not _logs_in(api, AGENT[0], f"guess-{n}", ATTACKER)
    assert not _logs_in(api, *AGENT, ATTACKER)  # the right password, but this client waits 1 s …
    app.clock.at = T0 + timedelta(seconds=1.5)  # … and every refusal counts: now 2 s after the last one
    assert not _logs_in(api, *AGENT, ATTACKER)
    app.clock.at = T0 + timedelta(seconds=5.4)  # 4 s after T0 + 1.5 s
    assert not _logs_in(api, *AGENT, ATTACKER)
    app.clock.at = T0 + timedelta(seconds=13.5)  # 8 s after T0 + 5.4 s: the wait is over
    assert _logs_in(api, *AGENT, ATTACKER)  # a real check, and it passes
    assert _logs_in(api, *MANAGER, OWNER)  # another client was never held back


def test_many_clients_guessing_one_name_are_held_back_but_the_owner_is_not(api, web_app):
    guessers = [f"10.0.1.{n}" for n in range(5)]
    for address in guessers:  # one guess each: no client reaches its own limit, the name does
        assert not _logs_in(api, AGENT[0], "guess-1", address)
    assert not _logs_in(api, *AGENT, guessers[0])  # a client that failed waits for the name's count
    assert _logs_in(api, *AGENT, OWNER)  # the owner on a clean client gets a real check


def test_failures_are_forgotten_an_hour_after_the_last_one(api, web_app):
    app = web_app
    for n in range(20):
        _logs_in(api, AGENT[0], f"guess-{n}", ATTACKER)
    app.clock.at = T0 + timedelta(minutes=15, seconds=1)  # the longest wait is 15 minutes
    assert _logs_in(api, *AGENT, ATTACKER)
    for n in range(20):
        _logs_in(api, MANAGER[0], f"guess-{n}", ATTACKER)
    app.clock.at += timedelta(hours=1, seconds=1)
    assert _logs_in(api, *MANAGER, ATTACKER)
    _logs_in(api, "someone", "guess-0", OWNER)  # a failure prunes the forgotten counts
    with app.engine.connect() as conn:
        left = conn.execute(select(orm_web.login_throttles.c.last_failure_at)).scalars().all()
    assert len(left) == 2 and {_utc(t) for t in left} == {app.clock.at}


# -- the same answer, the same work ----------------------------------------------------------------


def test_unknown_wrong_disabled_and_throttled_get_the_same_answer(api, web_app):
    users.disable_user(web_app.uow, web_app.clock, MANAGER[0])
    with _client(api, ATTACKER) as c:
        unknown = _refusal(_post(c, "nobody-here", "guess-0"), "nobody-here")
        wrong = _refusal(_post(c, AGENT[0], "guess-1"), AGENT[0])
        disabled = _refusal(_post(c, *MANAGER), MANAGER[0])
        for n in range(5):
            _post(c, AGENT[0], f"guess-{n}")
        throttled = _refusal(_post(c, *AGENT), AGENT[0])  # the right password, held back
    assert unknown[0] == 401
    assert unknown == wrong == disabled == throttled
    assert "Wrong user name or password." in unknown[1]
    assert _count(web_app, web_sessions) == 0


class CountingHasher:
    """The service's argon2 hasher, counting the hashes it verifies against."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.verified = inner, []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return self.inner.verify(password_hash, password)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


class RecordingStore:
    """The real store, recording which of its methods a login calls."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.calls = inner, []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        method = getattr(self.inner, name)

        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls.append(name)
            return method(*args, **kwargs)

        return call


def test_every_refusal_does_the_same_work_one_argon2_verify(api, web_app, monkeypatch):
    app = web_app
    hasher = CountingHasher(web_auth._hasher)
    monkeypatch.setattr(web_auth, "_hasher", hasher)
    users.disable_user(app.uow, app.clock, MANAGER[0])
    for n in range(5):  # this client is now held back
        _logs_in(api, AGENT[0], f"guess-{n}", "10.9.9.9")
    cases = {
        "unknown name": ("nobody-here", "guess-0", ATTACKER),
        "wrong password": (AGENT[0], "guess-0", ATTACKER),
        "empty password": (AGENT[0], "", ATTACKER),
        "disabled user": (*MANAGER, OWNER),
        "throttled, right password": (*AGENT, "10.9.9.9"),
        "throttled, unknown name": ("nobody", "x", "10.9.9.9"),
    }
    work = {}
    for case, (name, password, address) in cases.items():
        store, before = RecordingStore(WebAuthStore(app.engine)), len(hasher.verified)
        with pytest.raises(web_auth.LoginRefused):
            web_auth.log_in(store, app.clock, name, password, None, address)
        verified = hasher.verified[before:]
        work[case] = (store.calls, len(verified), [h.split("$")[3] for h in verified])  # argon2 parameters
    assert len({repr(w) for w in work.values()}) == 1, work
    assert next(iter(work.values()))[1] == 1  # exactly one argon2 verify, whatever the case
    assert next(iter(work.values()))[2] == ["m=65536,t=3,p=4"]


# -- shared, durable, concurrent -------------------------------------------------------------------


def test_the_counts_are_in_the_database_shared_by_every_worker(make_app, api, web_app):
    from continuity.entrypoints.api.app import create_app

    other_worker = make_app()  # another process's App: its own engine and pool, the same database
    other_worker.clock = web_app.clock
    for n in range(5):
        assert not _logs_in(api, AGENT[0], f"guess-{n}", ATTACKER)
    assert not _logs_in(create_app(other_worker), *AGENT, ATTACKER)
    with web_app.engine.connect() as conn:
        rows = conn.execute(select(orm_web.login_throttles)).all()
    assert {r.scope for r in rows} == {"address", "account"}
    assert all(re.fullmatch("[0-9a-f]{64}", r.key_hash) for r in rows)  # SHA-256, not the address or name


def test_concurrent_failures_are_all_counted(make_app, web_app):
    from continuity.domain.login_throttle import Failures

    workers = [make_app() for _ in range(4)]
    keys = web_auth.throttle_keys(ATTACKER, AGENT[0])

    def fail(app) -> None:  # type: ignore[no-untyped-def]
        store = WebAuthStore(app.engine)
        for _ in range(10):
            store.record_failure(keys, T0, T0 - timedelta(hours=1))

    threads = [threading.Thread(target=fail, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    address, account = WebAuthStore(web_app.engine).failures(keys)
    assert address == account == Failures(40, T0)


def _count(app, table) -> int:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
