"""Issue 13: the latency bench's CPU per charge is read over the charging window only (from the first to
the last capture that reached the connector): a worker's start and the rest of its nightly sequence are
left out, and only the captures between the two readings count."""

from __future__ import annotations

import os

from bench.latency import CpuSampler, _cpu_of


def _sampler(samples):  # type: ignore[no-untyped-def]
    sampler = CpuSampler.__new__(CpuSampler)  # no thread, no database: only the arithmetic
    sampler.samples = samples
    return sampler


def test_cpu_per_charge_is_taken_between_the_first_and_the_last_capture():
    samples = [(0.0, 0.9, 1.0), (1.0, 1.0, 1.5), (2.0, 1.4, 1.7), (3.0, 1.8, 1.9), (4.0, 3.0, 2.5)]
    arrivals = [0.5 + i / 1000 for i in range(3_001)]  # one a millisecond from 0.5 s to 3.5 s
    workers, backends = _sampler(samples).per_charge(arrivals)
    between = sum(1 for a in arrivals if 1.0 < a <= 3.0)  # after the reading at 1.0 s, up to the one at 3.0 s
    assert between == 2_000
    assert workers == (1.8 - 1.0) * 1000 / between  # the start (0.9 s) and what came after (3.0 s) left out
    assert backends == (1.9 - 1.5) * 1000 / between


def test_no_figure_without_two_readings_inside_the_window_or_without_the_backends():
    assert _sampler([(0.0, 1.0, 1.0), (5.0, 2.0, 2.0)]).per_charge([1.0, 2.0]) == (None, None)
    workers, backends = _sampler([(1.0, 1.0, None), (2.0, 2.0, None)]).per_charge([1.0, 1.5, 2.0])
    assert (workers, backends) == (500.0, None)  # 1 s of CPU, 2 captures; PostgreSQL elsewhere: no backends' figure


def test_a_process_cpu_is_read_from_proc():
    mine = _cpu_of(os.getpid())
    assert mine is not None and mine >= 0
    while _cpu_of(os.getpid()) == mine:  # burn a clock tick
        sum(range(10_000))
    assert _cpu_of(os.getpid()) > mine  # type: ignore[operator]
    assert _cpu_of(2**22 + 7) is None  # no such process
