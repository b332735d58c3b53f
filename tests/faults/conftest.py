"""The fault-injection suite's own servers: a PostgreSQL and a Redis started for it (never the
machine's shared ones: they are killed), the web server, two Celery workers and beat as separate
processes, restarted by a small supervisor when they die (as docker-compose's restart policy does).

The suite runs only when asked for: `pytest -m faults tests/faults` (CI runs it as its own step);
a plain `pytest` / `make test` deselects it. Without PostgreSQL's server binaries or redis-server
it skips (fails with CI=true).
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
FIGURES: list[str] = []  # printed at the end of the run (time to recover after each fault, ...)


def figure(line: str) -> None:
    FIGURES.append(line)
    print(f"[faults] {line}", flush=True)


def pytest_collection_modifyitems(config, items):
    if "faults" in (config.option.markexpr or ""):
        return  # asked for (`-m faults`) or explicitly excluded: the expression decides
    keep = [item for item in items if not item.get_closest_marker("faults")]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i.get_closest_marker("faults")])
        items[:] = keep


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if FIGURES:
        terminalreporter.section("fault injection: figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(what: str, check, timeout: float = 60, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            result = check()
            if result:
                return result
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


class Postgres:
    """A PostgreSQL cluster of the suite's own, in a temporary folder, on a free port.

    initdb refuses to run as root, so as root the cluster belongs to a system user of its own.
    fsync is off: `stop -m immediate` kills the server the way a crash does, but the machine
    keeps its page cache, so nothing committed is lost and the test stays fast.
    """

    USER = "emfaults"

    def __init__(self, root: Path):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bin = Path(found[-1]).parent if found else None
        self.dir = root / "pg"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/em"

    def _as_owner(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.USER, "--", *argv] if os.geteuid() == 0 else list(argv)

    def init(self) -> None:
        if os.geteuid() == 0:
            exists = subprocess.run(["id", "-u", self.USER], capture_output=True).returncode == 0
            if not exists:
                subprocess.run(["useradd", "--system", "--no-create-home", self.USER], check=True)
        self.dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, self.USER)
        subprocess.run(
            self._as_owner(str(self.bin / "initdb"), "-D", str(self.dir), "-U", "postgres",
                           "--auth=trust", "--no-sync"),
            check=True, capture_output=True,
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.dir), "-l",
                           str(self.dir / "server.log"), "-o", options, "-w", "-t", "60", "start"),
            check=True, capture_output=True,
        )  # fmt: skip

    def _stop(self, mode: str) -> subprocess.CompletedProcess:
        pg_ctl = str(self.bin / "pg_ctl")
        return subprocess.run(
            self._as_owner(pg_ctl, "-D", str(self.dir), "-m", mode, "stop"), capture_output=True
        )

    def crash(self) -> None:
        """Stop at once, without a checkpoint: a crash, recovered from the WAL at the next start."""
        assert self._stop("immediate").returncode == 0

    def stop(self) -> None:
        self._stop("fast")

    def connect(self, dbname: str = "em"):
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, connect_timeout=3
        )
        connection.autocommit = True
        return connection

    def query(self, sql: str, params=()) -> list[tuple]:
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


class Redis:
    def __init__(self, root: Path):
        self.binary = shutil.which("redis-server")
        self.root = root
        self.port = free_port()
        self.pidfile = root / "redis.pid"
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.pidfile.unlink(missing_ok=True)
        subprocess.run(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(self.pidfile),
             "--dir", str(self.root), "--logfile", str(self.root / "redis.log")],
            check=True,
        )  # fmt: skip
        wait_for("redis up", lambda: port_open(self.port), 20)

    def kill(self) -> None:
        pid = int(wait_for("redis pidfile", lambda: self.pidfile.read_text().strip(), 10))
        os.kill(pid, signal.SIGKILL)
        wait_for("redis gone", lambda: not port_open(self.port), 10)


class Proc:
    """One program of the product (web, a worker, beat) in its own process group, so SIGKILL of
    the group also takes a worker's children. The supervisor restarts it when it dies."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None
        self.restarts = 0
        self.crashes = 0  # exits nobody caused (an intentional SIGKILL is not counted)
        self.killed = False

    def start(self) -> None:
        with self.log.open("a") as out:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


