"""CONTINUITY_GATEWAY_CONCURRENCY, CONTINUITY_GATEWAY_RATE and the test connector's latency knob (issue 13):
read from the environment; 0, a negative number or text stops the program with one line naming it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from continuity.config import Settings
from continuity.domain.errors import ValidationFailed
from continuity.entrypoints.cli import app as cli

VARIABLES = (
    "CONTINUITY_GATEWAY_CONCURRENCY",
    "CONTINUITY_GATEWAY_RATE",
    "CONTINUITY_TEST_GATEWAY_LATENCY_MS",
    "CONTINUITY_TEST_GATEWAY_JITTER_MS",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.setenv("CONTINUITY_DATABASE_URL", "sqlite://")
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_the_defaults_are_32_calls_at_once_80_requests_a_second_and_no_latency():
    s = Settings.from_env()
    assert (s.gateway_concurrency, s.gateway_rate, s.test_gateway_latency_ms, s.test_gateway_jitter_ms) == (
        32,
        80.0,
        0,
        0,
    )


def test_the_settings_are_read_from_the_environment(monkeypatch):
    for variable, value in zip(VARIABLES, ("8", "12.5", "50", "10")):
        monkeypatch.setenv(variable, value)
    s = Settings.from_env()
    assert (s.gateway_concurrency, s.gateway_rate, s.test_gateway_latency_ms, s.test_gateway_jitter_ms) == (
        8,
        12.5,
        50,
        10,
    )


@pytest.mark.parametrize(
    "variable, bad",
    [
        ("CONTINUITY_GATEWAY_CONCURRENCY", "0"),
        ("CONTINUITY_GATEWAY_CONCURRENCY", "-4"),
        ("CONTINUITY_GATEWAY_CONCURRENCY", "many"),
        ("CONTINUITY_GATEWAY_CONCURRENCY", "2.5"),
        ("CONTINUITY_GATEWAY_CONCURRENCY", "100000"),
        ("CONTINUITY_GATEWAY_RATE", "0"),
        ("CONTINUITY_GATEWAY_RATE", "-1"),
        ("CONTINUITY_GATEWAY_RATE", "fast"),
        ("CONTINUITY_GATEWAY_RATE", "0.0"),
        ("CONTINUITY_GATEWAY_RATE", "nan"),
        ("CONTINUITY_GATEWAY_RATE", "1e3"),
        ("CONTINUITY_TEST_GATEWAY_LATENCY_MS", "-5"),
        ("CONTINUITY_TEST_GATEWAY_LATENCY_MS", "50ms"),
        ("CONTINUITY_TEST_GATEWAY_JITTER_MS", "x"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, variable, bad):
    monkeypatch.setenv(variable, bad)
    with pytest.raises(ValidationFailed) as refused:
        Settings.from_env()
    assert refused.value.code == "setting_invalid"
    assert variable in refused.value.message and repr(bad) in refused.value.message


@pytest.mark.parametrize("variable", ["CONTINUITY_GATEWAY_CONCURRENCY", "CONTINUITY_GATEWAY_RATE"])
def test_the_command_line_stops_at_start_with_one_line_naming_the_variable(variable):
    done = CliRunner().invoke(cli, ["jobs", "runs"], env={"CONTINUITY_DATABASE_URL": "sqlite://", variable: "0"})
    assert done.exit_code != 0
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and variable in lines[0] and "Traceback" not in done.output
