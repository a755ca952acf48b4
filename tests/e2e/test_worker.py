"""`continuity worker` runs the nightly sequence continuously and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


def test_the_worker_runs_the_jobs_repeatedly_and_stops_cleanly_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    env = {**os.environ, "CONTINUITY_DATABASE_URL": url, "CONTINUITY_TODAY": "2026-11-23"}
    subprocess.run([CLI, "demo", "load"], env=env, check=True, capture_output=True)
    worker = subprocess.Popen(
        [CLI, "worker", "--interval", "0.2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while _job_runs(url) < 20 and time.monotonic() < deadline:  # two nightly sequences at least
            time.sleep(0.2)
        assert _job_runs(url) >= 20
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "worker stopped" in out
    assert "Traceback" not in err
