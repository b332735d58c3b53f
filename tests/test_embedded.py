"""`make run`'s supervisor (config/embedded.py), for real: web, the three workers and beat start; a
child killed with SIGKILL comes back (and works: the web answers again, the worker reports ready
again); SIGTERM stops them all. The embedded default only (SQLite, file-system broker, own
VAR_DIR)."""

import os
import re
import signal
import sys
import time

import pytest

from tests.embedded import Embedded, alive


@pytest.fixture
def embedded(tmp_path):
    app = Embedded(tmp_path / "var")
    app.manage("migrate", "--noinput")
    app.start()
    yield app
    if app.proc.poll() is None:
        app.proc.kill()
        app.proc.wait()


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="the embedded default runs in the SQLite pass"
)
def test_a_killed_child_is_restarted_and_sigterm_stops_everything(embedded):
    embedded.wait_for("web, workers and beat", embedded.ready)

    [worker] = embedded.pids("worker-pages")
    os.kill(worker, signal.SIGKILL)
    embedded.wait_for("a new pages worker", lambda: len(embedded.pids("worker-pages")) == 2)
    embedded.wait_for(
        "the new pages worker ready",
        lambda: len(re.findall(r"pages@\S+ ready", embedded.log())) == 2,
    )
    assert f"worker-pages (pid {worker}) exited with -9" in embedded.log()

    [web] = embedded.pids("web")
    os.kill(web, signal.SIGKILL)
    embedded.wait_for("a new web server", lambda: len(embedded.pids("web")) == 2)
    embedded.wait_for("the web answering again", lambda: embedded.get("/healthz") == 200)

    children = [
        pid
        for name in ("web", "worker", "worker-pages", "worker-clocks", "beat")
        for pid in embedded.pids(name)
    ]
    assert embedded.stop() == 0
    assert [pid for pid in children if alive(pid)] == []
    assert "stopping web, workers and beat" in embedded.log()


def test_backoff_doubles_for_quick_failures_and_starts_anew_after_a_stable_run():
    from config import embedded as supervisor

    child = supervisor.Child("failing", [sys.executable, "-c", "raise SystemExit(3)"])
    delays = []
    for _ in range(supervisor.MAX_QUICK_FAILURES):
        child.start()
        child.proc.wait(timeout=30)
        now = time.monotonic()
        assert child.exited(now)
        assert not child.exited(now)  # reported once
        delays.append(child.restart_at - now)
    assert delays == [1, 2, 4, 8, 16, 30]
    assert child.quick_failures == supervisor.MAX_QUICK_FAILURES  # main() stops everything now

    child.start()
    child.proc.wait(timeout=30)
    later = child.started_at + supervisor.STABLE_SECONDS  # as if it had run for a while
    assert child.exited(later)
    assert child.restart_at - later == supervisor.BACKOFF_FIRST
    assert child.quick_failures == 0
