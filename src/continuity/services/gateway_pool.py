"""The worker's gateway client: its requests paced under a rate limit, its calls issued from a bounded pool.

Threads, not asyncio: the PaymentGateway port is synchronous (so are the gateway SDKs and the SQLAlchemy
sessions), and a gateway call is time spent waiting on the network, which a thread spends without the GIL.
Only the gateway calls run in the pool: the caller commits the attempts first on its own thread, hands the
calls to ``each``, and writes the answers on its own thread once they are all back. No database session
or unit of work ever crosses into a pool thread (the test connector, standing for the remote gateway,
uses connections of its own: adapters/test_gateway_ledger.LedgerSql).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from continuity.domain.card import Card, Expiry
from continuity.domain.money import Money
from continuity.services.ports import CardSetup, GatewayCustomer, GatewayResult, PaymentGateway

T = TypeVar("T")
R = TypeVar("R")

#: requests are spaced for this share of the rate: a little room for the timing noise between the pacing
#: here and the gateway's clock
HEADROOM = 0.95
#: and at most ``rate`` of them leave in any window this long (a thread woken late by a busy machine does
#: not bunch with the ones after it)
WINDOW = 1.05


class Pacer:
    """At most ``rate`` requests a second, evenly spaced (no burst): each request takes the next free slot
    and waits for it, then leaves only if fewer than ``rate`` left in the last WINDOW seconds. Shared by
    every thread of the worker."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.interval = 1.0 / (rate * HEADROOM)
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._sent: deque[float] = deque(maxlen=max(1, math.floor(rate)))
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
        while (late := self._leave()) > 0:
            self._sleep(late)

    def _leave(self) -> float:
        """0 once this request may leave (and it is counted), else the seconds to wait first."""
        with self._lock:
            now = self._clock()
            if len(self._sent) < (self._sent.maxlen or 1) or now - self._sent[0] >= WINDOW:
                self._sent.append(now)
                return 0.0
            return self._sent[0] + WINDOW - now


