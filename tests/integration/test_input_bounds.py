"""Issue 11 and issue 15 item 6: a job's as_of is bounded (CONTINUITY_MAX_AS_OF_DAYS after today, default 7)
by one validation for the API and the web (the CLI: tests/e2e/test_cli_errors.py); the web never answers 500
on a form; nothing is recorded for a refused run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from api_support import API, bearer, client, users_of_each_role  # noqa: E402
from jobs_support import scalar  # noqa: E402
from web_support import MANAGER, add_web_users, client_login, csrf_of, follow, web_client  # noqa: E402

from continuity.services.demo import load_demo  # noqa: E402


@pytest.fixture
def bounded(make_app):  # type: ignore[no-untyped-def]
    app = make_app(max_as_of_days=7)  # the default bound, not the tests' lifted one
    load_demo(app.uow, app.clock.today())
    return app


@pytest.mark.parametrize("as_of, status", [("2026-11-30", 201), ("2026-12-01", 422), ("2099-11-30", 422)])
def test_the_api_refuses_an_as_of_beyond_the_bound(bounded, as_of, status):
    manager = bearer(users_of_each_role(bounded)["manager"])
    with client(bounded) as c:
        run = c.post(f"{API}/jobs/create-child-orders", headers=manager, json={"as_of": as_of})
    assert run.status_code == status, run.text
    if status == 422:  # a manager's 2099-11-30 once made 6,000 child orders for one order
        assert run.json()["code"] == "as_of_out_of_range" and "2026-11-30" in run.json()["detail"]
        assert scalar(bounded, "SELECT COUNT(*) FROM job_runs") == 0


@pytest.mark.parametrize("as_of", ["9999-12-31", "2026-12-01"])
def test_the_web_jobs_form_refuses_an_as_of_beyond_the_bound_without_a_500(bounded, as_of):
    add_web_users(bounded)
    with web_client(bounded) as manager:
        assert client_login(manager, MANAGER).status_code == 303
        token = csrf_of(manager.get("/jobs").text)
        posted = manager.post("/jobs", data={"name": "create-child-orders", "as_of": as_of, "csrf_token": token})
        refused = follow(manager, posted, "/jobs")  # PRG (issue 18 item 8): the refusal is shown on the jobs page
    assert refused.status_code == 200, refused.status_code  # 9999-12-31 was a 500 (OverflowError)
    assert "out of range" in refused.text
    assert scalar(bounded, "SELECT COUNT(*) FROM job_runs") == 0
