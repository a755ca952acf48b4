"""The login throttle's policy (issue 15, item 4): waits that double after the free failures, a cap,
forgetting, and a name's failures holding back only a client that has failed itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from continuity.domain.login_throttle import Failures, ThrottlePolicy

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_wait_doubles_after_five_failures_up_to_15_minutes():
    policy = ThrottlePolicy()
    waits = [policy.wait(n).total_seconds() for n in range(1, 17)]
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert policy.wait(10_000) == timedelta(minutes=15)


def test_a_names_failures_hold_back_only_a_client_that_failed_itself():
    policy = ThrottlePolicy()
    name = Failures(12, T0)
    assert not policy.refuses(None, name, T0)  # a clean client: the owner is always checked
    assert policy.refuses(Failures(1, T0), name, T0)
    assert not policy.refuses(Failures(1, T0 - timedelta(hours=2)), name, T0)  # its failure is forgotten
    assert policy.refuses(Failures(5, T0), None, T0 + timedelta(seconds=0.5))
    assert not policy.refuses(Failures(5, T0), None, T0 + timedelta(seconds=1))
