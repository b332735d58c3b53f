"""The configuration history: a change through the console, the admin or the API is kept with
who, when, before and after; the changes page lists it; the handbook shows any date's
configuration."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation.models import CommunicationRule, EscalationRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _readers_in_english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


ROW = {
    "position": "0",
    "is_active": "on",
    "audience": "executives",
    "channels": ["email"],
    "template": "executive_update",
}


def test_a_console_edit_of_the_matrix_is_kept_with_who_when_before_and_after(client, manager):
    rule = CommunicationRule.objects.create(
        audience="executives", channels=["email"], cadence_minutes=0, template="executive_update"
    )
    client.force_login(manager)
    response = client.post(f"/console/matrix/{rule.pk}/", {**ROW, "cadence_minutes": "30"})
    assert response.status_code == 302, response.content

    version = rule.history.order_by("-history_date", "-history_id").first()
    assert version.history_user == manager and version.history_type == "~"
    delta = version.diff_against(version.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("cadence_minutes", 0, 30)]

    page = client.get("/console/handbook/changes/")
    assert page.status_code == 200
    compact = re.sub(r"\s+", " ", page.content.decode())
    assert "<td>update every (minutes)</td><td>0</td><td>30</td>" in compact
    assert f">{manager.display_name}</td>" in compact


def test_an_admin_change_and_a_deletion_are_in_the_history(client, admin_user):
    rule = EscalationRule.objects.create(name="P1 immer", max_priority=1)
    client.force_login(admin_user)
    response = client.post(f"/admin/escalation/escalationrule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    kinds = list(
        EscalationRule.history.filter(id=rule.pk)
        .order_by("history_date", "history_id")
        .values_list("history_type", "history_user")
    )
    assert kinds == [("+", None), ("-", admin_user.pk)]


def test_the_handbook_as_of_a_date_shows_that_dates_configuration(client, manager):
    long_ago = timezone.now() - timedelta(days=10)
    with time_machine.travel(long_ago, tick=False):
        rule = CommunicationRule.objects.create(
            audience="executives", channels=["email"], cadence_minutes=45
        )
    rule.cadence_minutes = 15
    rule.save()
    client.force_login(manager)

    now = client.get("/console/handbook/").content.decode()
    assert "every 15 minutes" in now and "every 45 minutes" not in now
    day = (long_ago + timedelta(hours=1)).date().isoformat()
    then = client.get(f"/console/handbook/?as_of={day}").content.decode()
    assert "every 45 minutes" in then and "every 15 minutes" not in then
    before = (long_ago - timedelta(days=2)).date().isoformat()
    assert (
        "every 45 minutes" not in client.get(f"/console/handbook/?as_of={before}").content.decode()
    )

    changes = client.get(
        f"/console/handbook/changes/?from={day}&to={timezone.localdate().isoformat()}"
    ).content.decode()
    assert "<td>45</td><td>15</td>" in re.sub(r"\s+", "", changes)


def test_handbook_sections_say_where_they_are_configured_and_bad_dates_are_a_400(
    client, manager, executive, customer_contact
):
    client.force_login(manager)
    page = client.get("/console/handbook/").content.decode()
    for where in ("/console/matrix/", "/admin/escalation/escalationrule/", "/admin/auth/group/"):
        assert f'href="{where}"' in page
    assert client.get("/console/handbook/?as_of=gestern").status_code == 400
    assert client.get("/console/handbook/changes/?from=2026-12-01&to=2026-11-01").status_code == 400
    client.force_login(executive)
    assert client.get("/console/handbook/").status_code == 200
    client.force_login(customer_contact)
    assert client.get("/console/handbook/").status_code == 403
    assert client.get("/console/handbook/changes/").status_code == 403


def test_the_handbook_reads_in_german(client, manager):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    client.force_login(manager)
    page = client.get("/console/handbook/").content.decode()
    assert "Prozesshandbuch" in page and "Konfiguriert unter" in page
    assert "Kommunikationsmatrix: wer wen informiert" in page


def test_a_change_of_grouping_rules_is_kept_but_never_the_integration_key(client, manager):
    from escalation.models import Integration
    from escalation.services.integrations import integration_create
    from tests.factories import ServiceFactory

    zabbix = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="Zabbix"
    )
    client.force_login(manager)
    response = client.post(
        f"/console/integrations/{zabbix.pk}/",
        {"group_labels": "source, component", "group_window": "30", "flap_window": "0"},
    )
    assert response.status_code == 302, response.content

    version = zabbix.history.order_by("-history_date", "-history_id").first()
    assert version.history_user == manager and version.history_type == "~"
    delta = version.diff_against(version.prev_record)
    assert sorted((c.field, c.old, c.new) for c in delta.changes) == [
        ("group_labels", [], ["source", "component"]),
        ("group_window", 0, 30),
        ("resolve_on_resolved", True, False),  # the form's box was left unticked
    ]
    assert not hasattr(version, "key") and not hasattr(version, "last_event_at")

    page = client.get("/console/handbook/changes/")
    compact = re.sub(r"\s+", " ", page.content.decode())
    assert "roles and integrations" in compact
    assert "<td>group by labels</td><td>–</td><td>component, source</td>" in compact
    assert "<td>group window (minutes)</td><td>0</td><td>30</td>" in compact
    assert zabbix.key not in compact


def test_a_change_of_grouping_rules_outside_a_request_names_its_actor(manager):
    from escalation.models import Integration
    from escalation.services.integrations import integration_create, integration_rules_set
    from tests.factories import ServiceFactory

    zabbix = integration_create(kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="Z")
    integration_rules_set(integration=zabbix, actor=manager, group_labels=["source"])
    version = zabbix.history.order_by("-history_date", "-history_id").first()
    assert (version.history_type, version.history_user, version.group_labels) == (
        "~",
        manager,
        ["source"],
    )
