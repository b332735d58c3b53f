"""Change events: PagerDuty's own Python client (pdpyras' ChangeEventsAPISession) against the
live server, stored per service and shown on that service's incidents as "recent changes"."""

import warnings
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from escalation.changes.models import ChangeEvent
from escalation.models import Integration
from escalation.services.integrations import integration_create
from incidents.models import State
from tests.factories import IncidentFactory, ServiceFactory

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pdpyras announces its successor on import
    import pdpyras

URL = "/api/v1/integrations/events/v2/change/enqueue"


@pytest.fixture
def service(db):
    return ServiceFactory(slug="kundenportal", name="Kundenportal")


@pytest.fixture
def integration(service):
    return integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="CI")


def _session(live_server, key: str) -> pdpyras.ChangeEventsAPISession:
    session = pdpyras.ChangeEventsAPISession(key)
    session.url = f"{live_server.url}/api/v1/integrations/events"  # it appends /v2/change/enqueue
    session.trust_env = False  # never through a proxy from the environment
    session.max_http_attempts = 1
    return session


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pdpyras_submit_and_send_change_event_are_stored_on_the_service(
    live_server, integration, service
):
    session = _session(live_server, integration.key)
    first = session.submit(
        "Deploy kundenportal v2.4.1",
        source="gitlab-ci",
        custom_details={"commit": "a1b2c3", "author": "jana"},
        links=[{"href": "https://git.example.org/deploy/42", "text": "Pipeline 42"}],
        timestamp="2026-12-07T08:15:00Z",
    )
    second = session.send_change_event(
        routing_key=integration.key,
        payload={"summary": "Feature flag checkout-v2 on", "source": "unleash"},
    )
    assert first and second and first != second  # pdpyras returns the id from the 202
    changes = {c.summary: c for c in ChangeEvent.objects.all()}
    deploy = changes["Deploy kundenportal v2.4.1"]
    assert deploy.service == service and deploy.integration == integration
    assert deploy.source == "gitlab-ci"
    assert deploy.custom_details == {"commit": "a1b2c3", "author": "jana"}
    assert deploy.links == [{"href": "https://git.example.org/deploy/42", "text": "Pipeline 42"}]
    assert deploy.occurred_at.isoformat() == "2026-12-07T08:15:00+00:00"
    flag = changes["Feature flag checkout-v2 on"]
    assert abs(flag.occurred_at - timezone.now()) < timedelta(minutes=1)  # no timestamp: now


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pdpyras_with_an_unknown_routing_key_gets_an_error(live_server, integration):
    session = _session(live_server, "0" * 32)
    with pytest.raises(pdpyras.PDClientError) as failure:
        session.submit("Deploy", source="ci")
    assert failure.value.response.status_code == 400
    assert failure.value.response.json()["message"] == "Invalid routing key"
    assert not ChangeEvent.objects.exists()


def test_answer_is_pagerdutys(client, integration):
    response = client.post(
        URL,
        {"routing_key": integration.key, "payload": {"summary": "Config change"}},
        content_type="application/json",
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "success" and body["message"] == "Change event processed"


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        {"payload": {"summary": "x"}},
        {"routing_key": "KEY", "payload": {}},
        {"routing_key": "KEY", "payload": {"summary": "   "}},
        {"routing_key": "KEY", "payload": {"summary": 5}},
        {"routing_key": "KEY", "payload": {"summary": "x", "timestamp": "gestern"}},
        {"routing_key": "KEY", "payload": {"summary": "x", "timestamp": "2026-13-45T99:00:00Z"}},
        {"routing_key": "KEY", "payload": {"summary": "x"}, "links": [{"text": "no href"}]},
        {"routing_key": "KEY", "payload": {"summary": "x"}, "links": "https://x"},
        {"routing_key": "KEY", "payload": {"summary": "x" * 1025}},
    ],
)
def test_bad_change_events_get_pagerdutys_400_and_store_nothing(client, integration, body):
    if isinstance(body, dict) and body.get("routing_key") == "KEY":
        body = {**body, "routing_key": integration.key}
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
    assert not ChangeEvent.objects.exists()


def test_not_json_is_a_400_in_pagerdutys_shape(client, integration):
    response = client.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["status"] == "invalid event"


def test_an_inactive_integration_key_is_refused(client, integration):
    Integration.objects.filter(pk=integration.pk).update(is_active=False)
    response = client.post(
        URL,
        {"routing_key": integration.key, "payload": {"summary": "x"}},
        content_type="application/json",
    )
    assert response.status_code == 400 and not ChangeEvent.objects.exists()


def _change(service, summary, at):
    return ChangeEvent.objects.create(service=service, summary=summary, occurred_at=at)


@pytest.fixture
def incident_with_changes(service, manager):
    now = timezone.now()
    other = ServiceFactory(slug="lager", name="Lager")
    incident = IncidentFactory(
        title="Kundenportal langsam", services=[service], actor=manager, detected_at=now
    )
    _change(service, "Deploy v2.4.1 ZQRECENT", now - timedelta(minutes=20))
    _change(service, "Deploy v2.3.0 ZQOLD", now - timedelta(days=2))
    _change(other, "Lager deploy ZQOTHER", now - timedelta(minutes=5))
    return incident


def test_incident_changes_api_lists_recent_changes_of_its_services(
    client, manager, incident_with_changes
):
    client.force_login(manager)
    response = client.get(f"/api/v1/incidents/{incident_with_changes.pk}/changes/")
    assert response.status_code == 200
    assert [c["summary"] for c in response.json()] == ["Deploy v2.4.1 ZQRECENT"]
    assert response.json()[0]["service"] == "kundenportal"


def test_customers_never_read_an_incidents_changes(client, customer_contact, incident_with_changes):
    incident_with_changes.customers.add(customer_contact.customer)
    client.force_login(customer_contact)
    response = client.get(f"/api/v1/incidents/{incident_with_changes.pk}/changes/")
    assert response.status_code == 404
    assert "ZQRECENT" not in response.content.decode()


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Recent changes"), ("de", "Letzte Änderungen")]
)
def test_console_incident_page_shows_recent_changes(
    manager, incident_with_changes, language, heading
):
    client = Client(headers={"accept-language": language})
    client.force_login(manager)
    page = client.get(f"/console/incidents/{incident_with_changes.pk}/").content.decode()
    assert heading in page
    assert "ZQRECENT" in page
    assert "ZQOLD" not in page and "ZQOTHER" not in page


def test_resolved_incident_shows_only_changes_until_its_resolution(
    client, manager, service, incident_with_changes
):
    from tests.factories import drive

    incident = drive(incident_with_changes, State.RESOLVED, actor=manager)
    _change(service, "After the fact ZQAFTER", timezone.now() + timedelta(minutes=1))
    client.force_login(manager)
    answer = client.get(f"/api/v1/incidents/{incident.pk}/changes/").json()
    summaries = [c["summary"] for c in answer]
    assert summaries == ["Deploy v2.4.1 ZQRECENT"]