class PooledGateway:
    """A PaymentGateway (the port, unchanged) whose every request waits for the pacer, plus ``each``: run
    calls concurrently, at most ``concurrency`` at once."""

    def __init__(self, gateway: PaymentGateway, concurrency: int, rate: float) -> None:
        self.gateway, self.concurrency, self.pacer = gateway, concurrency, Pacer(rate)
        #: a call in flight holds one: two batches begun one after the other (the next one's calls start as
        #: the last one's end) never have more than ``concurrency`` calls in flight together
        self.slots = threading.BoundedSemaphore(max(1, concurrency))
        # the port's attribute (a test's stand-in gateway may have none: it takes card numbers)
        self.takes_card_numbers: bool = getattr(gateway, "takes_card_numbers", True)

    def each(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn(item)`` for every item, at most ``concurrency`` at a time; the results in the items' order.
        An exception of one call is raised here once the calls already running have ended; calls not yet
        started are then not made (their attempts stay pending for reconcile-payments)."""
        return self.start(fn, items).results()

    def start(self, fn: Callable[[T], R], items: Sequence[T]) -> Calls[R]:
        """``each`` begun: the calls run while the caller goes on; ``results()`` waits for them. A batch
        begun while another one's last calls are in flight starts a call as each of those ends: never more
        than ``concurrency`` calls in flight in all."""
        calls = Calls(fn, items, self.slots)
        if len(items) < 2 or self.concurrency < 2:
            calls.run_here()
        else:
            calls.start(min(self.concurrency, len(items)))
        return calls

    # -- the PaymentGateway port ---------------------------------------------------------------------------
    def tokenize(self, card_number: str, expiry: Expiry, holder: str, today: date) -> Card:
        self.pacer.wait()
        return self.gateway.tokenize(card_number, expiry, holder, today)

    def authorize(self, token: str, amount: Money, idempotency_key: str) -> GatewayResult:
        self.pacer.wait()
        return self.gateway.authorize(token, amount, idempotency_key)

    def capture(self, token: str, amount: Money, idempotency_key: str, authorization: str = "") -> GatewayResult:
        self.pacer.wait()
        return self.gateway.capture(token, amount, idempotency_key, authorization)

    def void(self, token: str, reference: str, idempotency_key: str) -> GatewayResult:
        self.pacer.wait()
        return self.gateway.void(token, reference, idempotency_key)

    def refund(self, token: str, amount: Money, idempotency_key: str, captures: Sequence[str] = ()) -> GatewayResult:
        self.pacer.wait()
        return self.gateway.refund(token, amount, idempotency_key, captures)

    def lookup(self, idempotency_key: str) -> GatewayResult:
        self.pacer.wait()
        return self.gateway.lookup(idempotency_key)

    # not paced: a card entered at the gateway, outside the batch jobs' calls
    def save_payment_method(self, payment_method: str, customer: GatewayCustomer, today: date) -> Card:
        return self.gateway.save_payment_method(payment_method, customer, today)

    def card_setup(self, customer: GatewayCustomer) -> CardSetup:
        return self.gateway.card_setup(customer)

    def __getattr__(self, name: str) -> object:
        if name == "gateway":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.gateway, name)  # what else the adapter offers (the test connector's engine)


class Calls(Generic[R]):
    """One batch of calls: ``threads`` threads, each taking the next item no thread has taken yet, until
    none is left. No task object per call: a ThreadPoolExecutor's future, work queue and wake-ups per
    call cost more of the worker's CPU than the rest of the call's own work (the test connector aside)."""

    def __init__(self, fn: Callable[[Any], R], items: Sequence[Any], slots: threading.Semaphore | None = None) -> None:
        self.fn, self.items, self.slots = fn, items, slots
        self.answers: list[Any] = [None] * len(items)
        self.failure: BaseException | None = None
        self._taken = 0
        self._stopped = False  # a call failed, or the caller was interrupted: no call starts any more
        self._all_taken = threading.Event()  # no call is left to start
        self._last_round = threading.Event()  # no more calls left to start than there are threads
        self._round = len(items)  # the threads (set by ``start``)
        self._lock = threading.Lock()
        self._pool: list[threading.Thread] = []

    @property
    def in_flight(self) -> bool:
        """The calls run on threads of their own (``start``), not on the caller's (``run_here``)."""
        return bool(self._pool)

    def run_here(self) -> None:
        """The calls one after another on the caller's thread (one item, or no pool)."""
        self.answers = [self.fn(item) for item in self.items]
        self._last_round.set()
        self._all_taken.set()

    def all_started(self) -> None:
        """Return once no call is left to start (the last ones may still be in flight)."""
        self._all_taken.wait()

    def last_round(self) -> None:
        """Return once no more calls are left to start than there are threads (about one latency's worth)."""
        self._last_round.wait()

    def start(self, threads: int) -> None:
        self._round = threads
        if len(self.items) <= threads:
            self._last_round.set()
        self._pool = [threading.Thread(target=self._work, name=f"gateway_{k}") for k in range(threads)]
        try:
            for thread in self._pool:
                thread.start()
        except BaseException:
            self.stop()
            raise

    def results(self) -> list[R]:
        """The answers in the items' order, once every call has ended; an exception of one call raised
        here."""
        try:
            for thread in self._pool:
                thread.join()
        finally:
            self.stop()
        if self.failure is not None:
            raise self.failure
        return self.answers

    def stop(self) -> None:
        """No call starts any more; return once the calls already running have ended (their answers are
        not lost on the way)."""
        self._stop()
        for thread in self._pool:
            if thread.ident is not None:
                thread.join()

    def _next(self) -> int | None:
        with self._lock:
            if self._stopped or self._taken == len(self.items):
                self._last_round.set()
                self._all_taken.set()
                return None
            self._taken += 1
            if len(self.items) - self._taken <= self._round:
                self._last_round.set()
            if self._taken == len(self.items):
                self._all_taken.set()
            return self._taken - 1

    def _stop(self, failure: BaseException | None = None) -> None:
        with self._lock:
            self._stopped = True
            self.failure = self.failure or failure
            self._last_round.set()
            self._all_taken.set()

    def _work(self) -> None:
        """Take a place in the pool (once: a place per call costs more than a call with no latency), then
        make calls until none is left to start."""
        if self.slots is not None:
            self.slots.acquire()
        try:
            while (index := self._next()) is not None:
                self.answers[index] = self.fn(self.items[index])
        except BaseException as exc:  # raised by ``results``, in the caller's thread
            self._stop(exc)
        finally:
            if self.slots is not None:
                self.slots.release()
