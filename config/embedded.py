"""Start and supervise the embedded default (`make run`): the web server, a Celery worker for the
default queue, one for the pages queue, one for the clocks queue, and Celery beat, each as its own
process.

A child that exits is started again after a backoff (1 s, doubling up to 30 s; logged), so a
crashed worker or beat never stops paging and never takes the web server down with it. A child
that keeps failing right after its start (MAX_QUICK_FAILURES times in a row, e.g. the port is
taken) stops everything with a message: that needs a person. Ctrl-C (or SIGTERM) stops all.
"""

import os
import signal
import subprocess  # this app's own processes # nosec B404
import sys
import time
from dataclasses import dataclass, field

BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
# A child that ran this long before exiting was working: its next restart starts the backoff anew.
STABLE_SECONDS = 30.0
MAX_QUICK_FAILURES = 6
STOP_GRACE_SECONDS = 20.0


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} embedded: {message}", file=sys.stderr, flush=True)


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    quick_failures: int = 0
    restarts: int = field(default=0)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv)  # noqa: S603 # nosec B603 (our own argv)
        self.started_at, self.restart_at = time.monotonic(), None
        log(f"started {self.name} (pid {self.proc.pid})")

    def exited(self, now: float) -> bool:
        """Whether the child has just been found dead; schedules its restart."""
        if self.proc is None or self.restart_at is not None or self.proc.poll() is None:
            return False
        ran = now - self.started_at
        self.quick_failures = 0 if ran >= STABLE_SECONDS else self.quick_failures + 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, self.quick_failures - 1))
        self.restart_at = now + delay
        self.restarts += 1
        log(
            f"{self.name} (pid {self.proc.pid}) exited with {self.proc.returncode} after "
            f"{ran:.0f} s; restarting it in {delay:.0f} s (restart {self.restarts})"
        )
        return True


def children(host: str, port: str) -> list[Child]:
    from django.conf import settings  # after DJANGO_SETTINGS_MODULE is set

    celery = [sys.executable, "-m", "celery", "-A", "config"]
    return [
        Child("web", [sys.executable, "manage.py", "runserver", "--noreload", f"{host}:{port}"]),
        # The default queue: subscriber and customer mail, webhooks, digests, status page renders.
        Child("worker", [
            *celery, "worker", "--loglevel=info", "--concurrency=2", "-n", "default@%h",
            "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
        ]),
        # Pages (and the outbox sweep): never behind other mail, never behind the clock tick.
        Child("worker-pages", [
            *celery, "worker", "--loglevel=info", "--concurrency=2", "-n", "pages@%h",
            "-Q", settings.CELERY_PAGES_QUEUE,
        ]),
        # The clock tick: classifies and escalates (what starts paging), however long a storm's
        # tick takes, while the pages worker sends the pages it makes. One process: SQLite takes
        # one writer at a time anyway.
        Child("worker-clocks", [
            *celery, "worker", "--loglevel=info", "--concurrency=1", "-n", "clocks@%h",
            "-Q", settings.CELERY_CLOCKS_QUEUE,
        ]),
        Child("beat", [*celery, "beat", "--loglevel=info"]),
    ]  # fmt: skip


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    procs = children(host, port)
    stopping = False

    def stop(signum=None, frame=None):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for child in procs:
        child.start()
    print(
        f"\nEscalation Manager is starting at http://{host}:{port}/ (web, three Celery "
        "workers and Celery beat; a crashed one is restarted). Ctrl-C stops all.\n",
        flush=True,
    )
    failed = None
    while not stopping:
        now = time.monotonic()
        for child in procs:
            if child.exited(now) and child.quick_failures >= MAX_QUICK_FAILURES:
                failed = child
            elif child.restart_at is not None and now >= child.restart_at and failed is None:
                child.start()
        if failed is not None:
            log(
                f"{failed.name} failed {failed.quick_failures} times right after starting; stopping"
            )
            break
        time.sleep(0.3)
    log("stopping web, workers and beat")
    for child in procs:
        if child.proc is not None and child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in procs:
        if child.proc is None:
            continue
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{child.name} did not stop within {STOP_GRACE_SECONDS:.0f} s; killing it")
            child.proc.kill()
            child.proc.wait()
    return 1 if failed is not None else 0


if __name__ == "__main__":
    sys.exit(main())
