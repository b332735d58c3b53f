"""A Redis outage slows the product at most: API tokens and permissions come from the database,
rate limits are not counted, and acknowledgement (API and one-click link), login, ingest and the
status page go on. A Redis of the test's own is killed (or frozen) for it."""

import os
import signal
import time

import pytest
import redis
from django.core.cache import caches
from rest_framework.test import APIClient

from escalation.models import Integration
from escalation.services import incident_classify
from escalation.services.integrations import integration_create
from incidents.services import api_token_create, api_token_revoke
from notifications.models import Notification
from tests.factories import PASSWORD, IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def paged(manager):
    incident = IncidentFactory()
    return incident_classify(incident=incident, actor=manager, impact="high", urgency="high")


def ack_path(incident) -> str:
    url = Notification.objects.filter(template="page", context__incident_id=incident.pk)
    return "/ack/" + url.first().context["ack_url"].split("/ack/", 1)[1]


def api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_acknowledge_login_ingest_and_status_page_work_while_redis_is_down(
    redis_cache, manager, client
):
    by_api, by_link = paged(manager), paged(manager)
    link = ack_path(by_link)
    token = api_token_create(user=manager, scope="write")[1]
    assert api(token).get("/api/v1/incidents/").status_code == 200
    assert redis.Redis.from_url(redis_cache.url).dbsize() > 0  # token and permissions kept there

    redis_cache.kill()

    response = api(token).post(f"/api/v1/incidents/{by_api.pk}/acknowledge/", {}, format="json")
    assert response.status_code == 200, response.content
    by_api.refresh_from_db()
    assert by_api.acknowledged_at is not None
    assert response["RateLimit-Limit"]  # the throttle ran, and let the request through

    assert client.post(link).status_code == 200
    by_link.refresh_from_db()
    assert by_link.acknowledged_at is not None

    response = client.post("/accounts/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/console/").status_code == 200

    integration = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(slug="db"), name="Zabbix"
    )
    event = {
        "routing_key": integration.key,
        "event_action": "trigger",
        "dedup_key": "disk-1",
        "payload": {"summary": "Disk almost full", "source": "db01", "severity": "warning"},
    }
    assert APIClient().post(INGEST, event, format="json").status_code == 202
    assert APIClient().post(INGEST, event, format="json").status_code == 202  # the repeat
    assert client.get("/status/").status_code == 200
    assert client.get("/dashboard/").status_code == 200  # KPIs computed without their cache


INGEST = "/api/v1/integrations/events/v2/enqueue"


def test_a_token_revoked_while_redis_hangs_stays_revoked_when_it_is_back(redis_cache, manager):
    """A frozen Redis (SIGSTOP: connections open, nothing answers) costs one timeout, then the
    database answers alone; the new permission version written during the outage is lost, so the
    old one is deleted when Redis answers again: the token cached before stops at once."""
    token_row, token = api_token_create(user=manager, scope="write")
    assert api(token).get("/api/v1/incidents/").status_code == 200  # token cached in Redis
    os.kill(redis_cache.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert api(token).get("/api/v1/incidents/").status_code == 200
        assert time.monotonic() - started < 6  # one socket timeout (2 s), then no more tries
        api_token_revoke(token=token_row)  # its new version cannot be written
        assert api(token).get("/api/v1/incidents/").status_code == 401  # from the database
    finally:
        os.kill(redis_cache.pid, signal.SIGCONT)
    time.sleep(0.3)  # the pause after a failure is over
    assert api(token).get("/api/v1/incidents/").status_code == 401
    assert caches["default"].down_until == 0.0  # Redis is in use again
