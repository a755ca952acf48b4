"""A gateway call that raises, whatever the exception, is UNKNOWN (asked again later under the same key).

A timeout or a connection reset (OSError) and a bug in the gateway client (anything else) leave the
same doubt: the request may have been processed. Raising instead would fail the whole job run, lose
the answers already received in its chunk and, for a request that always raises, stop
reconcile-payments at that key every night (RELIABILITY-REFERENCE R3).
"""

from __future__ import annotations

import pytest

from continuity.domain.money import Money
from continuity.services.gateway_calls import call_gateway, call_lookup, call_void
from continuity.services.ports import GatewayOutcome, GatewayResult


class RaisingGateway:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.keys: list[str] = []

    def _raise(self, *args):  # type: ignore[no-untyped-def]
        self.keys.append(args[-1])
        raise self.exc

    authorize = refund = void = lookup = _raise

    def capture(self, token, amount, key, authorization=""):  # type: ignore[no-untyped-def]
        return self._raise(token, amount, key)


@pytest.mark.parametrize(
    "exc",
    [
        TimeoutError("late"),
        ConnectionError("reset"),
        RuntimeError("client bug"),
        ValueError("bad json in the answer"),
        KeyError("id"),
    ],
)
@pytest.mark.parametrize("operation", ["authorize", "capture", "refund"])
def test_any_exception_from_a_gateway_call_is_an_unknown_outcome_under_the_same_key(exc, operation):
    gateway = RaisingGateway(exc)
    result = call_gateway(gateway, operation, "tok", Money.from_minor(1000, "EUR"), "key-1")
    assert result == GatewayResult(GatewayOutcome.UNKNOWN, "", "no answer from the gateway")
    assert gateway.keys == ["key-1"]  # one call, no retry


@pytest.mark.parametrize("exc", [TimeoutError("late"), RuntimeError("client bug")])
def test_a_void_or_a_lookup_that_raises_is_unknown(exc):
    gateway = RaisingGateway(exc)
    assert call_void(gateway, "tok", "gw_1", "key-2").outcome == GatewayOutcome.UNKNOWN
    assert call_lookup(gateway, "key-3").outcome == GatewayOutcome.UNKNOWN
    assert gateway.keys == ["key-2", "key-3"]


def test_an_unknown_operation_is_still_a_programming_error():
    with pytest.raises(ValueError, match="unknown gateway operation"):
        call_gateway(RaisingGateway(RuntimeError()), "charge", "tok", Money.from_minor(1, "EUR"), "k")
