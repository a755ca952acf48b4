"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL (its own database per run).

PostgreSQL tests are marked ``postgres``; they fail (not skip) when CI=true and the server at
TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) does not answer.
"""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from continuity.adapters.clock import FixedClock
from continuity.adapters.migrate import upgrade
from continuity.adapters.orm import metadata
from continuity.adapters.test_gateway_ledger import create_ledger, ledger_metadata
from continuity.bootstrap import App, bootstrap
from continuity.config import Settings

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = date(2026, 11, 23)
#: The job tests play months of nightly runs ahead of their pinned TODAY (as_of far after the clock), so
#: make_app's apps lift CONTINUITY_MAX_AS_OF_DAYS (default 7); tests/integration/test_input_bounds.py
#: checks the default bound (make_app(max_as_of_days=7)).
TEST_MAX_AS_OF_DAYS = 36_500
#: make_app's apps send gateway requests unpaced (CONTINUITY_GATEWAY_RATE default 80/s would stretch the
#: tests that charge hundreds of installments into seconds); tests/integration/test_gateway_concurrency.py
#: and tests/unit/test_gateway_pool.py check the pacing (make_app(gateway_rate=15.0)).
TEST_GATEWAY_RATE = 1_000_000.0


def _postgres_or_skip() -> None:
    try:
        with create_engine(ADMIN_URL).connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and did not answer: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


@pytest.fixture(scope="session")
def postgres_database_url():
    """One fresh PostgreSQL database for this test run (per xdist worker), dropped at the end."""
    _postgres_or_skip()
    name = f"continuity_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    """Every table emptied: the schema's and the test connector's ledger (made here when missing)."""
    engine = create_engine(url)
    create_ledger(engine)
    names = ", ".join(f'"{t.name}"' for t in [*metadata.sorted_tables, *ledger_metadata.sorted_tables])
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A fresh, migrated database: a new SQLite file, or the run's PostgreSQL database emptied. The test
    connector's ledger is made up front (the tests read it, also before the connector's first call)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'continuity.db'}"
        app = bootstrap(Settings(url, None, None))
        upgrade(app.engine)
        create_ledger(app.engine)
        app.engine.dispose()
        return url
    url = request.getfixturevalue("postgres_database_url")
    _truncate_all(url)
    return url


@pytest.fixture
def make_app(database_url):
    apps: list[App] = []

    def _make(day: date = TODAY, **settings) -> App:  # type: ignore[no-untyped-def]
        settings = {"max_as_of_days": TEST_MAX_AS_OF_DAYS, "gateway_rate": TEST_GATEWAY_RATE, **settings}
        app = bootstrap(Settings(database_url, None, None, **settings), clock=FixedClock(day))
        apps.append(app)
        return app

    yield _make
    for app in apps:
        app.engine.dispose()


@pytest.fixture
def app(make_app) -> App:
    return make_app()


@pytest.fixture
def demo_app(app) -> App:
    from continuity.services.demo import load_demo

    load_demo(app.uow, app.clock.today())
    return app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path):
    """An empty database with no schema at all: a new SQLite file, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    _postgres_or_skip()
    name = f"continuity_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_demo_database_url(request, tmp_path_factory):
    """A migrated database holding the demo data, shared by the tests of one module (faster than a fresh
    one per test). Its tests may only add rows of their own and compare counts before/after."""
    from continuity.services.demo import load_demo

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('shared') / 'continuity.db'}"
        drop = None
    else:
        _postgres_or_skip()
        name = f"continuity_shared_{uuid.uuid4().hex[:12]}"
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    app = bootstrap(Settings(url, None, None), clock=FixedClock(TODAY))
    upgrade(app.engine)
    load_demo(app.uow, TODAY)
    app.engine.dispose()
    yield url
    if drop is not None:
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()
