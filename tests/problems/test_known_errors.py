"""Known errors: a new incident on a known error's service, or with its alert signature (an
Alertmanager alert's labels, an Events API dedup key), shows the known error and its workaround
at once, in the console and the API."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from escalation.models import Integration
from escalation.problems.models import ProblemState
from escalation.problems.services import problem_create, problem_transition
from escalation.services.integrations import integration_create
from incidents.models import Incident
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

WORKAROUND = "Zählerstände telefonisch annehmen, Export um 02:00 anhalten"


def known_error(manager, **fields):
    problem = problem_create(
        actor=manager,
        statement="Zählerportal hängt nachts",
        root_cause="Export sperrt die Tabelle",
        workaround=WORKAROUND,
        **fields,
    )
    problem = problem_transition(problem=problem, action="known_error", actor=manager)
    assert problem.state == ProblemState.KNOWN_ERROR
    return problem


def known_errors(user, incident) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/incidents/{incident.pk}/known-errors/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_new_incident_on_the_same_service_shows_the_known_error(manager, executive):
    portal, mail = ServiceFactory(name="Zählerportal"), ServiceFactory(name="Mail")
    problem = known_error(manager, services=[portal])
    not_yet = problem_create(actor=manager, statement="offen", services=[portal])  # no KE
    incident = IncidentFactory(services=[portal], actor=manager)

    body = known_errors(manager, incident)
    assert [m["problem"]["id"] for m in body["known_errors"]] == [problem.pk]
    assert body["known_errors"][0]["reasons"] == [{"kind": "service", "services": ["Zählerportal"]}]
    assert body["known_errors"][0]["problem"]["known_error"]["workaround"] == WORKAROUND
    assert body["linked_problem"] is None
    assert known_errors(executive, incident)["known_errors"]  # executives read it too

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    page = client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "Known errors matching this incident" in page
    assert WORKAROUND in page
    assert not_yet.reference in page  # offered to link: an open problem on the service

    other = IncidentFactory(services=[mail], actor=manager)
    assert known_errors(manager, other)["known_errors"] == []


def test_an_alert_with_the_known_errors_labels_matches_on_another_service(manager):
    problem = known_error(manager, alert_labels={"alertname": "DiskFull", "mount": "/var"})
    integration = integration_create(
        kind=Integration.Kind.ALERTMANAGER, service=ServiceFactory(), name="am"
    )

    def fire(**labels):
        alert = {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "db-7", **labels},
            "fingerprint": f"fp-{sorted(labels.items())}",
        }
        response = APIClient().post(
            f"/api/v1/integrations/alertmanager/{integration.key}/",
            {"version": "4", "status": "firing", "alerts": [alert]},
            format="json",
        )
        assert response.status_code == 200, response.content
        return Incident.objects.order_by("-pk").first()

    matching = fire(mount="/var")
    body = known_errors(manager, matching)
    assert [m["problem"]["id"] for m in body["known_errors"]] == [problem.pk]
    assert body["known_errors"][0]["reasons"] == [
        {"kind": "alert_labels", "labels": {"alertname": "DiskFull", "mount": "/var"}}
    ]
    other = fire(mount="/home")  # one label differs: no match
    assert known_errors(manager, other)["known_errors"] == []


def test_an_event_with_the_known_errors_dedup_key_matches(manager):
    problem = known_error(manager, dedup_keys=["zaehlerportal-export-lock"])
    integration = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="pd"
    )
    response = APIClient().post(
        "/api/v1/integrations/events/v2/enqueue",
        {
            "routing_key": integration.key,
            "event_action": "trigger",
            "dedup_key": "zaehlerportal-export-lock",
            "payload": {"summary": "Export lock", "source": "db", "severity": "error"},
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    incident = Incident.objects.get(dedup_key="zaehlerportal-export-lock")
    body = known_errors(manager, incident)
    assert body["known_errors"][0]["problem"]["id"] == problem.pk
    assert body["known_errors"][0]["reasons"] == [
        {"kind": "dedup_key", "dedup_key": "zaehlerportal-export-lock"}
    ]


def test_a_problem_created_from_alerting_incidents_takes_their_signature(manager):
    integration = integration_create(
        kind=Integration.Kind.ALERTMANAGER, service=ServiceFactory(), name="am"
    )
    for instance in ("db-1", "db-2"):
        alert = {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": instance},
            "fingerprint": f"fp-{instance}",
        }
        APIClient().post(
            f"/api/v1/integrations/alertmanager/{integration.key}/",
            {"version": "4", "status": "firing", "alerts": [alert]},
            format="json",
        )
    incidents = list(Incident.objects.all())
    assert len(incidents) == 2
    problem = problem_create(actor=manager, statement="Platte voll", incidents=incidents)
    assert problem.alert_labels == {"alertname": "DiskFull"}  # what they share
    assert len(problem.dedup_keys) == 2


def test_matching_reads_a_bounded_number_of_queries(manager, django_assert_max_num_queries):
    service = ServiceFactory()
    for _ in range(5):
        known_error(manager, services=[service], alert_labels={"alertname": "X"})
    incident = IncidentFactory(services=[service], actor=manager)
    client = APIClient()
    client.force_authenticate(manager)
    with django_assert_max_num_queries(16):  # the same for 1 or 50 known errors
        body = client.get(f"/api/v1/incidents/{incident.pk}/known-errors/").json()
    assert len(body["known_errors"]) == 5
