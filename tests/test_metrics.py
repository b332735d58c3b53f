"""/metrics (Prometheus) and /healthz: who may read the figures, what they say, what they cost, and
the example alert rules shipped in config/prometheus/ (checked by promtool when it is installed)."""

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from escalation.models import Clock, Page
from escalation.services import incident_classify
from incidents.heartbeats import heartbeat_record
from notifications.models import Notification
from notifications.services import notification_enqueue
from tests.conftest import require
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "config" / "prometheus" / "alerts.yml"


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- who may read ---------------------------------------------------------------------------------


def test_metrics_answer_allowed_networks_and_the_token_only(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 200  # 127.0.0.1: allowed by default
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", **outside).status_code == 404
    wrong = {"HTTP_AUTHORIZATION": "Bearer guess"}
    assert client.get("/metrics", **outside, **wrong).status_code == 404
    token = {"HTTP_AUTHORIZATION": "Bearer s3cret-scrape-token"}
    assert client.get("/metrics", **outside, **token).status_code == 200
    assert client.post("/metrics").status_code == 405


def test_no_token_configured_means_no_token_opens_it(client, settings):
    settings.METRICS_TOKEN = ""
    header = {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer "}
    assert client.get("/metrics", **header).status_code == 404


def test_configured_networks_are_allowed(client, settings):
    from config import metrics

    settings.METRICS_ALLOW_NETWORKS = ["10.0.0.0/8"]
    metrics._networks.cache_clear()
    try:
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics").status_code == 404  # loopback is no longer listed
    finally:
        metrics._networks.cache_clear()


# --- what they say --------------------------------------------------------------------------------


def test_database_figures(client, manager, django_assert_max_num_queries):
    now = timezone.now()
    incident = incident_classify(
        incident=IncidentFactory(), actor=manager, impact="high", urgency="high"
    )
    assert Page.objects.exists()
    Notification.objects.filter(template="page").update(status="dead")
    for n in range(2):
        notification_enqueue(
            channel="webhook",
            address=f"http://127.0.0.1:9/{n}",
            template="incident_event",
            context={},
            dedup_key=f"m-{n}",
        )
    Notification.objects.filter(dedup_key="m-0").update(created_at=now - timedelta(minutes=10))
    notification_enqueue(
        channel="webhook", address="http://x/", template="t", context={}, dedup_key="f"
    )
    Notification.objects.filter(dedup_key="f").update(
        status="failed", created_at=now - timedelta(hours=2)
    )
    Clock.objects.create(
        incident=incident, kind=Clock.Kind.UPDATE_DUE, due_at=now - timedelta(seconds=90), key="x"
    )
    heartbeat_record(name="worker", at=now - timedelta(seconds=30))
    with django_assert_max_num_queries(4):  # outbox, clocks, pages, heartbeats
        samples = scrape(client)
    assert value(samples, "escalation_database_up") == 1
    pending = Notification.objects.filter(status="pending").count()
    assert value(samples, "escalation_outbox_messages", status="pending") == pending >= 2
    dead = Notification.objects.filter(status="dead").count()
    assert value(samples, "escalation_outbox_messages", status="dead") == dead >= 1
    assert 590 < value(samples, "escalation_outbox_oldest_pending_age_seconds") < 700
    assert 7190 < value(samples, "escalation_outbox_oldest_failed_age_seconds") < 7300
    assert value(samples, "escalation_outbox_messages", status="failed") == 1
    assert 85 < value(samples, "escalation_clock_lateness_seconds") < 200
    assert value(samples, "escalation_clocks_overdue") >= 1
    assert value(samples, "escalation_pages_total") >= Page.objects.count()
    assert 25 < value(samples, "escalation_heartbeat_age_seconds", process="worker") < 100
    assert value(samples, "escalation_heartbeat_age_seconds", process="beat") == float("inf")


def test_requests_are_counted_and_timed_per_surface(client):
    before = scrape(client)
    assert client.get("/status/").status_code == 200
    assert client.get("/console/").status_code == 302
    assert client.get("/api/v1/incidents/").status_code in (401, 403)
    after = scrape(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("escalation_http_requests_total", surface="status", status="200") == 1
    assert grew("escalation_http_requests_total", surface="console", status="302") == 1
    assert grew("escalation_http_request_duration_seconds_count", surface="api") == 1
    assert grew("escalation_http_requests_total", surface="ops", status="200") == 1  # a scrape


def test_accepted_ingest_requests_are_counted(client):
    from escalation.models import Integration
    from escalation.services.integrations import integration_create
    from tests.factories import ServiceFactory

    key = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(slug="db"), name="Zabbix"
    ).key
    before = scrape(client)
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "d-1",
        "payload": {"summary": "Disk", "source": "db01", "severity": "info"},
    }
    for _ in range(2):  # a new incident, then a repeat (the short cut)
        response = client.post(
            "/api/v1/integrations/events/v2/enqueue", event, content_type="application/json"
        )
        assert response.status_code == 202
    after = scrape(client)
    name = "escalation_events_ingested_total"
    assert (
        value(after, name, integration="events_v2") - value(before, name, integration="events_v2")
        == 2
    )


# --- /healthz -------------------------------------------------------------------------------------


def test_healthz_is_503_while_a_heartbeat_is_stale_or_missing(client, settings):
    settings.HEARTBEAT_STALE_SECONDS = 180
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["stale"] == ["worker", "worker-pages", "worker-clocks", "beat"]
    now = timezone.now()
    heartbeat_record(name="worker", at=now - timedelta(seconds=20))
    heartbeat_record(name="worker-pages", at=now - timedelta(seconds=20))
    heartbeat_record(name="worker-clocks", at=now - timedelta(seconds=20))
    heartbeat_record(name="beat", at=now - timedelta(seconds=400))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["stale"] == ["beat"]
    heartbeat_record(name="beat", at=now)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"
    assert 15 < response.json()["worker_heartbeat_age_seconds"] < 100
    settings.HEARTBEAT_STALE_SECONDS = 0  # not checked
    heartbeat_record(name="beat", at=now - timedelta(days=1))
    assert client.get("/healthz").status_code == 200


# --- the example alert rules ----------------------------------------------------------------------


def test_the_alert_rules_parse_and_cover_the_figures():
    rules = yaml.safe_load(RULES.read_text())
    groups = {group["name"]: group["rules"] for group in rules["groups"]}
    assert set(groups) == {"escalation-manager"}
    alerts = {rule["alert"]: rule for rule in groups["escalation-manager"]}
    text = RULES.read_text()
    for metric in (
        "escalation_heartbeat_age_seconds",
        "escalation_outbox_oldest_pending_age_seconds",
        "escalation_outbox_messages",
        "escalation_clock_lateness_seconds",
        "escalation_database_up",
        "escalation_http_requests_total",
        "escalation_http_request_duration_seconds_bucket",
    ):
        assert metric in text, metric
    for alert in alerts.values():
        assert alert["expr"] and alert["labels"]["severity"] in ("page", "ticket")
        assert alert["annotations"]["summary"]


def test_promtool_accepts_the_alert_rules():
    promtool = shutil.which("promtool")
    require(promtool is not None, "promtool is not installed (Debian package prometheus)")
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
