"""A worker killed with SIGKILL mid-batch costs seconds and repeats at most the message in flight.

Real processes against a real receiver on 127.0.0.1 that verifies signatures and counts delivery
ids: a worker process (tests/notifications/outbox_worker.py, running the deliver_batch task's
body) sends a batch; the receiver holds one request open and the test kills the worker while that
POST is in flight. A second process then recovers as the beat sweep and another worker would.
Every message must arrive, only the one in flight may arrive twice (with one delivery id), and
recovery takes seconds, not the two minutes of the old 120 s lease.

The worker processes need a database of their own (the test run's SQLite database lives in memory):
a fresh SQLite file, or on PostgreSQL runs a fresh database beside the test database.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.servers import Receiver, start_receiver

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "notifications" / "outbox_worker.py"
SECRET = "whsec-crash-test"
COUNT, BATCH, IN_FLIGHT = 40, 30, 12  # the worker is killed during the 12th POST of its batch


@pytest.fixture
def worker_database(tmp_path):
    """A migrated database the worker processes share; its URL."""
    if connection.vendor == "postgresql":
        import psycopg2

        params = connection.settings_dict
        name = f"{params['NAME']}_crash_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(
            dbname="postgres",
            user=params["USER"],
            password=params["PASSWORD"],
            host=params["HOST"],
            port=params["PORT"] or 5432,
        )
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
        url = f"postgres://{auth}@{params['HOST']}:{params['PORT'] or 5432}/{name}"
    else:
        url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    env = _env(tmp_path, url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    yield url
    if connection.vendor == "postgresql":
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _env(tmp_path: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # broker: a folder of its own
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "VAR_DIR": str(tmp_path / "var"),
        "WEBHOOK_SECRET": SECRET,
        # short leases, so that the test takes seconds; the defaults are 30 s
        "NOTIFICATION_LEASE_SECONDS": "3",
        "NOTIFICATION_REQUEUE_AFTER_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        "OUTBOUND_ALLOW_NETWORKS": "127.0.0.0/8,::1/128",  # the receiver runs on loopback
    }


def _run(env: dict, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_worker_killed_mid_batch_repeats_only_the_message_in_flight(worker_database, tmp_path):
    receiver = Receiver([SECRET], use_settings=False)
    in_flight = threading.Event()
    receiver.hold = (IN_FLIGHT, in_flight)
    server = start_receiver(receiver)
    env = _env(tmp_path, worker_database)
    try:
        ids = json.loads(_run(env, "seed", str(COUNT), f"{receiver.url}/hook"))
        worker = subprocess.Popen(
            [sys.executable, str(SCRIPT), "deliver", *map(str, ids[:BATCH])],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while len(receiver.requests) < IN_FLIGHT:
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.monotonic() < deadline, "the worker never reached the held request"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)  # ... while its 12th POST waits for an answer
        worker.wait(timeout=10)
        killed = time.monotonic()
        in_flight.set()

        _run(env, "recover", "60")
        recovery = time.monotonic() - killed
    finally:
        in_flight.set()
        server.shutdown()
        server.server_close()

    print(f"\nrecovered {COUNT} messages {recovery:.1f} s after the kill")
    assert len(receiver.deliveries) == COUNT  # nothing lost
    assert receiver.duplicates() <= 1  # at most the message in flight, with its one delivery id
    assert not receiver.rejected
    assert recovery < 20  # seconds (lease 3 s here), not minutes


def test_a_body_cut_short_is_rejected_and_the_real_message_still_counts(http_receiver, settings):
    """A sender killed mid-POST leaves a body cut short that carries the delivery id. A receiver
    that recorded the id first would drop the real message as a repeat; ours verifies first."""
    import socket

    from notifications.transports.base import Message
    from notifications.transports.webhook import WebhookTransport, signature

    delivery_id = str(uuid.uuid4())
    body = json.dumps({"event": "page", "title": "Kundenportal down"}).encode()
    timestamp = str(int(time.time()))
    head = (
        "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Escalation-Delivery: {delivery_id}\r\n"
        f"X-Escalation-Timestamp: {timestamp}\r\n"
        f"X-Escalation-Signature: {signature(settings.WEBHOOK_SECRET, timestamp, body)}\r\n\r\n"
    )
    port = int(http_receiver.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head.encode() + body[: len(body) // 2])  # ... and the sender dies
    deadline = time.monotonic() + 10
    while not http_receiver.rejected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(http_receiver.rejected) == 1
    assert delivery_id not in http_receiver.deliveries

    WebhookTransport().send(
        Message(
            delivery_id=delivery_id,
            address=f"{http_receiver.url}/hook",
            language="en",
            subject="",
            text="",
            payload={"event": "page", "title": "Kundenportal down"},
        )
    )
    assert http_receiver.deliveries[delivery_id] == 1  # the real message is not taken for a repeat


@pytest.mark.django_db
def test_a_worker_renews_the_lease_of_the_rows_it_holds(settings, http_receiver, monkeypatch):
    """Six slow sends outlast a 1 s lease; the rows still waiting in the worker's hands are
    renewed meanwhile, so the sweep never takes them for a dead worker's."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from notifications import services
    from notifications.models import Notification

    settings.NOTIFICATION_LEASE_SECONDS = 1
    http_receiver.delay = 0.4
    http_receiver.secrets.append("whsec_lease")
    with transaction.atomic():
        ids = [
            services.notification_enqueue(
                dedup_key=f"lease:{i}",
                channel="webhook",
                address=f"{http_receiver.url}/hook",
                template="page",
                context={"title": f"Lease {i}"},
                signing_secret="whsec_lease",
            )[0].pk
            for i in range(6)
        ]
    stale_seen, send = [], services._send

    def checking(notification):
        lease_over = timezone.now() - timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
        held = Notification.objects.filter(status="sending", sending_since__lt=lease_over)
        stale_seen.append(held.count())
        return send(notification)

    monkeypatch.setattr(services, "_send", checking)
    started = time.monotonic()
    outcomes = services.notifications_deliver(ids=ids)
    assert [o.status for o in outcomes] == ["sent"] * 6
    assert time.monotonic() - started > 2 * settings.NOTIFICATION_LEASE_SECONDS
    assert stale_seen == [0] * 6
