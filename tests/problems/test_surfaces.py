"""Problems in the console and the API: create from incidents, edit the root cause (5 whys,
fishbone), transitions with their 409s, links from the incident page; executives read only."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from escalation.problems.models import Problem, ProblemState
from escalation.problems.services import problem_create
from incidents.models import IncidentEvent
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(db):
    return ServiceFactory(slug="zaehlerportal", name="Zählerportal")


@pytest.fixture
def incidents(service, manager):
    return [
        IncidentFactory(title=f"Zählerportal hängt ({n})", services=[service], actor=manager)
        for n in range(2)
    ]


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_console_opens_a_problem_from_incidents_and_records_a_fishbone(manager, incidents, service):
    client = client_for(manager)
    ids = "&".join(f"incidents={i.pk}" for i in incidents)
    page = client.get(f"/console/problems/new/?{ids}")
    assert page.status_code == 200
    assert "Zählerportal hängt (0)" in page.content.decode()  # the statement is prefilled
    response = client.post(
        "/console/problems/new/",
        {
            "statement": "Zählerportal hängt nachts",
            "incidents": [i.pk for i in incidents],
            "services": [service.pk],
            "root_cause_method": "fishbone",
            "root_cause": "Export sperrt die Tabelle",
            "fishbone_technology": "Tabellensperre\nKein Timeout",
            "fishbone_process": "Export zur Hauptlastzeit",
            "alert_labels_text": "alertname=PortalDown",
        },
    )
    problem = Problem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/problems/{problem.pk}/"
    assert problem.root_cause_analysis == {
        "categories": {
            "process": ["Export zur Hauptlastzeit"],
            "technology": ["Tabellensperre", "Kein Timeout"],
        }
    }
    assert problem.alert_labels == {"alertname": "PortalDown"}
    assert problem.links.count() == 2
    detail = client.get(f"/console/problems/{problem.pk}/").content.decode()
    assert "Kein Timeout" in detail and "Zählerportal hängt (1)" in detail
    history = detail[detail.index('id="history"') :]  # in words, no stored data (issue #21)
    assert f"Incident: #{incidents[0].pk}" in history and "{&#x27;" not in history

    # 5 whys through the edit form; a label without "=" is a form error, not a 500
    edit = f"/console/problems/{problem.pk}/edit/"
    bad = client.post(edit, {"statement": "x", "alert_labels_text": "nolabel"})
    assert bad.status_code == 200 and "label=value" in bad.content.decode()
    client.post(
        edit,
        {
            "statement": "Zählerportal hängt nachts",
            "root_cause_method": "five_whys",
            "root_cause": "Export",
            "why_1": "Portal hängt",
            "why_2": "Tabelle gesperrt",
            "services": [service.pk],
        },
    )
    problem.refresh_from_db()
    assert problem.root_cause_analysis == {"whys": ["Portal hängt", "Tabelle gesperrt"]}


def test_console_transitions_and_a_refusal_says_why(manager):
    problem = problem_create(actor=manager, statement="Mailversand verzögert")
    client = client_for(manager)
    response = client.post(f"/console/problems/{problem.pk}/do/resolve/", follow=True)
    assert "not possible in state" in response.content.decode()
    client.post(f"/console/problems/{problem.pk}/do/investigate/")
    problem.refresh_from_db()
    assert problem.state == ProblemState.INVESTIGATING
    assert client.post(f"/console/problems/{problem.pk}/do/explode/").status_code == 404


def test_incident_page_links_to_an_open_problem_on_its_service(manager, incidents):
    problem = problem_create(actor=manager, statement="Portal", incidents=incidents[:1])
    client = client_for(manager)
    page = client.get(f"/console/incidents/{incidents[1].pk}/").content.decode()
    assert "Link to this problem" in page and problem.reference in page
    url = f"/console/incidents/{incidents[1].pk}/"
    response = client.post(
        f"/console/problems/{problem.pk}/link/", {"incident": incidents[1].pk, "next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "Caused by" in page
    kinds = IncidentEvent.objects.filter(incident=incidents[1]).values_list("kind", flat=True)
    assert "problem_linked" in kinds
    # an outside "next" is not followed
    response = client.post(
        f"/console/problems/{problem.pk}/unlink/",
        {"incident": incidents[1].pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == f"/console/problems/{problem.pk}/"


def test_api_lifecycle_with_the_fields_named_in_the_issue(manager, incidents):
    api = api_for(manager)
    created = api.post(
        "/api/v1/problems/",
        {
            "statement": "Zählerportal hängt nachts",
            "incidents": [incidents[0].pk],
            "root_cause": {"summary": "Export", "method": "five_whys", "whys": ["a", "b"]},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["incidents"] == [incidents[0].pk]
    assert body["services"] == ["zaehlerportal"]
    assert body["root_cause"] == {"summary": "Export", "method": "five_whys", "whys": ["a", "b"]}
    assert body["known_error"]["is_known_error"] is False
    pk = body["id"]

    refused = api.post(f"/api/v1/problems/{pk}/known_error/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "transition_not_allowed"
    assert "workaround is required" in refused.json()["detail"]

    api.patch(f"/api/v1/problems/{pk}/", {"workaround": "Export anhalten"}, format="json")
    done = api.post(f"/api/v1/problems/{pk}/known_error/", {}, format="json")
    assert done.status_code == 200
    assert done.json()["known_error"]["is_known_error"] is True
    assert done.json()["allowed_actions"] == ["resolve"]

    linked = api.post(f"/api/v1/problems/{pk}/link/", {"incident": incidents[1].pk}, format="json")
    assert linked.json()["incidents"] == [incidents[0].pk, incidents[1].pk]
    other = problem_create(actor=manager, statement="anderes")
    clash = api.post(
        f"/api/v1/problems/{other.pk}/link/", {"incident": incidents[1].pk}, format="json"
    )
    assert clash.status_code == 409 and clash.json()["code"] == "already_linked"

    bad = api.post(
        "/api/v1/problems/",
        {"statement": "x", "root_cause": {"categories": {"weather": ["x"]}}, "incidents": [999]},
        format="json",
    )
    assert bad.status_code == 400


def test_executives_read_the_api_and_write_nothing(manager, executive, incidents):
    problem = problem_create(actor=manager, statement="Portal", incidents=incidents)
    api = api_for(executive)
    body = api.get(f"/api/v1/problems/{problem.pk}/").json()
    assert body["allowed_actions"] == [] and len(body["incidents"]) == 2
    assert api.post(f"/api/v1/problems/{problem.pk}/investigate/").status_code == 403
    assert client_for(executive).get("/console/problems/").status_code == 403


def test_responders_see_only_the_incidents_they_are_pulled_into(manager, responder, service):
    mine = IncidentFactory(services=[service], actor=manager, commander=responder)
    theirs = IncidentFactory(services=[service], actor=manager)
    problem = problem_create(actor=manager, statement="Portal", incidents=[mine, theirs])
    body = api_for(responder).get(f"/api/v1/problems/{problem.pk}/").json()
    assert body["incidents"] == [mine.pk]
    assert "close" not in body["allowed_actions"]
    page = client_for(responder).get(f"/console/problems/{problem.pk}/").content.decode()
    assert "and 1 incident you are not pulled into" in page


def test_customers_see_none_of_it(customer_contact, manager):
    problem = problem_create(actor=manager, statement="Portal")
    api = api_for(customer_contact)
    assert api.get("/api/v1/problems/").status_code == 403
    assert api.get(f"/api/v1/problems/{problem.pk}/").status_code == 403
    assert client_for(customer_contact).get("/console/problems/").status_code == 403


def test_the_list_reads_a_bounded_number_of_queries(
    manager, service, django_assert_max_num_queries
):
    for n in range(5):
        incident = IncidentFactory(services=[service], actor=manager)
        problem_create(actor=manager, statement=f"P{n}", incidents=[incident])
    client, api = client_for(manager), api_for(manager)
    with django_assert_max_num_queries(14):
        assert client.get("/console/problems/").status_code == 200
    with django_assert_max_num_queries(10):
        assert len(api.get("/api/v1/problems/").json()) == 5
