"""The worker's gateway client (issue 13): calls run concurrently in a bounded pool, requests are paced
under the rate limit, "too many requests" is retried under the same key and never taken as a decline."""

from __future__ import annotations

import threading
import time

import pytest

from continuity.domain.money import Money
from continuity.services import gateway_calls
from continuity.services.gateway_calls import call_gateway, call_lookup, each
from continuity.services.gateway_pool import HEADROOM, Pacer, PooledGateway
from continuity.services.ports import GatewayBusy, GatewayOutcome, GatewayResult

EUR = Money.from_minor(1000, "EUR")
APPROVED = GatewayResult(GatewayOutcome.APPROVED, "gw_1", "")


class FakeTime:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class InFlight:
    """Counts the calls running at once (peak), each held until ``release`` (or a short timeout)."""

    def __init__(self) -> None:
        self.lock, self.now, self.peak = threading.Lock(), 0, 0
        self.release = threading.Event()

    def call(self, item: int) -> int:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        self.release.wait(0.2)
        with self.lock:
            self.now -= 1
        return item * 10


def test_the_pacer_spaces_requests_evenly_and_never_lets_more_than_the_rate_into_any_second():
    fake = FakeTime()
    pacer = Pacer(20, clock=fake.clock, sleep=fake.sleep)
    times = []
    for _ in range(100):
        pacer.wait()
        times.append(fake.now)
    gaps = {round(b - a, 9) for a, b in zip(times, times[1:])}
    assert gaps == {round(1 / (20 * HEADROOM), 9)}
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 20


def test_after_an_idle_spell_the_pacer_does_not_let_a_burst_through():
    fake = FakeTime()
    pacer = Pacer(10, clock=fake.clock, sleep=fake.sleep)
    pacer.wait()
    fake.now += 60  # a minute with no request: no credit is saved up
    first = fake.now
    for _ in range(3):
        pacer.wait()
    assert fake.now - first == pytest.approx(2 / (10 * HEADROOM))


