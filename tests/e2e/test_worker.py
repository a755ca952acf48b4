"""`continuity worker` runs the nightly sequence continuously and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

CLI = str(Path(sys.executable).with_name("continuity"))


def _job_runs(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM job_runs")).scalar_one()
    finally:
        engine.dispose()


@contextmanager
def _demo_worker(tmp_path: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A demo database and ``continuity worker *options`` running on it (killed if a test left it running)."""
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    env = {**os.environ, "CONTINUITY_DATABASE_URL": url, "CONTINUITY_TODAY": "2026-11-23"}
    subprocess.run([CLI, "demo", "load"], env=env, check=True, capture_output=True)
    worker = subprocess.Popen(
        [CLI, "worker", *options], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield url, worker
    finally:
        if worker.poll() is None:
            worker.kill()


def test_the_worker_runs_the_jobs_repeatedly_and_stops_cleanly_on_sigterm(tmp_path):
    with _demo_worker(tmp_path, "--interval", "0.2") as (url, worker):
        deadline = time.monotonic() + 60
        while _job_runs(url) < 20 and time.monotonic() < deadline:  # two nightly sequences at least
            time.sleep(0.2)
        assert _job_runs(url) >= 20
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "worker stopped" in out
    assert "Traceback" not in err


def _first_job_start(url: str) -> datetime | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT MIN(started_at) FROM job_runs")).scalar_one()
    finally:
        engine.dispose()
    if first is None:
        return None
    moment = first if isinstance(first, datetime) else datetime.fromisoformat(first)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_worker_with_at_waits_for_that_time_of_day_then_runs_the_sequence_once(tmp_path):
    start = (datetime.now().astimezone() + timedelta(seconds=8)).replace(microsecond=0)
    at = start.time().isoformat()
    with _demo_worker(tmp_path, "--once", "--at", at) as (url, worker):
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == f"worker: next sequence at {at}"
        assert _first_job_start(url) is None  # waiting: nothing has run
        out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    assert "worker: ran" in out
    first = _first_job_start(url)
    assert first is not None and first >= start


def test_a_worker_waiting_for_its_time_stops_cleanly_on_sigterm_without_running(tmp_path):
    passed = (datetime.now().astimezone() - timedelta(minutes=1)).strftime("%H:%M")  # so: tomorrow's
    with _demo_worker(tmp_path, "--at", passed) as (url, worker):
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == f"worker: next sequence at {passed}:00"
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "worker stopped" in out
    assert _first_job_start(url) is None


def test_a_worker_with_a_time_that_is_none_stops_at_once_naming_it(tmp_path):
    env = {**os.environ, "CONTINUITY_DATABASE_URL": f"sqlite:///{tmp_path / 'bad.db'}"}
    done = subprocess.run([CLI, "worker", "--at", "25:00"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "time_invalid" in done.stderr + done.stdout and "25:00" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
