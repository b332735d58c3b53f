"""Integration keys are tied to their service (issue 15, Medium 4): dedup keys are scoped per
integration, as PagerDuty scopes them per service, so integration B can neither acknowledge,
resolve nor count onto integration A's incident; and an Alertmanager service label routes only
to services an administrator allowed the integration (any other: the integration's own service,
with a note; the alert is never dropped)."""

import pytest
from rest_framework.test import APIClient

from escalation.models import Integration
from escalation.services.integrations import integration_create
from incidents.models import Incident
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_integrations(db):
    a = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(slug="zahlungen"), name="A"
    )
    b = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(slug="intranet"), name="B"
    )
    return a, b


def enqueue(integration, action, dedup_key="db-1"):
    body = {"routing_key": integration.key, "event_action": action, "dedup_key": dedup_key}
    if action == "trigger":
        body["payload"] = {"summary": "DB down", "source": "db01", "severity": "info"}
    response = APIClient().post("/api/v1/integrations/events/v2/enqueue", body, format="json")
    assert response.status_code == 202, response.content
    return response


def test_another_integration_cannot_resolve_or_acknowledge_an_incident(two_integrations):
    a, b = two_integrations
    enqueue(a, "trigger")
    incident = Incident.objects.get(dedup_key="db-1")
    enqueue(b, "acknowledge")
    enqueue(b, "resolve")
    incident.refresh_from_db()
    assert incident.is_open and incident.acknowledged_at is None
    enqueue(a, "acknowledge")
    enqueue(a, "resolve")
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.acknowledged_at is not None


def test_the_same_key_from_another_integration_is_its_own_incident(two_integrations):
    a, b = two_integrations
    enqueue(a, "trigger")
    enqueue(b, "trigger")  # the plain-event short cut (middleware) must not count it onto A's
    enqueue(b, "trigger")
    mine = Incident.objects.get(dedup_key="db-1", services__slug="zahlungen")
    theirs = Incident.objects.get(dedup_key="db-1", services__slug="intranet")
    assert (mine.dedup_scope, theirs.dedup_scope) == (a.pk, b.pk)
    assert mine.alert_count == 1 and theirs.alert_count == 2
    assert [s.slug for s in theirs.services.all()] == ["intranet"]


def alertmanager(integration, labels):
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": labels, "fingerprint": "fp-1"}],
    }
    url = f"/api/v1/integrations/alertmanager/{integration.key}/"
    response = APIClient().post(url, payload, format="json")
    assert response.status_code == 200, response.content
    return Incident.objects.get(dedup_key="am:fp-1")


def test_a_label_naming_a_service_not_allowed_does_not_open_an_incident_there(db):
    own = ServiceFactory(slug="monitoring")
    secret = ServiceFactory(slug="vorstand-intern", is_private=True)
    integration = integration_create(kind=Integration.Kind.ALERTMANAGER, service=own, name="AM")
    labels = {"alertname": "Probe", "severity": "critical", "service": secret.slug}
    incident = alertmanager(integration, labels)
    assert list(incident.services.all()) == [own]
    assert "may not route to" in incident.description
    assert not Incident.objects.filter(services=secret).exists()


def test_a_label_naming_an_allowed_service_routes_there(db):
    own = ServiceFactory(slug="monitoring")
    shop = ServiceFactory(slug="shop")
    integration = integration_create(kind=Integration.Kind.ALERTMANAGER, service=own, name="AM")
    integration.routable_services.add(shop)
    incident = alertmanager(integration, {"alertname": "Down", "service": "shop"})
    assert list(incident.services.all()) == [shop] and "may not route" not in incident.description
