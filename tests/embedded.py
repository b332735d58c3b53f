"""`make run`'s supervisor as a test component: `python -m config.embedded` on a free port, with its
own VAR_DIR (SQLite, file-system broker), started and read like any other real server."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 90.0


class Embedded:
    """`python -m config.embedded` on a free port with a migrated database in its own VAR_DIR."""

    def __init__(self, var: Path, **env: str):
        self.var, self.port = var, free_port()
        self.log_file = var.parent / "embedded.log"
        self.env = {
            k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PORT"}
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(var), PORT=str(self.port),
            PYTHONUNBUFFERED="1", DEBUG="false", **env,
        )  # fmt: skip
        self.proc: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout

    def start(self) -> None:
        with self.log_file.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "config.embedded"], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def pids(self, name: str) -> list[int]:
        return [int(p) for p in re.findall(rf"started {re.escape(name)} \(pid (\d+)\)", self.log())]

    def wait_for(self, what: str, check, timeout: float = TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            assert self.proc.poll() is None, f"supervisor exited while waiting for {what}"
            time.sleep(0.3)
        raise AssertionError(f"no {what} within {timeout:.0f} s:\n{self.log()[-5000:]}")

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:  # noqa: S310
                return r.status
        except OSError:
            return 0

    def ready(self) -> bool:
        text = self.log()
        return (
            self.get("/healthz") == 200
            and re.search(r"default@\S+ ready", text) is not None
            and re.search(r"pages@\S+ ready", text) is not None
            and re.search(r"clocks@\S+ ready", text) is not None
            and "beat: Starting" in text
        )

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