def test_a_thread_woken_late_does_not_bunch_with_the_requests_after_it():
    """40 threads share one pacer (20/s); the first three to sleep (early slots) wake 200 ms late, among
    the requests of the slots after theirs. Still no window of one second sees more than 20 leave."""
    lock, left, sleeps = threading.Lock(), [], []

    def sleep(seconds: float) -> None:
        with lock:
            sleeps.append(seconds)
            late = 0.2 if len(sleeps) <= 3 else 0.0
        time.sleep(seconds + late)

    seen = threading.local()

    def clock() -> float:  # the pacer's own readings: the last one of a wait is when it let the request go
        seen.now = time.monotonic()
        return seen.now

    pacer = Pacer(20, clock=clock, sleep=sleep)

    def request(_: int) -> None:
        pacer.wait()
        with lock:  # not time.monotonic() here: on a loaded machine a thread may run late after its wait
            left.append(seen.now)

    threads = [threading.Thread(target=request, args=(k,)) for k in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    left.sort()
    assert len(left) == 40
    assert max(sum(1 for t in left if start <= t < start + 1.0) for start in left) <= 20


def test_each_runs_the_calls_concurrently_up_to_the_pool_size_and_keeps_their_order():
    gateway, flight = PooledGateway(object(), concurrency=4, rate=1000), InFlight()
    assert gateway.each(flight.call, list(range(10))) == [i * 10 for i in range(10)]
    assert flight.peak == 4


def test_calls_that_belong_together_never_run_at_the_same_time():
    gateway, flight = PooledGateway(object(), concurrency=8, rate=1000), InFlight()
    results = each(gateway, flight.call, [1, 2, 3, 4, 5, 6], together=lambda item: "auth_1")
    assert results == [10, 20, 30, 40, 50, 60] and flight.peak == 1


def test_a_gateway_without_a_pool_is_called_one_call_after_another():
    flight = InFlight()
    flight.release.set()
    assert each(object(), flight.call, [1, 2, 3]) == [10, 20, 30] and flight.peak == 1


def test_an_exception_in_one_call_is_raised_and_the_calls_not_started_are_not_made():
    started: list[int] = []
    gate = threading.Event()

    def call(item: int) -> int:
        started.append(item)
        if item == 0:
            raise KeyboardInterrupt  # a worker being killed: not an Exception, not taken as "no answer"
        gate.wait(0.1)
        return item

    with pytest.raises(KeyboardInterrupt):
        PooledGateway(object(), concurrency=2, rate=1000).each(call, list(range(50)))
    assert len(started) < 50


def test_a_batch_begun_once_the_last_one_has_all_started_takes_its_places_as_they_end():
    """process-payments begins a chunk's calls once the last chunk's have all started: both batches together
    never have more than the pool in flight, and each keeps its answers in order."""
    gateway, flight = PooledGateway(object(), concurrency=4, rate=1000), InFlight()
    first = gateway.start(flight.call, list(range(6)))
    first.all_started()
    second = gateway.start(flight.call, list(range(100, 106)))
    assert first.results() == [i * 10 for i in range(6)]
    assert second.results() == [i * 10 for i in range(100, 106)]
    assert flight.peak == 4


def test_the_last_round_comes_when_no_more_calls_are_left_to_start_than_the_pool_has_places():
    """process-payments claims its next chunk then (not sooner: a chunk claimed early waits in one worker
    while the others run out of work)."""
    gate = threading.Event()

    def call(item: int) -> int:
        gate.wait(5)
        return item

    calls = PooledGateway(object(), concurrency=2, rate=1000).start(call, list(range(5)))
    waiter = threading.Thread(target=calls.last_round)
    waiter.start()
    waiter.join(0.1)
    assert waiter.is_alive()  # two in flight, three left to start
    gate.set()
    waiter.join(2)
    assert not waiter.is_alive()
    assert calls.results() == [0, 1, 2, 3, 4]


def test_a_stopped_batch_makes_no_more_calls_and_has_no_answer_for_them():
    """An interrupted run: the calls in flight end and keep their answers; the ones never started have none
    (their attempts stay pending, for reconcile-payments)."""
    gateway, flight = PooledGateway(object(), concurrency=2, rate=1000), InFlight()
    calls = gateway.start(flight.call, list(range(20)))
    while flight.now < 2:  # both places taken
        time.sleep(0.001)
    calls.stop()
    answers = calls.results()
    made = [a for a in answers if a is not None]
    assert 2 <= len(made) < 20 and answers[: len(made)] == [i * 10 for i in range(len(made))]
    assert all(a is None for a in answers[len(made) :])


class BusyGateway:
    """Answers "too many requests" ``busy`` times per key, then approves; counts every request."""

    def __init__(self, busy: int) -> None:
        self.busy, self.calls = busy, []

    def capture(self, token, amount, key, authorization=""):  # type: ignore[no-untyped-def]
        self.calls.append(key)
        if self.calls.count(key) <= self.busy:
            raise GatewayBusy(retry_after=0)
        return APPROVED

    def lookup(self, key):  # type: ignore[no-untyped-def]
        return self.capture("", EUR, key)


def test_too_many_requests_is_sent_again_under_the_same_key_and_then_answered(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(gateway_calls.time, "sleep", waits.append)
    gateway = BusyGateway(busy=3)
    assert call_gateway(gateway, "capture", "tok", EUR, "key-1") == APPROVED
    assert gateway.calls == ["key-1"] * 4 and len(waits) == 3


def test_a_gateway_that_stays_busy_leaves_the_call_unknown_never_declined(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(gateway_calls.time, "sleep", waits.append)
    gateway = BusyGateway(busy=100)
    result = call_lookup(gateway, "key-2")
    assert result.outcome == GatewayOutcome.UNKNOWN and "too many requests" in result.reason
    assert gateway.calls == ["key-2"] * (gateway_calls.BUSY_RETRIES + 1)


def test_the_back_off_grows_when_the_gateway_names_no_wait(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(gateway_calls.time, "sleep", waits.append)

    class NoHint(BusyGateway):
        def capture(self, token, amount, key, authorization=""):  # type: ignore[no-untyped-def]
            self.calls.append(key)
            if len(self.calls) <= self.busy:
                raise GatewayBusy()
            return APPROVED

    assert call_gateway(NoHint(busy=4), "capture", "tok", EUR, "k") == APPROVED
    assert all(later > earlier for earlier, later in zip(waits, waits[1:])) and len(waits) == 4


def test_every_request_of_the_pooled_client_waits_for_the_pacer():
    fake = FakeTime()
    gateway = PooledGateway(BusyGateway(busy=0), concurrency=1, rate=5)
    gateway.pacer = Pacer(5, clock=fake.clock, sleep=fake.sleep)
    start = fake.now
    for k in range(6):
        assert gateway.capture("tok", EUR, f"k{k}") == APPROVED
    assert fake.now - start == pytest.approx(5 / (5 * HEADROOM))
