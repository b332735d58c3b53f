"""Outages of real components: a broker nobody listens on, a Redis and a PostgreSQL of the test's
own that it stops (never the machine's shared servers)."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
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
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": own_redis.url}}
    return own_redis
