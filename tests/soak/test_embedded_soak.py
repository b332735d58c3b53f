"""Soak: the embedded default (`make run`: web, two workers and beat under config/embedded.py,
SQLite and the file-system broker) under a steady load of alerts for SOAK_SECONDS. Asserts no child
crashed, the web answered every request throughout, every alert became an incident, and every
message the load caused (pages by email, outbound incident webhooks) arrived through its first
hand-off: the outbox sweep's re-queueing is switched off, so a message lost by the broker shows.

Runs as its own CI step (`.ci/run`: SOAK_SECONDS=60); skipped in `make test` without SOAK_SECONDS.
"""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.embedded import Embedded
from tests.servers import SMTPRecorder, free_port

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS") or 0)
ALERTS_PER_SECOND = 2.0
HOOKS = 3  # outbound webhooks, each gets every incident event
DRAIN_SECONDS = 90.0
UNFINISHED = ("pending", "sending", "failed")  # "cancelled": pages of an alert that cleared

pytestmark = pytest.mark.skipif(
    not SOAK_SECONDS, reason="the soak runs as its own CI step: SOAK_SECONDS=60 pytest tests/soak"
)

SETUP = """
from escalation.models import EventWebhook, Integration
from incidents.models import Service
service = Service.objects.order_by("pk").first()
integration = Integration.objects.create(name="soak", kind="events_v2", service=service)
for n in range({hooks}):
    EventWebhook.objects.create(name=f"soak {{n}}", url="{url}")
print("KEY", integration.key)
"""

COUNTS = """
import json
from django.db.models import Count
from incidents.models import Incident
from notifications.models import Notification
rows = Notification.objects.values_list("channel", "status").annotate(n=Count("pk"))
print("COUNTS", json.dumps({
    "incidents": Incident.objects.filter(dedup_key__startswith="soak-").count(),
    "notifications": [[c, s, n] for c, s, n in rows],
}))
"""


class Receiver:
    """Outbound webhooks: every delivery id it was sent (repeats included)."""

    def __init__(self):
        self.ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.ids.append(self.headers.get("X-Escalation-Delivery", ""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def counts(app: Embedded) -> dict:
    out = app.manage("shell", "-c", COUNTS)
    return json.loads(out.split("COUNTS", 1)[1])


def test_the_embedded_default_stays_up_and_loses_nothing_under_load(tmp_path):
    receiver, smtp = Receiver(), SMTPRecorder()
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    controller.start()
    app = Embedded(
        tmp_path / "var",
        EMAIL_BACKEND="notifications.mail.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(controller.port),
        OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8",  # the receivers are on loopback
        NOTIFICATION_REQUEUE_AFTER_SECONDS="86400",  # no sweep to hide a lost hand-off
    )
    app.manage("migrate", "--noinput")
    app.manage("load_demo")
    key = app.manage("shell", "-c", SETUP.format(hooks=HOOKS, url=receiver.url)).split("KEY")[1]
    app.start()
    web_failures: list[str] = []
    ingest_failures: list[str] = []
    stop = threading.Event()
    try:
        app.wait_for("web, workers and beat", app.ready)
        base = f"http://127.0.0.1:{app.port}"

        def watch_web():
            with httpx.Client(base_url=base, trust_env=False, timeout=10) as http:
                while not stop.wait(0.5):
                    for path in ("/healthz", "/status/"):
                        try:
                            status = http.get(path).status_code
                        except httpx.HTTPError as exc:
                            status = repr(exc)
                        if status != 200:
                            web_failures.append(f"{time.strftime('%T')} {path} {status}")

        watcher = threading.Thread(target=watch_web, daemon=True)
        watcher.start()
        alerts = 0
        ingest = f"{base}/api/v1/integrations/events/v2/enqueue"
        with httpx.Client(trust_env=False, timeout=30) as http:
            end = time.monotonic() + SOAK_SECONDS
            while time.monotonic() < end:
                alerts += 1
                events = [("trigger", alerts, "critical" if alerts % 2 else "warning")]
                if alerts > 4 and alerts % 3 == 0:  # some alerts clear: paging stops
                    events.append(("resolve", alerts - 4, "critical"))
                for action, n, severity in events:
                    body = {
                        "routing_key": key.strip(),
                        "event_action": action,
                        "dedup_key": f"soak-{n}",
                        "payload": {"summary": f"Soak {n}", "source": "soak", "severity": severity},
                    }
                    try:
                        status = http.post(ingest, json=body).status_code
                    except httpx.HTTPError as exc:
                        status = repr(exc)
                    if status != 202:
                        ingest_failures.append(f"{action} {n}: {status}")
                time.sleep(1 / ALERTS_PER_SECOND)
        stop.set()
        watcher.join(timeout=15)

        # Drain: every message sent through its first hand-off (the sweep cannot help here).
        deadline = time.monotonic() + DRAIN_SECONDS
        while True:
            state = counts(app)
            waiting = sum(n for _c, s, n in state["notifications"] if s in UNFINISHED)
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(3)
        log = app.log()
        assert "exited with" not in log, log[-5000:]  # no child crashed or was restarted
        assert "Unrecoverable error" not in log
        assert not (tmp_path / "var" / "celery" / "bad").exists() or not os.listdir(
            tmp_path / "var" / "celery" / "bad"
        )
        assert web_failures == []
        assert ingest_failures == []
        assert state["incidents"] == alerts
        assert waiting == 0, state
        assert not [row for row in state["notifications"] if row[1] == "dead"], state
        sent = {c: n for c, s, n in state["notifications"] if s == "sent"}
        assert sent.get("webhook", 0) >= alerts * HOOKS  # at least "created" for each
        assert len(set(receiver.ids)) == sent["webhook"]
        assert len({m["Message-ID"] for m in smtp.messages}) == sent.get("email", 0) > 0
        print(
            f"\nsoak: {SOAK_SECONDS:.0f} s, {alerts} alerts, {sent.get('webhook', 0)} webhooks, "
            f"{sent.get('email', 0)} emails (pages), web checks all 200, no child restarted"
        )
    finally:
        stop.set()
        if app.proc is not None and app.proc.poll() is None:
            app.stop()
        controller.stop()
        receiver.server.shutdown()
