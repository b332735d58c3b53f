"""/api/v1/integrations/: the team reads the integrations (never their keys), escalation managers
set the grouping rules, and what the ingest could not read is refused with the API's 400."""

import pytest
from rest_framework.test import APIClient

from escalation.models import Integration
from escalation.services.integrations import integration_create
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def zabbix():
    return integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(slug="portal"), name="Zabbix"
    )


def test_the_team_reads_the_rules_but_never_the_key(zabbix, manager, responder):
    for user in (manager, responder):
        [listed] = api(user).get("/api/v1/integrations/").json()
        assert listed == {
            "id": zabbix.pk,
            "name": "Zabbix",
            "kind": "events_v2",
            "service": "portal",
            "is_active": True,
            "last_event_at": None,
            "group_labels": [],
            "group_window": 0,
            "flap_window": 0,
            "resolve_on_resolved": True,
        }
        detail = api(user).get(f"/api/v1/integrations/{zabbix.pk}/")
        assert detail.json() == listed and zabbix.key not in detail.content.decode()


def test_a_manager_sets_the_grouping_rules_and_the_ingest_follows_them(zabbix, manager):
    answer = api(manager).patch(
        f"/api/v1/integrations/{zabbix.pk}/",
        {"group_labels": ["source"], "group_window": 30, "flap_window": 5},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["group_labels"] == ["source"] and answer.json()["flap_window"] == 5
    zabbix.refresh_from_db()
    assert (zabbix.group_labels, zabbix.group_window, zabbix.flap_window) == (["source"], 30, 5)
    for key in ("a", "b"):
        event = {
            "routing_key": zabbix.key,
            "event_action": "trigger",
            "dedup_key": key,
            "payload": {"summary": f"{key} down", "source": "db01", "severity": "critical"},
        }
        sent = APIClient().post("/api/v1/integrations/events/v2/enqueue", event, format="json")
        assert sent.status_code == 202
    assert zabbix.service.incidents.count() == 1  # grouped by source


@pytest.mark.parametrize(
    "body",
    [
        {"group_labels": "source"},
        {"group_labels": {"source": 1}},
        {"group_labels": ["source", "source"]},
        {"group_labels": ["source", 5]},
        {"group_labels": [""]},
        {"group_labels": [f"l{n}" for n in range(11)]},
        {"group_window": -1},
        {"flap_window": 10**9},
        {"resolve_on_resolved": "maybe"},
        # A boolean is JSON's true or false, as the schema says (schemathesis sent 0).
        {"resolve_on_resolved": 0},
        {"resolve_on_resolved": "false"},
    ],
)
def test_rules_the_ingest_could_not_read_are_a_400_and_change_nothing(zabbix, manager, body):
    answer = api(manager).patch(f"/api/v1/integrations/{zabbix.pk}/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid" and set(answer.json()["errors"]) == set(body)
    zabbix.refresh_from_db()
    assert (zabbix.group_labels, zabbix.group_window, zabbix.flap_window) == ([], 0, 0)
    assert zabbix.resolve_on_resolved is True


def test_only_escalation_managers_change_rules_and_only_the_team_reads(
    zabbix, responder, executive, customer_contact
):
    url = f"/api/v1/integrations/{zabbix.pk}/"
    refused = api(responder).patch(url, {"group_labels": ["source"]}, format="json")
    assert refused.status_code == 403
    for user in (executive, customer_contact):
        assert api(user).get("/api/v1/integrations/").status_code == 403
        assert api(user).get(url).status_code == 403
        assert api(user).patch(url, {"group_labels": ["x"]}, format="json").status_code == 403
    zabbix.refresh_from_db()
    assert zabbix.group_labels == []
    assert APIClient().get("/api/v1/integrations/").status_code == 401
