"""Outbound webhooks: incident events go to subscribed URLs, signed with each webhook's secret,
through the outbox (written with the change, delivered after commit, retried)."""

import hashlib
import hmac
import json

import pytest
from rest_framework.test import APIClient

from escalation.models import EventWebhook
from incidents.services import api_token_create
from notifications.models import Notification
from notifications.tasks import deliver
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def events_for(hook):
    return [
        n.context["event"] for n in Notification.objects.filter(address=hook.url).order_by("pk")
    ]


def test_incident_events_reach_the_webhook_signed(manager, http_receiver):
    hook = EventWebhook.objects.create(name="Ops", url=f"{http_receiver.url}/events")
    http_receiver.secrets.append(hook.secret)  # the receiver verifies with the webhook's secret
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=manager, scope='write')[1]}"
    )
    pk = client.post("/api/v1/incidents/", {"title": "Mail down"}, format="json").json()["id"]
    client.post(f"/api/v1/incidents/{pk}/acknowledge/", {}, format="json")
    client.post(
        f"/api/v1/incidents/{pk}/classify/", {"impact": "low", "urgency": "low"}, format="json"
    )
    client.post(
        f"/api/v1/incidents/{pk}/updates/", {"audience": "internal", "body": "Läuft"}, format="json"
    )
    client.patch(f"/api/v1/incidents/{pk}/", {"title": "Mail down (EU)"}, format="json")
    client.post(f"/api/v1/incidents/{pk}/resolve/", {"resolution": "Neustart"}, format="json")
    assert events_for(hook) == [
        "incident.created",
        "incident.acknowledged",
        "incident.transitioned",
        "incident.updated",
        "incident.updated",
        "incident.transitioned",
    ]
    resolved = Notification.objects.filter(address=hook.url).order_by("pk").last()
    assert resolved.context["action"] == "resolve" and resolved.context["to_state"] == "resolved"
    assert deliver(resolved.pk) == "sent"
    [request] = http_receiver.requests
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        hook.secret.encode(),
        headers["X-Escalation-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Escalation-Signature"] == f"v1={expected}"
    payload = json.loads(body)
    assert payload["event"] == "incident.transitioned" and payload["data"]["incident"]["id"] == pk


def test_event_and_service_filters(manager):
    db = ServiceFactory(slug="db")
    ServiceFactory(slug="web")
    only_db = EventWebhook.objects.create(
        name="DB team", url="https://db.example.org/hook", events=["created"]
    )
    only_db.services.add(db)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=manager, scope='write')[1]}"
    )
    client.post("/api/v1/incidents/", {"title": "Web", "services": ["web"]}, format="json")
    pk = client.post("/api/v1/incidents/", {"title": "DB", "services": ["db"]}, format="json")
    client.post(f"/api/v1/incidents/{pk.json()['id']}/acknowledge/", {}, format="json")
    assert events_for(only_db) == ["incident.created"]


def test_inactive_webhooks_get_nothing(manager):
    EventWebhook.objects.create(name="Off", url="https://off.example.org/", is_active=False)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=manager, scope='write')[1]}"
    )
    client.post("/api/v1/incidents/", {"title": "x"}, format="json")
    assert not Notification.objects.filter(address="https://off.example.org/").exists()
