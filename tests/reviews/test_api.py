"""The reviews and actions in the API: the same services as the console, errors in the one
JSON shape (409 frozen, 403 four eyes), customers see nothing."""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from escalation import roles
from escalation.services import incident_resolve
from incidents.models import State
from tests.factories import IncidentFactory, UserFactory, drive

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_review_lifecycle_and_actions_through_the_api(manager, customer_contact):
    other = UserFactory(username="otto.zweit", is_staff=True)
    other.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
    incident = drive(IncidentFactory(), State.WORKAROUND, actor=manager)
    url = f"/api/v1/incidents/{incident.pk}/review/"
    api = client_for(manager)
    assert api.get(url).status_code == 404  # none yet
    incident = incident_resolve(incident=incident, actor=manager, resolution="Fix")
    drafted = api.get(url).json()  # resolving an escalated incident drafted it
    assert drafted["state"] == "draft" and drafted["author"] is None
    assert api.post(url).json()["id"] == drafted["id"]  # drafting again returns it
    body = api.patch(url, {"root_cause": "Netzteil", "key_moments": [1]}, format="json").json()
    assert body["root_cause"] == "Netzteil" and body["key_moments"][0]["seq"] == 1
    assert api.patch(url, {"key_moments": [999]}, format="json").status_code == 400
    action = api.post(
        "/api/v1/actions/",
        {
            "incident": incident.pk,
            "title": "Redundante Netzteile",
            "kind": "corrective",
            "owner": manager.username,
            "due_on": "2030-01-10",
            "check_on": "2030-01-01",
        },
        format="json",
    )
    assert action.status_code == 400 and "check_on" in action.json()["errors"]
    action = api.post(
        "/api/v1/actions/",
        {
            "incident": incident.pk,
            "title": "Redundante Netzteile",
            "kind": "corrective",
            "owner": manager.username,
            "due_on": "2030-01-10",
            "check_on": "2030-04-10",
        },
        format="json",
    )
    assert action.status_code == 201, action.content
    assert api.post(f"{url}submit/").status_code == 200
    refused = api.post(f"{url}approve/")
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes"
    assert client_for(other).post(f"{url}approve/").json()["state"] == "approved"
    frozen = api.patch(url, {"summary": "anders"}, format="json")
    assert frozen.status_code == 409 and frozen.json()["code"] == "review_state"
    listed = api.get("/api/v1/actions/?state=open").json()
    assert [a["title"] for a in listed] == ["Redundante Netzteile"]
    assert listed[0]["due_on"] == date(2030, 1, 10).isoformat()
    assert api.get("/api/v1/actions/?state=nonsense").status_code == 400
    customer = client_for(customer_contact)
    assert customer.get(url).status_code == 404
    assert customer.get("/api/v1/actions/").status_code == 404
