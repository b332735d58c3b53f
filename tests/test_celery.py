"""Worker and beat really run: beat schedules the heartbeat, the worker executes it.

On the embedded default this goes through kombu's file-system broker; with REDIS_URL set (the CI's
PostgreSQL run) through the real Redis, on a queue of its own.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_beat_and_worker_run_the_heartbeat(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path),  # own broker folder: never steals a dev worker's tasks
        "CELERY_HEARTBEAT_SECONDS": "1",
        "CELERY_QUEUE": f"test-{uuid.uuid4().hex}",
        "CELERY_PAGES_QUEUE": f"test-pages-{uuid.uuid4().hex}",
        "CELERY_CLOCKS_QUEUE": f"test-clocks-{uuid.uuid4().hex}",
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "celery.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat",
             "--loglevel=info", "--pool=solo", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text()
            if text.count("heartbeat: beat and worker are running") >= 2:
                break
            assert proc.poll() is None, f"celery exited early:\n{text}"
            time.sleep(0.3)
        else:
            raise AssertionError(f"no heartbeat executed within 60 s:\n{text}")
        assert "Sending due task heartbeat" in text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
