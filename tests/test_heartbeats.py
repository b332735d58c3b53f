"""Beat and a worker, as real processes, record their heartbeats: beat when it sends the
heartbeat task, the worker when it runs it (what /healthz and /metrics report). On a SQLite
database and a file-system broker of the test's own."""

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
    try:
        deadline = time.monotonic() + 60
        rows: dict = {}
        while time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / "db.sqlite3", timeout=10) as db:
                rows = dict(db.execute("SELECT name, at FROM incidents_heartbeat").fetchall())
            if set(rows) == {"worker", "beat"}:
                break
            assert proc.poll() is None, f"celery exited early:\n{log.read_text()}"
            time.sleep(0.3)
        else:
            raise AssertionError(f"heartbeats {rows} after 60 s:\n{log.read_text()}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    now = datetime.now(UTC)
    for name, at in rows.items():
        age = (now - datetime.fromisoformat(at).replace(tzinfo=UTC)).total_seconds()
        assert 0 <= age < 60, (name, at)
