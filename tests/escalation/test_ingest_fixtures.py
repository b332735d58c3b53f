"""The ingest endpoints with request bodies a real Alertmanager 0.25 sent (webhook v4 and PagerDuty
Events API v2), kept in tests/fixtures/alertmanager/; test_alertmanager_real.py runs the real
process. Alertmanager sends no CSRF token and no session, so neither does this client."""

import copy
import json
from pathlib import Path

import pytest
from django.test import Client

from escalation.models import Integration
from incidents.models import Incident, Source, State
from tests.conftest import require
from tests.factories import ServiceFactory

# Real Alertmanager 0.25 requests, recorded from a local receiver and kept in the repo.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alertmanager"
EVENTS_V2_URL = "/api/v1/integrations/events/v2/enqueue"


def load(name: str) -> dict:
    require(FIXTURES.is_dir(), f"captured Alertmanager payloads not found in {FIXTURES}")
    return json.loads((FIXTURES / name).read_text())


def webhook_url(key: str) -> str:
    return f"/api/v1/integrations/alertmanager/{key}/"


@pytest.fixture
def api_client():
    return Client(enforce_csrf_checks=True)


def post(client: Client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def service(db):
    return ServiceFactory(name="Kundenportal", slug="kundenportal")


@pytest.fixture
def alertmanager_key(service):
    from escalation.services.integrations import integration_create

    return integration_create(kind="alertmanager", service=service, name="Alertmanager").key


@pytest.fixture
def events_key(service):
    from escalation.services.integrations import integration_create

    return integration_create(kind="events_v2", service=service, name="PagerDuty-Format").key


def with_key(body: dict, routing_key: str) -> dict:
    return {**body, "routing_key": routing_key}


# --- Alertmanager webhook (version 4) ----------------------------------------------------------


def test_firing_webhook_opens_one_incident_per_fingerprint(api_client, service, alertmanager_key):
    body = load("webhook_firing.json")
    alert = body["alerts"][0]

    response = post(api_client, webhook_url(alertmanager_key), body)

    assert 200 <= response.status_code < 300, response.content
    incident = Incident.objects.get(dedup_key=f"am:{alert['fingerprint']}")
    assert incident.source == Source.ALERTMANAGER
    assert incident.state != State.RESOLVED
    summary, alertname = alert["annotations"]["summary"], alert["labels"]["alertname"]
    assert summary in incident.title or alertname in incident.title, incident.title
    # The label says service=checkout, which is no service here: the integration's service.
    assert list(incident.services.all()) == [service]

    # Alertmanager sends the group again (new alert in it, another HA peer): no second incident.
    response = post(api_client, webhook_url(alertmanager_key), body)
    assert 200 <= response.status_code < 300, response.content
    assert Incident.objects.filter(dedup_key=f"am:{alert['fingerprint']}").count() == 1
    assert Incident.objects.count() == 1


def test_webhook_service_label_naming_an_allowed_service_routes_there(
    api_client, service, alertmanager_key
):
    checkout = ServiceFactory(name="Checkout", slug="checkout")
    Integration.objects.get(key=alertmanager_key).routable_services.add(checkout)
    body = load("webhook_firing.json")

    response = post(api_client, webhook_url(alertmanager_key), body)

    assert 200 <= response.status_code < 300, response.content
    incident = Incident.objects.get(dedup_key=f"am:{body['alerts'][0]['fingerprint']}")
    assert list(incident.services.all()) == [checkout]


def test_resolved_webhook_resolves_the_incident(api_client, alertmanager_key):
    firing = load("webhook_firing.json")
    # What Alertmanager sends when the alert ends (send_resolved: true).
    resolved = copy.deepcopy(firing)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-26T17:16:43.886807971Z"
    assert 200 <= post(api_client, webhook_url(alertmanager_key), firing).status_code < 300

    response = post(api_client, webhook_url(alertmanager_key), resolved)

    assert 200 <= response.status_code < 300, response.content
    incident = Incident.objects.get(dedup_key=f"am:{firing['alerts'][0]['fingerprint']}")
    assert incident.state == State.RESOLVED
    assert Incident.objects.count() == 1


# --- PagerDuty Events API v2 --------------------------------------------------------------------


def test_events_v2_trigger_opens_an_incident(api_client, service, events_key):
    body = with_key(load("pagerduty_v2_trigger.json"), events_key)

    response = post(api_client, EVENTS_V2_URL, body)

    assert response.status_code == 202, response.content
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": body["dedup_key"],
    }
    incident = Incident.objects.get(source=Source.EVENTS_V2)
    assert body["dedup_key"] in incident.dedup_key
    assert "DBDown" in incident.title, incident.title
    assert incident.state != State.RESOLVED
    assert list(incident.services.all()) == [service]

    # The same trigger again is a repeat of that incident.
    response = post(api_client, EVENTS_V2_URL, body)
    assert response.status_code == 202, response.content
    assert response.json()["dedup_key"] == body["dedup_key"]
    assert Incident.objects.count() == 1


def test_events_v2_resolve_resolves_the_incident(api_client, events_key):
    trigger = with_key(load("pagerduty_v2_trigger.json"), events_key)
    resolve = with_key(load("pagerduty_v2_resolve.json"), events_key)
    assert post(api_client, EVENTS_V2_URL, trigger).status_code == 202

    response = post(api_client, EVENTS_V2_URL, resolve)

    assert response.status_code == 202, response.content
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": resolve["dedup_key"],
    }
    incident = Incident.objects.get(source=Source.EVENTS_V2)
    assert incident.state == State.RESOLVED
    assert Incident.objects.count() == 1


def test_events_v2_unknown_routing_key_is_an_invalid_event(api_client, events_key):
    body = load("pagerduty_v2_trigger.json")  # the captured key, which is no integration here
    assert body["routing_key"] != events_key

    response = post(api_client, EVENTS_V2_URL, body)

    assert response.status_code == 400, response.content
    assert response.json()["status"] == "invalid event"
    assert not Incident.objects.exists()


def test_events_v2_without_event_action_is_rejected(api_client, events_key):
    body = with_key(load("pagerduty_v2_trigger.json"), events_key)
    del body["event_action"]

    response = post(api_client, EVENTS_V2_URL, body)

    assert response.status_code == 400, response.content
    assert not Incident.objects.exists()
