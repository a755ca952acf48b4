"""Schemathesis over the whole OpenAPI document, once per role (RELIABILITY-REFERENCE S4): positive and
negative examples for every operation, in process against the ASGI app on the demo data. Zero server
errors, zero responses outside the document (status, media type, body schema, headers), and invalid
requests are refused.

One check is left out: ``positive_data_acceptance`` (a schema-valid request must not get a 4xx). The
API answers business-rule failures that no JSON schema can express (event ids with a gap, a cursor it
never gave out, a program too long to plan) with 422, by design.
"""

from __future__ import annotations

import warnings

import pytest
import schemathesis
from api_support import API, bearer, users_of_each_role
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from continuity.entrypoints.api.app import create_app

EXAMPLES = 8  # per operation and mode: 35 operations × 2 modes × 4 runs in about 1.5 min of CPU
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.mark.parametrize(
    "database_url, role",
    [
        ("sqlite", "agent"),
        ("sqlite", "manager"),
        ("sqlite", "admin"),
        pytest.param("postgres", "admin", marks=pytest.mark.postgres),
    ],
    indirect=["database_url"],
)
def test_every_operation_conforms_to_the_openapi_document(demo_app, role):
    token = users_of_each_role(demo_app)[role]
    auth = bearer(token)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", create_app(demo_app))
    failures = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode, headers=auth))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case):  # type: ignore[no-untyped-def]
                case.call_and_validate(headers=auth, excluded_checks=EXCLUDED)

            try:
                check()
            except Unsatisfiable:  # no parameters or body to make invalid
                continue
            except Exception as exc:  # noqa: BLE001 - collected, reported together below
                failures[f"{operation.label} ({mode.value})"] = str(exc)
            except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                failures[f"{operation.label} ({mode.value})"] = str(exc)
    assert not failures, "\n\n".join(f"== {name}\n{text}" for name, text in failures.items())
