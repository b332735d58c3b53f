"""Beat and a worker, as real processes, record their heartbeats: as they start, then beat when
it sends the heartbeat task and the worker when it runs it (what /healthz and /metrics report).
On a SQLite database and a file-system broker of the test's own."""

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_worker_and_beat_record_their_heartbeats(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "",  # SQLite under VAR_DIR
        "REDIS_URL": "",  # the file-system broker under VAR_DIR
        "VAR_DIR": str(tmp_path),
        "SECRET_KEY": "heartbeat-test-" + "k" * 40,
        "CELERY_HEARTBEAT_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    log = tmp_path / "celery.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat",
             "--loglevel=info", "--pool=solo", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def rows() -> dict:
        with sqlite3.connect(tmp_path / "db.sqlite3", timeout=10) as db:
            return dict(db.execute("SELECT name, at FROM incidents_heartbeat").fetchall())

    try:
        first: dict = {}
        seen: dict = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = rows()
            if not first and set(seen) == {"worker", "worker-pages", "worker-clocks", "beat"}:
                first = seen  # recorded as the processes started
            elif first and all(seen[name] > first[name] for name in first):
                break  # and again by the heartbeat task: beat sent it, the worker ran it
            assert proc.poll() is None, f"celery exited early:\n{log.read_text()}"
            time.sleep(0.3)
        else:
            raise AssertionError(f"heartbeats {first} -> {seen} in 60 s:\n{log.read_text()}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "heartbeat: beat and worker are running" in log.read_text()
    now = datetime.now(UTC)
    for name, at in seen.items():
        age = (now - datetime.fromisoformat(at).replace(tzinfo=UTC)).total_seconds()
        assert 0 <= age < 60, (name, at)
