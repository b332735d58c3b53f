"""Outages of real components: a broker nobody listens on, a Redis and a PostgreSQL of the test's
own that it stops (never the machine's shared servers)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import require
from tests.servers import free_port


@pytest.fixture
def dead_broker(settings):
    """Celery's broker is a Redis URL on a port where nothing listens (connection refused)."""
    from config import broker
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app._pool = None
    app.amqp._producer_pool = None
    broker.reset()
    yield app.conf.broker_url
    app.conf.broker_url = previous
    app._pool = None
    app.amqp._producer_pool = None
    broker.reset()


class OwnRedis:
    """A redis-server of the test's own on a free port (never the machine's shared one)."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.pidfile = folder / "redis.pid"
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "yes",
                "--pidfile", str(self.pidfile), "--dir", str(self.folder),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @property
    def pid(self) -> int:
        return int(self.pidfile.read_text())

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is saved, the port refuses connections."""
        if not self.pidfile.exists():
            return
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)  # a killed redis leaves its pidfile behind
        deadline = time.monotonic() + 10
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            assert time.monotonic() < deadline, "redis-server did not die"
            time.sleep(0.05)


@pytest.fixture
def own_redis(tmp_path):
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        os.kill(server.pid, signal.SIGCONT)  # in case the test paused it
    server.kill()


@pytest.fixture
def redis_cache(own_redis, settings, monkeypatch):
    """The shared cache is the test's own Redis; an outage pauses cache use for 0.2 s only."""
    from config import cache

    monkeypatch.setattr(cache, "PAUSE_SECONDS", 0.2, raising=False)
    redis = {"BACKEND": "config.cache.RedisCache", "LOCATION": own_redis.url}
    settings.CACHES = {"default": redis, "shared": redis}  # as config/settings.py with REDIS_URL
    return own_redis


class OwnPostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, a free port, trust
    authentication on 127.0.0.1), started and stopped with pg_ctl; never the shared server.
    initdb refuses root: as root, the cluster belongs to the `postgres` user."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="em-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off -c shared_buffers=16MB"
        )
        log = str(self.folder / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """As in a crash: no checkpoint, clients cut off at once."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgres():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    require(bool(found), "PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = OwnPostgres(found[-1].parent)
    server.start()
    yield server
    server.remove()
