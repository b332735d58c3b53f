"""Real Prometheus Alertmanager (0.25, Debian's `prometheus-alertmanager`) against the live server.

One alert goes through both integrations of a service: Alertmanager's own webhook (v4 payload,
`/api/v1/integrations/alertmanager/<key>/`) and its PagerDuty receiver speaking Events API v2
(`/api/v1/integrations/events/v2/enqueue`). The alert must open exactly one incident per
integration, a repeat of the same notification must not open more, and resolving the alert in
Alertmanager must resolve both incidents.

The repeat comes from a second, unclustered Alertmanager with the same configuration: the usual
high-availability setup (Prometheus sends every alert to every Alertmanager) before the peers have
gossiped, where each of them notifies. A single Alertmanager never repeats within repeat_interval.

Alertmanager's own counters (`/metrics`) tell when a notification has been answered, so the test
waits for deliveries instead of sleeping, and fails if any notification was given up on.
"""

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections import defaultdict
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.db import connection

from incidents.models import Incident, State
from tests.conftest import require
from tests.factories import ServiceFactory

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
TIMEOUT = 20.0  # seconds for any one thing to happen; it normally takes about one
ALERTNAME = "KundenportalDown"
SUMMARY = "Kundenportal nicht erreichbar"
DESCRIPTION = "Login und Bestellungen schlagen seit zwei Minuten fehl (HTTP 503)."
INTEGRATIONS = ("webhook", "pagerduty")  # Alertmanager's names, as in its metrics

