"""Start web, Celery worker and Celery beat together for the embedded default (`make run`).

Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too, so the
user never keeps a half-running system.
"""

import os
import signal
import subprocess  # this app's own processes # nosec B404
import sys
import time


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    python = sys.executable
    commands = {
        "web": [python, "manage.py", "runserver", "--noreload", f"{host}:{port}"],
        # One process runs worker and beat (-B): fine for one machine; production runs them apart.
        "worker+beat": [
            python, "-m", "celery", "-A", "config", "worker", "--beat",
            "--loglevel=info", "--concurrency=2",
        ],
    }  # fmt: skip
    procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603 (own argv) # nosec B603
    print(
        f"\nEscalation Manager is starting at http://{host}:{port}/ "
        "(web, Celery worker and Celery beat). Ctrl-C stops all three.\n",
        flush=True,
    )
    stopping = False

    def stop(signum=None, frame=None):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(proc.poll() is None for proc in procs.values()):
            time.sleep(0.5)
    finally:
        for name, proc in procs.items():
            if proc.poll() is not None and not stopping:
                print(f"{name} exited with {proc.returncode}; stopping the others.", flush=True)
        stop()
        deadline = time.monotonic() + 20
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
