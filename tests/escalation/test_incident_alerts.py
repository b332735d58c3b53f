"""Each alert of an incident, shown on the console's incident page and in the API
(GET /api/v1/incidents/{id}/alerts/): team and executives read them, customers never do."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from escalation.models import Integration
from escalation.services.integrations import integration_create
from incidents.models import Incident
from incidents.services import api_token_create
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def api(user) -> APIClient:
    client = APIClient()
    _, key = api_token_create(user=user, scope="read")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def send(integration: Integration, action: str, key: str, **payload) -> None:
    body = {"routing_key": integration.key, "event_action": action, "dedup_key": key}
    if action == "trigger":
        body["payload"] = {"summary": key, "source": "db01", "severity": "warning", **payload}
    response = APIClient().post("/api/v1/integrations/events/v2/enqueue", body, format="json")
    assert response.status_code == 202, response.content


@pytest.fixture
def grouped() -> Incident:
    """One incident of three alerts grouped by source: a resolved at 09:05, b and c firing."""
    zabbix = integration_create(kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="Z")
    zabbix.group_labels = ["source"]
    zabbix.save()
    for minute, action, key in [(0, "trigger", "a"), (1, "trigger", "b"), (2, "trigger", "c")]:
        with time_machine.travel(T0 + timedelta(minutes=minute), tick=False):
            send(zabbix, action, key, component=f"disk-{key}")
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        send(zabbix, "resolve", "a")
    return Incident.objects.get(dedup_scope=zabbix.pk)


def test_the_api_lists_each_alert_firing_first(grouped, manager, django_assert_max_num_queries):
    client = api(manager)
    with django_assert_max_num_queries(7):
        response = client.get(f"/api/v1/incidents/{grouped.pk}/alerts/")
    assert response.status_code == 200
    assert response.json() == [
        {
            "fingerprint": "b",
            "labels": {
                "summary": "b",
                "source": "db01",
                "severity": "warning",
                "component": "disk-b",
            },
            "first_seen_at": "2026-12-07T10:01:00+01:00",
            "last_seen_at": "2026-12-07T10:01:00+01:00",
            "resolved_at": None,
            "firing": True,
        },
        {
            "fingerprint": "c",
            "labels": {
                "summary": "c",
                "source": "db01",
                "severity": "warning",
                "component": "disk-c",
            },
            "first_seen_at": "2026-12-07T10:02:00+01:00",
            "last_seen_at": "2026-12-07T10:02:00+01:00",
            "resolved_at": None,
            "firing": True,
        },
        {
            "fingerprint": "a",
            "labels": {
                "summary": "a",
                "source": "db01",
                "severity": "warning",
                "component": "disk-a",
            },
            "first_seen_at": "2026-12-07T10:00:00+01:00",
            "last_seen_at": "2026-12-07T10:05:00+01:00",
            "resolved_at": "2026-12-07T10:05:00+01:00",
            "firing": False,
        },
    ]


def test_executives_read_the_alerts_and_customers_never(grouped, executive, customer_contact):
    assert len(api(executive).get(f"/api/v1/incidents/{grouped.pk}/alerts/").json()) == 3
    response = api(customer_contact).get(f"/api/v1/incidents/{grouped.pk}/alerts/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_ungrouped_events_v2_incident_is_its_one_alert(manager):
    zabbix = integration_create(kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="Z")
    with time_machine.travel(T0, tick=False):
        send(zabbix, "trigger", "db-1")
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        send(zabbix, "trigger", "db-1")  # a repeat: counted on the incident
    incident = Incident.objects.get(dedup_scope=zabbix.pk)
    [alert] = api(manager).get(f"/api/v1/incidents/{incident.pk}/alerts/").json()
    assert alert == {
        "fingerprint": "db-1",
        "labels": {},
        "first_seen_at": "2026-12-07T10:00:00+01:00",
        "last_seen_at": "2026-12-07T10:03:00+01:00",
        "resolved_at": None,
        "firing": True,
    }


def test_an_incident_opened_by_hand_has_no_alerts(manager):
    incident = IncidentFactory()
    assert api(manager).get(f"/api/v1/incidents/{incident.pk}/alerts/").json() == []


def test_the_console_shows_the_alerts_in_the_users_zone_and_language(grouped, manager, client):
    client.force_login(manager)
    page = client.get(reverse("console:incident", args=[grouped.pk])).content.decode()
    assert 'id="incident-alerts"' in page
    assert "2 Alarme noch aktiv" in page  # the manager reads German
    assert "<code>component=disk-b</code>" in page
    assert "07.12. 10:05:00" in page  # a resolved at 09:05 UTC, shown in Europe/Berlin
    manual = IncidentFactory()
    page = client.get(reverse("console:incident", args=[manual.pk])).content.decode()
    assert 'id="incident-alerts"' not in page