# Talk to Alertmanager directly, never through a proxy from the environment.
_HTTP = httpx.Client(trust_env=False, timeout=5.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alertmanager_config(*, base_url: str, webhook_key: str, routing_key: str) -> str:
    """Both receivers get every alert: the first child route continues to the second."""
    webhook_url = f"{base_url}/api/v1/integrations/alertmanager/{webhook_key}/"
    events_url = f"{base_url}/api/v1/integrations/events/v2/enqueue"
    # json.dumps quotes strings the way YAML reads them.
    return f"""\
global:
  resolve_timeout: 5m
route:
  receiver: escalation-webhook
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: escalation-webhook
      continue: true
    - receiver: escalation-events-v2
receivers:
  - name: escalation-webhook
    webhook_configs:
      - url: {json.dumps(webhook_url)}
        send_resolved: true
  - name: escalation-events-v2
    pagerduty_configs:
      - url: {json.dumps(events_url)}
        routing_key: {json.dumps(routing_key)}
        send_resolved: true
"""


class Alertmanager:
    """One Alertmanager process on a free port of 127.0.0.1, with its own storage and log file."""

    def __init__(self, workdir: Path, config: str, name: str):
        self.name = name
        self.workdir = workdir
        workdir.mkdir(parents=True)
        self.config_file = workdir / "alertmanager.yml"
        self.config_file.write_text(config)
        self.log_file = workdir / "alertmanager.log"
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        # A free port can be taken by someone else before Alertmanager binds it: try a few.
        for _attempt in range(3):
            port = _free_port()
            self.url = f"http://127.0.0.1:{port}"
            self._spawn(port)
            if self._wait_ready():
                return
            if self.process.poll() is not None and "address already in use" in self.log():
                continue
            break
        raise AssertionError(f"{self.name} did not become ready.\n{self.diagnostics()}")

    def _spawn(self, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    BINARY,
                    f"--config.file={self.config_file}",
                    f"--storage.path={self.workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    # Empty: no cluster; otherwise it also binds 0.0.0.0:9094 (see SERVICES.md).
                    "--cluster.listen-address=",
                    "--log.level=debug",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if _HTTP.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def post_alerts(self, alerts: list[dict]) -> None:
        response = _HTTP.post(f"{self.url}/api/v2/alerts", json=alerts)
        assert response.status_code == 200, f"{self.name} refused the alerts: {response.text}"

    def fingerprint(self, labels: dict) -> str:
        response = _HTTP.get(f"{self.url}/api/v2/alerts")
        assert response.status_code == 200, response.text
        for alert in response.json():
            if alert["labels"] == labels:
                return alert["fingerprint"]
        raise AssertionError(f"{self.name} does not know the alert {labels}: {response.text}")

    def metrics(self) -> dict[str, dict[str, float]]:
        """Notification counters by name and integration (summed over any other labels)."""
        try:
            response = _HTTP.get(f"{self.url}/metrics", timeout=2)
        except httpx.TransportError:
            return {}
        counters: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        if response.status_code != 200:
            return counters
        for name, labels, value in re.findall(
            r"^(alertmanager_notification\w*_total)\{([^}]*)\}\s+(\S+)$",
            response.text,
            flags=re.MULTILINE,
        ):
            integration = re.search(r'integration="([^"]*)"', labels)
            if integration:
                counters[name][integration.group(1)] += float(value)
        return counters

    def counts(self, kind: str = "notifications") -> dict[str, tuple[int, int]]:
        """Per integration (total, failed): kind "notifications" counts notifications, answered or
        given up on (failed: given up, after a 4xx or retries), "notification_requests" counts
        HTTP requests (failed: any error answer, including ones that were retried)."""
        counters = self.metrics()
        total = counters.get(f"alertmanager_{kind}_total", {})
        failed = counters.get(f"alertmanager_{kind}_failed_total", {})
        return {name: (int(total.get(name, 0)), int(failed.get(name, 0))) for name in INTEGRATIONS}

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def diagnostics(self, lines: int = 60) -> str:
        exit_code = None if self.process is None else self.process.poll()
        # Without the debug line per group flush (one a second), the rest fits.
        tail = "\n".join(
            [line for line in self.log().splitlines() if "msg=flushing" not in line][-lines:]
        )
        return (
            f"--- {self.name} at {self.url or '(not started)'}, exit code {exit_code}\n"
            f"notifications (total, failed): {self.counts()}\n"
            f"HTTP requests (total, failed): {self.counts('notification_requests')}\n"
            f"--- last {lines} lines of its log ({self.log_file}):\n{tail}\n"
        )


@pytest.fixture
def serialized_db(live_server):
    """A lock for database access while the live server runs.

    With SQLite in memory, the live server's request threads and this test share ONE connection
    (Django passes it to the server); Django warns that simultaneous queries through it fail at
    random. So, on SQLite in memory only, requests are handled one at a time under this lock and
    the test queries under it too. PostgreSQL gives every thread its own connection: no lock.
    """
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        yield nullcontext()
        return
    lock = threading.Lock()
    httpd = live_server.thread.httpd
    application = httpd.get_app()

    def serialized_application(environ, start_response):
        # Per request, not per connection: Alertmanager keeps its connections alive.
        with lock:
            result = application(environ, start_response)
            try:
                return list(result)  # the body, and request_finished, under the lock too
            finally:
                if hasattr(result, "close"):
                    result.close()

    httpd.set_app(serialized_application)
    try:
        yield lock
    finally:
        httpd.set_app(application)  # the live server outlives this test


@pytest.fixture
def alertmanagers(tmp_path, live_server, serialized_db, caplog):
    """Starts Alertmanagers with a given config; stops each one after the test, whatever happens.

    Depends on live_server so that every Alertmanager is stopped before the database is flushed.
    """
    require(
        Path(BINARY).is_file() and os.access(BINARY, os.X_OK),
        f"{BINARY} not found: apt-get install -y prometheus-alertmanager",
    )
    caplog.set_level(logging.WARNING, logger="httpx")  # not a line per /metrics poll
    started: list[Alertmanager] = []

    def start(config: str) -> Alertmanager:
        am = Alertmanager(
            tmp_path / f"am{len(started) + 1}", config, f"Alertmanager #{len(started) + 1}"
        )
        started.append(am)
        am.start()
        return am

    start.started = started
    try:
        yield start
    finally:
        for am in started:
            am.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_alertmanager_opens_dedups_and_resolves_incidents(
    live_server, alertmanagers, serialized_db
):
    from escalation.services.integrations import integration_create

    service = ServiceFactory(name="Kundenportal", slug="kundenportal")
    webhook = integration_create(kind="alertmanager", service=service, name="Alertmanager")
    events = integration_create(kind="events_v2", service=service, name="Alertmanager (Events v2)")
    config = alertmanager_config(
        base_url=live_server.url, webhook_key=webhook.key, routing_key=events.key
    )

    def incidents(**filters) -> list[Incident]:
        with serialized_db:
            return list(Incident.objects.filter(**filters).order_by("pk"))

    def diagnostics() -> str:
        try:
            with serialized_db:
                rows = [
                    f"  #{i.pk} source={i.source} state={i.state} dedup_key={i.dedup_key!r} "
                    f"title={i.title!r}"
                    for i in Incident.objects.order_by("pk")
                ]
        except Exception as error:  # diagnostics must not hide the failure
            rows = [f"  (could not read: {error!r})"]
        return (
            f"live server: {live_server.url}\nincidents in the database:\n"
            + ("\n".join(rows) or "  (none)")
            + "\n"
            + "".join(am.diagnostics() for am in alertmanagers.started)
            + f"--- Alertmanager config:\n{config}"
        )

    def wait_for(what: str, predicate):
        deadline = time.monotonic() + TIMEOUT
        while True:
            value = predicate()
            if value:
                return value
            for am in alertmanagers.started:
                given_up = {name: n for name, (_, n) in am.counts().items() if n}
                if given_up:  # no use waiting: the endpoint answered 4xx, or 5xx until timeout
                    raise AssertionError(
                        f"while waiting for {what}: {am.name} gave up on notifications "
                        f"{given_up} (diagnostics below)"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {TIMEOUT:.0f} s for {what} (diagnostics below)")
            time.sleep(0.1)

    def wait_delivered(am: Alertmanager, count: int) -> None:
        """Until `am` has sent `count` notifications through each integration, none given up."""
        wait_for(
            f"{am.name} to send {count} notification(s) to each receiver",
            lambda: all(total >= count for total, _ in am.counts().values()),
        )
        given_up = {name: n for name, (_, n) in am.counts().items() if n}
        assert not given_up, f"{am.name} gave up on notifications {given_up} (diagnostics below)"

    labels = {"alertname": ALERTNAME, "severity": "critical", "service": service.slug}
    annotations = {"summary": SUMMARY, "description": DESCRIPTION}
    starts_at = datetime.now(UTC)
    firing = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": _rfc3339(starts_at),
        "endsAt": _rfc3339(starts_at + timedelta(hours=1)),
        "generatorURL": "http://prometheus.invalid/graph?g0.expr=up%3D%3D0",
    }
    began = time.monotonic()
    timings = {}
    try:
        # 1. The alert fires: one incident per integration, on the integrations' service.
        primary = alertmanagers(config)
        primary.post_alerts([firing])
        fingerprint = primary.fingerprint(labels)
        wait_for("an incident with source 'alertmanager'", lambda: incidents(source="alertmanager"))
        wait_for("an incident with source 'events_v2'", lambda: incidents(source="events_v2"))
        wait_delivered(primary, 1)
        timings["fired"] = time.monotonic() - began

        # The two receivers notify in parallel: either incident may come first.
        from_webhook, from_events = incidents(source="alertmanager"), incidents(source="events_v2")
        assert len(from_webhook) == 1, f"webhook notification opened {len(from_webhook)} incidents"
        assert len(from_events) == 1, f"Events v2 notification opened {len(from_events)} incidents"
        from_webhook, from_events = from_webhook[0], from_events[0]
        assert from_webhook.dedup_key == f"am:{fingerprint}"
        assert from_events.dedup_key
        for incident in (from_webhook, from_events):
            assert SUMMARY in incident.title or ALERTNAME in incident.title, incident.title
            assert incident.state != State.RESOLVED
            with serialized_db:
                assert list(incident.services.all()) == [service], incident.source

        # 2. A second Alertmanager (an HA peer that has not gossiped) sends the same notifications
        #    again: they are repeats, not new incidents.
        mark = time.monotonic()
        peer = alertmanagers(config)
        peer.post_alerts([firing])
        wait_delivered(peer, 1)
        assert {i.pk for i in incidents()} == {from_webhook.pk, from_events.pk}, "repeats opened"
        timings["repeated"] = time.monotonic() - mark

        # 3. The alert is resolved (endsAt now): both incidents are resolved.
        mark = time.monotonic()
        resolved = {**firing, "endsAt": _rfc3339(datetime.now(UTC))}
        primary.post_alerts([resolved])

        def both_resolved() -> bool:
            with serialized_db:
                states = set(
                    Incident.objects.filter(pk__in=[from_webhook.pk, from_events.pk]).values_list(
                        "state", flat=True
                    )
                )
            return states == {State.RESOLVED}

        wait_for("both incidents to be resolved", both_resolved)
        wait_delivered(primary, 2)
        timings["resolved"] = time.monotonic() - mark

        # ...and the peer's resolve notifications are repeats too: answered, nothing reopened
        # or opened.
        mark = time.monotonic()
        peer.post_alerts([resolved])
        wait_delivered(peer, 2)
        assert {i.pk for i in incidents()} == {from_webhook.pk, from_events.pk}, "resolve opened"
        assert both_resolved(), "a repeated resolve changed the incidents"
        timings["resolve repeated"] = time.monotonic() - mark
        print(", ".join(f"{phase} in {seconds:.1f} s" for phase, seconds in timings.items()))
    except BaseException:
        print(f"=== diagnostics\n{diagnostics()}")
        raise