class Supervisor(threading.Thread):
    """Restarts a program that died, one second later (docker-compose: restart: unless-stopped)."""

    def __init__(self, procs: list[Proc]):
        super().__init__(daemon=True)
        self.procs = procs
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.2):
            for proc in self.procs:
                if proc.popen.poll() is None:
                    continue
                if not proc.killed:
                    proc.crashes += 1
                    print(f"[faults] {proc.name} exited with {proc.popen.returncode}; restarting",
                          flush=True)  # fmt: skip
                time.sleep(1)
                proc.killed = False
                proc.restarts += 1
                proc.start()


class Cluster:
    def __init__(self, root: Path, receiver_secret: str):
        self.root = root
        self.pg = Postgres(root)
        self.redis = Redis(root)
        self.web_port = free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        var = root / "var"
        var.mkdir()
        keep = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env = {
            **keep,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis.url,
            "VAR_DIR": str(var),
            "SECRET_KEY": f"faults-{uuid.uuid4().hex}",
            "WEBHOOK_SECRET": receiver_secret,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(var / "mail"),
            "API_RATE": "100000/min",
            # Short periods, so that the suite takes minutes; the figures scale with them.
            "CLOCK_TICK_SECONDS": "1",
            "CLOCK_CLAIM_TIMEOUT_SECONDS": os.environ.get("FAULTS_LEASE_SECONDS", "10"),
            "NOTIFICATION_LEASE_SECONDS": os.environ.get("FAULTS_LEASE_SECONDS", "10"),
            "NOTIFICATION_SWEEP_SECONDS": "2",
            "NOTIFICATION_REQUEUE_AFTER_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
            "OUTBOUND_ALLOW_NETWORKS": "127.0.0.0/8,::1/128",  # the receivers run on loopback
        }
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "config"]
        worker = ["worker", "--loglevel=warning", "--pool=threads", "--concurrency=4",
                  "--without-mingle", "--without-gossip"]  # fmt: skip
        self.web = Proc(
            "web",
            [python, "-m", "gunicorn", "config.wsgi:application", "--bind",
             f"127.0.0.1:{self.web_port}", "--workers", "2", "--timeout", "30"],
            self.env, root / "web.log",
        )  # fmt: skip
        self.workers = [
            Proc(f"worker{i}", [*celery, *worker, "-n", f"faults{i}@%h"], self.env,
                 root / f"worker{i}.log")
            for i in (1, 2)
        ]  # fmt: skip
        self.beat = Proc(
            "beat", [*celery, "beat", "--loglevel=warning", "-s", str(var / "beat-schedule")],
            self.env, root / "beat.log",
        )  # fmt: skip
        self.procs = [self.web, *self.workers, self.beat]
        self.supervisor = Supervisor(self.procs)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def app(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "tests/faults/app.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        self.pg.init()
        self.pg.start()
        with contextlib.closing(self.pg.connect("postgres")) as connection:
            connection.cursor().execute("CREATE DATABASE em")
        self.redis.start()
        self.manage("migrate", "-v0")

    def run_programs(self) -> None:
        for proc in self.procs:
            proc.start()
        self.supervisor.start()
        wait_for("web up", lambda: port_open(self.web_port), 60)

    def logs(self) -> str:
        tails = []
        for path in sorted(self.root.glob("*.log")):
            tails.append(f"--- {path.name}\n" + "\n".join(path.read_text().splitlines()[-30:]))
        return "\n".join(tails)

    def close(self) -> None:
        self.supervisor.stopping.set()
        for proc in self.procs:
            if proc.popen:
                proc.stop()
        with contextlib.suppress(Exception):
            self.redis.kill()
        self.pg.stop()


@pytest.fixture(scope="module")
def cluster():
    require(
        bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")) and bool(shutil.which("redis-server")),
        "the fault suite needs PostgreSQL's server binaries and redis-server",
    )
    root = Path(tempfile.mkdtemp(prefix="em-faults-"))
    root.chmod(0o755)  # the PostgreSQL user must reach its data folder
    cluster = Cluster(root, receiver_secret=f"whsec-faults-{uuid.uuid4().hex}")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
        if os.environ.get("FAULTS_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)
