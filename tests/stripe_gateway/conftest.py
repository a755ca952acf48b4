"""Fixtures of the Stripe tests: one localstripe process for the run, apps wired to it."""

from __future__ import annotations

import importlib.util
import os
import uuid

import localstripe_support as ls
import pytest
from localstripe_support import TEST_MAX_AS_OF_DAYS, TODAY

from continuity.adapters.clock import FixedClock
from continuity.bootstrap import App, bootstrap
from continuity.config import Settings


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One localstripe for the whole run, whichever xdist workers run Stripe tests: see run_wide()."""
    if importlib.util.find_spec("localstripe") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("localstripe is required in CI (pip install -e '.[test]')")
        pytest.skip("localstripe is not installed")
    base = tmp_path_factory.getbasetemp()  # under xdist: popen-gwN inside the run's folder, which they share
    with ls.run_wide(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) as server:
        yield server


def stripe_settings(database_url: str, api_base: str, **more) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        database_url,
        None,
        None,
        max_as_of_days=TEST_MAX_AS_OF_DAYS,
        gateway="stripe",
        stripe_api_key=ls.SECRET_KEY,
        stripe_publishable_key=ls.PUBLISHABLE_KEY,
        stripe_api_base=api_base,
        stripe_js_url=f"{api_base}/js.stripe.com/v3/",
        stripe_key_prefix=f"t{uuid.uuid4().hex[:8]}:",
        **more,
    )


@pytest.fixture
def make_stripe_app(database_url, localstripe):  # type: ignore[no-untyped-def]
    apps: list[App] = []

    def _make(api_base: str | None = None, gateway=None, day=TODAY) -> App:  # type: ignore[no-untyped-def]
        app = bootstrap(
            stripe_settings(database_url, api_base or localstripe.url), clock=FixedClock(day), gateway=gateway
        )
        apps.append(app)
        return app

    yield _make
    for app in apps:
        app.engine.dispose()


@pytest.fixture
def stripe_app(make_stripe_app) -> App:  # type: ignore[no-untyped-def]
    from continuity.services.demo import load_demo

    app = make_stripe_app()
    load_demo(app.uow, app.clock.today())
    return app
