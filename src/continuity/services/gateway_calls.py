"""Calling the gateway safely: the attempt is committed first; no answer means UNKNOWN; "too many
requests" is sent again under the same key after a back-off, never taken as a decline."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from continuity.domain.audit import Actor, AuditEntry, Entity
from continuity.domain.money import Money
from continuity.domain.payments import AttemptStatus
from continuity.services.gateway_pool import Calls, PooledGateway
from continuity.services.ports import GatewayBusy, GatewayOutcome, GatewayResult, PaymentGateway, UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

ATTEMPT_STATUS = {
    GatewayOutcome.APPROVED: AttemptStatus.APPROVED,
    GatewayOutcome.DECLINED: AttemptStatus.DECLINED,
    GatewayOutcome.UNKNOWN: AttemptStatus.UNKNOWN,
}
BUSY_RETRIES = 6  # "too many requests" this many times more: the call is left UNKNOWN (reconcile asks again)
BUSY_BACKOFF = 0.05  # seconds before the first retry, doubled each time (with jitter), at most BUSY_MAX_WAIT
BUSY_MAX_WAIT = 5.0


def record_answer(
    uow: UnitOfWork,
    actor: Actor,
    operation: str,
    key: str,
    sales_id: str,
    amount: Money,
    result: GatewayResult,
    now: datetime,
    authorization: str | None = None,
) -> None:
    """The attempt under ``key`` is finished with the gateway's ``result``, and the audit trail has it as
    ``<operation>_<outcome>`` with its amount (and the authorization it released, if any)."""
    uow.orders.finish_attempt(key, ATTEMPT_STATUS[result.outcome], result.reason, result.reference)
    after = {"amount": str(amount.amount), "currency": amount.currency, "outcome": result.outcome.value}
    if authorization is not None:
        after["authorization"] = authorization
    action = f"{operation}_{result.outcome.value}"
    uow.audit.add(AuditEntry(actor, Entity.PAYMENT, key, action, None, after, result.reason, sales_id), now)


def call_gateway(
    gateway: PaymentGateway, operation: str, token: str, amount: Money, key: str, authorization: str = ""
) -> GatewayResult:
    """One gateway call under ``key``; any failure to get an answer is UNKNOWN, never a retry. A capture
    of an authorization names it (``authorization``: its gateway reference)."""
    if operation not in ("authorize", "capture", "refund"):
        raise ValueError(f"unknown gateway operation {operation}")
    if operation == "capture":
        return _answer(lambda: gateway.capture(token, amount, key, authorization), f"capture under key {key}")
    return _answer(lambda: getattr(gateway, operation)(token, amount, key), f"{operation} under key {key}")


def call_refund(
    gateway: PaymentGateway, token: str, amount: Money, key: str, captures: Sequence[str] = ()
) -> GatewayResult:
    """A refund under ``key`` drawing on ``captures`` (the references of the captures whose money it returns,
    newest first); no answer is UNKNOWN, never a retry."""
    return _answer(lambda: gateway.refund(token, amount, key, tuple(captures)), f"refund under key {key}")


def call_lookup(gateway: PaymentGateway, key: str) -> GatewayResult:
    """What the gateway did under ``key``; no answer to the lookup is UNKNOWN (ask again later)."""
    return _answer(lambda: gateway.lookup(key), f"lookup of key {key}")


def look_up(gateway: PaymentGateway, key: str, resend: Callable[[], GatewayResult]) -> GatewayResult:
    """What became of the attempt under ``key`` (no answer: UNKNOWN, ask again later); one the gateway never
    received is sent again under that same key (``resend``), never under a new one."""
    found = call_lookup(gateway, key)
    return found if found.received else resend()


def call_void(gateway: PaymentGateway, token: str, reference: str, key: str) -> GatewayResult:
    """Release an authorization (``reference``) under ``key``; no answer is UNKNOWN, never a retry."""
    return _answer(lambda: gateway.void(token, reference, key), f"void under key {key}")


def each(
    gateway: PaymentGateway,
    fn: Callable[[T], R],
    items: Sequence[T],
    together: Callable[[T], Hashable | None] | None = None,
) -> list[R]:
    """``fn(item)`` for every item (each makes its gateway calls, nothing else: no database session), the
    results in the items' order. Concurrently when the gateway is a worker's pooled client (PooledGateway),
    else one after another. Items with the same ``together`` key (not None), e.g. captures of one
    authorization, are called in turn within one task, never at the same time."""
    return begin(gateway, fn, items, together).results()


class Begun(Generic[R]):
    """Calls begun by ``begin``: ``results()`` waits for them (in the items' order), ``all_started()`` until
    none is left to start, ``last_round()`` until no more are left to start than the pool has places,
    ``stop()`` starts no more and waits for those running. ``in_flight``: they run on the pool's threads
    (else they were made before ``begin`` returned)."""

    def __init__(self, results: Callable[[], list[R]], calls: Calls[Any] | None = None) -> None:
        self.results, self._calls = results, calls
        self.in_flight = calls is not None

    def all_started(self) -> None:
        if self._calls is not None:
            self._calls.all_started()

    def last_round(self) -> None:
        if self._calls is not None:
            self._calls.last_round()

    def stop(self) -> None:
        if self._calls is not None:
            self._calls.stop()


def places(gateway: PaymentGateway) -> int:
    """How many calls ``gateway`` makes at once: a worker's pooled client's concurrency, else one."""
    return gateway.concurrency if isinstance(gateway, PooledGateway) else 1


def begin(
    gateway: PaymentGateway,
    fn: Callable[[T], R],
    items: Sequence[T],
    together: Callable[[T], Hashable | None] | None = None,
) -> Begun[R]:
    """``each`` begun: on a worker's pooled client the calls run while the caller goes on (no database
    session of the caller's is used by them); otherwise they are made here, one after another."""
    if not isinstance(gateway, PooledGateway) or len(items) < 2:
        done = [fn(item) for item in items]
        return Begun(lambda: done)
    keys = [together(item) for item in items] if together else []
    if not any(key is not None for key in keys):
        calls = gateway.start(fn, items)
        return Begun(calls.results, calls if calls.in_flight else None)
    groups: dict[Hashable, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(("alone", index) if key is None else ("with", key), []).append(index)

    def run(indexes: list[int]) -> list[tuple[int, R]]:
        return [(i, fn(items[i])) for i in indexes]

    grouped = gateway.start(run, list(groups.values()))

    def results() -> list[R]:
        answers = dict(pair for part in grouped.results() for pair in part)
        return [answers[i] for i in range(len(items))]

    return Begun(results, grouped if grouped.in_flight else None)


def _answer(call: Callable[[], GatewayResult], what: str) -> GatewayResult:
    """The gateway's answer to ``call``: sent again after a back-off while the gateway says "too many
    requests" (it did nothing); UNKNOWN when no answer comes, or the gateway stays busy."""
    delay = BUSY_BACKOFF
    for retry in range(BUSY_RETRIES + 1):
        try:
            return call()
        except GatewayBusy as busy:
            if retry == BUSY_RETRIES:
                log.warning("gateway %s: still too many requests after %s retries", what, BUSY_RETRIES)
                break
            wait = busy.retry_after if busy.retry_after is not None else delay * random.uniform(0.5, 1.0)
            time.sleep(min(max(wait, 0.0), BUSY_MAX_WAIT))
            delay *= 2
        except Exception as exc:  # noqa: BLE001 - a timeout, a reset or a client bug: it may have happened
            return no_answer(what, exc)
    return GatewayResult(GatewayOutcome.UNKNOWN, "", "the gateway is busy (too many requests)")


def no_answer(call: str, exc: Exception) -> GatewayResult:
    """UNKNOWN for a gateway call that raised: reconcile-payments asks again under the same key. Anything
    but a network error (OSError: timeouts and resets included) is logged with its traceback (a bug)."""
    log.warning("gateway %s got no answer: %s", call, type(exc).__name__, exc_info=not isinstance(exc, OSError))
    return GatewayResult(GatewayOutcome.UNKNOWN, "", "no answer from the gateway")
