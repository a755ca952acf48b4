"""`make bench` still runs: every step of the benchmark at a tiny N on SQLite (figures are not checked;
tests assert behaviour, not timings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_every_step_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "BENCH_N": "200,400",
        "BENCH_PG": "0",
        "BENCH_DIR": str(tmp_path),
        "COLUMNS": "200",
        "BENCH_LATENCY_N": "60",
        "BENCH_LATENCY_MS": "20",
        "BENCH_RATE_N": "30",
        "BENCH_RECOVERY_N": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for step in (
        "generate",
        "baseline",
        "baseline-same-shape",
        "baseline-floor",
        "create-child-orders",
        "process-payments",
        "invoice-shipped",
        "close-orders",
        "extend-lines",
        "dunning-recovery",
    ):
        assert step in done.stdout, (step, done.stdout)
    assert "created=400" in done.stdout and "approved=400" in done.stdout
    assert "time(400) / time(200)" in done.stdout
    latency = done.stdout[done.stdout.index("process-payments-latency") :]
    assert "│ 60 " in latency and "│ 30 " in latency and "100/s" in latency  # its two SQLite runs
