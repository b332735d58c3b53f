"""Scope findings of the security review (issue 15): High 2, Medium 5 and the responders' reads.

- High 2: the admin's lifecycle buttons and update form checked global permissions only; a
  responder resolved an incident that is 404 for them in the console and the API.
- Medium 5: `?customer=<another organisation's slug>` answered differently from an unknown slug.
- Hardening: responders read every incident through the API and the communication page, while
  the console hid them. One scope for responders everywhere.
"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from escalation.services.public import public_incident_publish
from incidents.models import Incident, State, Update
from incidents.services import api_token_create, update_post

from ..factories import IncidentFactory, ServiceFactory, drive


@pytest.fixture
def incidents(manager, responder, customer, other_customer):
    """Mine: the responder commands it. Theirs: the responder is not pulled in. Shared: both
    organisations are affected (and another organisation's private service)."""
    private_other = ServiceFactory(slug="beta-lager", is_private=True)
    private_other.customers.add(other_customer)
    mine = IncidentFactory(actor=manager, commander=responder, customers=[customer])
    theirs = IncidentFactory(actor=manager, customers=[other_customer])
    shared = IncidentFactory(
        actor=manager, customers=[customer, other_customer], services=[private_other]
    )
    for incident in (mine, theirs, shared):
        drive(incident, State.ESCALATED, actor=manager)
        update_post(incident=incident, actor=manager, audience="internal", body="ZQINTERNAL")
        # customers read published incidents only (their public face)
        public_incident_publish(actor=manager, incidents=[incident], title=f"Störung {incident.pk}")
    return {"mine": mine, "theirs": theirs, "shared": shared}


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, scope='write')[1]}")
    return client


# --- High 2: the admin -------------------------------------------------------------------------


def test_a_responder_cannot_resolve_an_incident_outside_their_scope_in_the_admin(
    client, responder, incidents
):
    theirs = incidents["theirs"]
    client.force_login(responder)
    url = reverse("admin:incidents_incident_action", args=[theirs.pk, "resolve"])
    response = client.post(url, {"resolution": "done by somebody not pulled in"})
    assert response.status_code == 404
    assert Incident.objects.get(pk=theirs.pk).state == State.ESCALATED


def test_a_responder_cannot_publish_an_update_outside_their_scope_in_the_admin(
    client, responder, incidents
):
    theirs = incidents["theirs"]
    client.force_login(responder)
    url = reverse("admin:incidents_incident_publish_update", args=[theirs.pk])
    response = client.post(url, {"audience": "customer", "body": "ZQCUSTOMERWRITE"})
    assert response.status_code == 404
    assert not Update.objects.filter(body="ZQCUSTOMERWRITE").exists()


def test_the_admin_change_list_and_page_show_a_responder_only_their_incidents(
    client, responder, incidents
):
    client.force_login(responder)
    listing = client.get(reverse("admin:incidents_incident_changelist"))
    assert listing.status_code == 200
    shown = {row.pk for row in listing.context["cl"].result_list}
    assert shown == {incidents["mine"].pk}
    page = client.get(reverse("admin:incidents_incident_change", args=[incidents["theirs"].pk]))
    assert page.status_code == 302 and page["Location"] == reverse("admin:index")
    updates = client.get(reverse("admin:incidents_update_changelist"))
    assert {u.incident_id for u in updates.context["cl"].result_list} == {incidents["mine"].pk}


def test_a_manager_still_reaches_every_incident_in_the_admin(client, manager, incidents):
    client.force_login(manager)
    url = reverse("admin:incidents_incident_action", args=[incidents["theirs"].pk, "resolve"])
    assert client.get(url).status_code == 200


# --- Medium 5: filters outside the caller's scope ------------------------------------------------


def test_a_customer_filter_on_another_organisation_answers_as_an_unknown_slug(
    customer_contact, incidents
):
    api = _api(customer_contact)
    other = api.get("/api/v1/incidents/?customer=logistik-sued")
    unknown = api.get("/api/v1/incidents/?customer=zq-no-such-organisation")
    assert other.status_code == unknown.status_code == 200
    assert other.json() == unknown.json()
    assert other.json()["results"] == []
    own = api.get("/api/v1/incidents/?customer=stadtwerke-nord")
    assert {row["id"] for row in own.json()["results"]} == {
        incidents["mine"].pk,
        incidents["shared"].pk,
    }


def test_a_service_filter_on_another_organisations_private_service_answers_as_unknown(
    customer_contact, incidents
):
    api = _api(customer_contact)
    other = api.get("/api/v1/incidents/?service=beta-lager")
    unknown = api.get("/api/v1/incidents/?service=zq-no-such-service")
    assert other.status_code == unknown.status_code == 200
    assert other.json() == unknown.json()


@pytest.mark.parametrize(
    "query",
    [
        "state=escalated",
        "state=zq-bogus",
        "priority=3",
        "updated_since=2020-01-01T00:00:00Z",
        "customer=logistik-sued&state=escalated",
        "service=beta-lager&customer=stadtwerke-nord",
    ],
)
def test_no_filter_widens_a_customers_view(customer_contact, incidents, query):
    answer = _api(customer_contact).get(f"/api/v1/incidents/?{query}")
    if answer.status_code == 400:  # internal states and priorities are no customer's filter
        assert "state" in answer.json()["errors"] and ("state" in query or "priority" in query)
        return
    rows = answer.json()["results"]
    assert {row["id"] for row in rows} <= {incidents["mine"].pk, incidents["shared"].pk}
    if "logistik-sued" in query or "beta-lager" in query:
        assert rows == []


# --- One scope for responders ------------------------------------------------------------------


def test_a_responder_reads_through_the_api_only_what_the_console_shows(responder, incidents):
    api = _api(responder)
    listed = {row["id"] for row in api.get("/api/v1/incidents/").json()["results"]}
    assert listed == {incidents["mine"].pk}
    theirs = incidents["theirs"].pk
    for path in ("", "timeline/", "updates/", "sla/"):
        response = api.get(f"/api/v1/incidents/{theirs}/{path}")
        assert response.status_code == 404, path
        assert "ZQINTERNAL" not in response.content.decode()
    assert api.get(f"/api/v1/incidents/{incidents['mine'].pk}/updates/").status_code == 200


def test_a_responder_sees_the_communication_page_of_their_incidents_only(
    client, responder, incidents
):
    client.force_login(responder)
    url = reverse("console:incident_communication", args=[incidents["theirs"].pk])
    assert client.get(url).status_code == 404
    url = reverse("console:incident_communication", args=[incidents["mine"].pk])
    assert client.get(url).status_code == 200


def test_managers_and_executives_still_read_every_incident(manager, executive, incidents):
    for user in (manager, executive):
        rows = _api(user).get("/api/v1/incidents/").json()["results"]
        assert {row["id"] for row in rows} == {i.pk for i in incidents.values()}
