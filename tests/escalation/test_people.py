"""People on an incident: the commander, the communications lead and scribe roles, responders
pulled in by hand (paged through their ladder), and who the next levels will page, and when."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from escalation import roles
from escalation.models import (
    EscalationLevel,
    EscalationPolicy,
    IncidentRole,
    LayerMember,
    OnCallSchedule,
    Page,
    ScheduleLayer,
)
from escalation.selectors import console_incidents_for, upcoming_levels
from escalation.services import incident_acknowledge, incident_classify
from escalation.services.clocks import clocks_tick
from escalation.services.people import (
    incident_commander_change,
    incident_responder_pull_in,
    incident_role_assign,
    incident_role_end,
)
from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import IncidentEvent, State
from notifications.models import Notification
from tests.factories import IncidentFactory, ServiceFactory, UserFactory, drive

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday, 15:00 in Berlin


def _responder(username, first_name):
    user = UserFactory(username=username, first_name=first_name, last_name="Test")
    user.groups.add(Group.objects.get(name=roles.RESPONDER))
    return user


@pytest.fixture
def olaf(db):
    return _responder("olaf.oncall", "Olaf")


@pytest.fixture
def eva(db):
    return _responder("eva.extra", "Eva")


@pytest.fixture
def service(db, responder, olaf):
    responder.groups.add(Group.objects.get(name=roles.RESPONDER))
    service = ServiceFactory(slug="kundenportal")
    schedule = OnCallSchedule.objects.create(name="Plattform")
    layer = ScheduleLayer.objects.create(
        schedule=schedule, rotation="weekly", start_date=date(2026, 1, 5), handoff_time=time(9)
    )
    LayerMember.objects.create(layer=layer, user=olaf, position=0)
    policy = EscalationPolicy.objects.create(name="Kundenportal", repeat=0)
    policy.services.add(service)
    EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=10).users.add(
        responder
    )
    EscalationLevel.objects.create(policy=policy, position=1, timeout_minutes=15, schedule=schedule)
    return service


def escalated(service, manager):
    incident = IncidentFactory(services=[service], actor=manager, commander=manager)
    return incident_classify(incident=incident, actor=manager, impact="high", urgency="high")


def kinds(incident):
    return list(IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True))


def test_upcoming_levels_name_who_will_be_paged_and_when(service, manager, olaf):
    with time_machine.travel(T0, tick=False):
        incident = escalated(service, manager)
        upcoming = upcoming_levels(incident, T0)
    # Level 2 (the rota: Olaf) when level 1's 10 minutes are up; level 3 (the escalation
    # managers on duty, which every policy ends with) 15 minutes after that.
    assert [(u["level"], u["at"]) for u in upcoming] == [
        (2, T0 + timedelta(minutes=10)),
        (3, T0 + timedelta(minutes=25)),
    ]
    assert upcoming[0]["people"] == [olaf]
    assert upcoming[1]["people"] == [manager]

    with time_machine.travel(T0 + timedelta(minutes=10, seconds=1), tick=False):
        clocks_tick()
        assert [u["level"] for u in upcoming_levels(incident, T0 + timedelta(minutes=11))] == [3]
        incident_acknowledge(incident=incident, actor=olaf)
    assert upcoming_levels(incident, T0 + timedelta(minutes=12)) == []


def test_the_incident_page_shows_people_and_the_next_levels(client, service, manager, olaf):
    incident = escalated(service, manager)
    client.force_login(manager)
    body = client.get(reverse("console:incident", args=[incident.pk])).content.decode()
    section = body[body.index('id="people"') :]
    assert " 2: Olaf Test</li>" in section  # "level 2" / "Stufe 2" in the manager's language
    assert "Rolf" in section or "rolf" in section  # paged at level 1


def test_the_commander_is_changed_by_a_manager_or_the_commander_only(
    service, manager, responder, olaf
):
    incident = escalated(service, manager)
    with pytest.raises(PermissionDenied):
        incident_commander_change(incident=incident, actor=responder, user=responder)
    incident = incident_commander_change(incident=incident, actor=manager, user=responder)
    assert incident.commander == responder
    # The new commander hands it on; the old one (a manager) keeps the incident anyway.
    incident = incident_commander_change(incident=incident, actor=responder, user=olaf)
    assert incident.commander == olaf
    assert kinds(incident).count("changed") == 2


def test_nobody_but_staff_can_be_put_on_an_incident(service, manager, executive):
    incident = escalated(service, manager)
    with pytest.raises(InvalidInput):
        incident_commander_change(incident=incident, actor=manager, user=executive)
    with pytest.raises(InvalidInput):
        incident_role_assign(incident=incident, actor=manager, role="scribe", user=executive)
    with pytest.raises(InvalidInput):
        incident_role_assign(incident=incident, actor=manager, role="cook", user=manager)


def test_a_role_has_one_holder_who_reaches_the_incident_in_the_console(service, manager, eva, olaf):
    incident = escalated(service, manager)
    assert incident not in console_incidents_for(eva)
    incident_role_assign(incident=incident, actor=manager, role="communications_lead", user=eva)
    assert incident in console_incidents_for(eva)
    incident_role_assign(incident=incident, actor=manager, role="communications_lead", user=olaf)
    holders = IncidentRole.objects.filter(incident=incident, role="communications_lead")
    assert [(r.user, r.ended_at is None) for r in holders] == [(eva, False), (olaf, True)]
    assert incident not in console_incidents_for(eva)  # stepped down: no longer pulled in
    incident_role_end(incident=incident, actor=manager, role="communications_lead")
    assert not holders.filter(ended_at=None).exists()
    assert kinds(incident)[-3:] == ["role_assigned", "role_assigned", "role_ended"]


def test_a_responder_pulled_in_is_paged_at_once_through_their_ladder(
    service, manager, responder, eva
):
    incident = escalated(service, manager)
    assert incident in console_incidents_for(responder)  # paged at level 1
    incident_responder_pull_in(incident=incident, actor=responder, user=eva)

    page = Page.objects.get(incident=incident, user=eva)
    assert page.level_index == 0
    mail = Notification.objects.get(recipient=eva, template="page")
    assert "/ack/" in mail.context["ack_url"]
    assert incident in console_incidents_for(eva)
    assert kinds(incident)[-2:] == ["page_sent", "responder_pulled_in"]

    with pytest.raises(InvalidInput, match="already been paged"):
        incident_responder_pull_in(incident=incident, actor=manager, user=eva)


def test_pulling_in_needs_a_running_escalation_and_an_open_incident(manager, eva):
    incident = drive(IncidentFactory(actor=manager), State.CLASSIFIED, actor=manager)  # P3
    with pytest.raises(InvalidInput, match="Escalate the incident first"):
        incident_responder_pull_in(incident=incident, actor=manager, user=eva)
    resolved = drive(IncidentFactory(actor=manager), State.RESOLVED, actor=manager)
    with pytest.raises(InvalidInput, match="resolved"):
        incident_responder_pull_in(incident=resolved, actor=manager, user=eva)
    assert not Page.objects.filter(user=eva).exists()


def test_somebody_not_working_on_the_incident_may_not_pull_people_in(service, manager, eva):
    incident = escalated(service, manager)
    outsider = _responder("otto.outsider", "Otto")
    with pytest.raises(PermissionDenied):
        incident_responder_pull_in(incident=incident, actor=outsider, user=eva)


def test_console_forms_change_people_and_explain_refusals(client, service, manager, eva):
    incident = escalated(service, manager)
    manager.language = "de"
    manager.save()
    client.force_login(manager)
    url = reverse("console:people_role", args=[incident.pk])
    response = client.post(url, {"role": "scribe", "user": eva.pk})
    assert response.status_code == 302
    assert IncidentRole.objects.get(incident=incident, role="scribe", ended_at=None).user == eva
    response = client.post(url, {"role": "scribe", "user": ""})  # nobody any more
    assert response.status_code == 302
    assert not IncidentRole.objects.filter(incident=incident, ended_at=None).exists()

    pull_in = reverse("console:people_pull_in", args=[incident.pk])
    assert client.post(pull_in, {"user": eva.pk}).status_code == 302
    again = client.post(pull_in, {"user": eva.pk})
    assert again.status_code == 400
    assert "wurde auf dieser Stufe bereits alarmiert" in again.content.decode()  # in German
    assert client.post(pull_in, {"user": "999999"}).status_code == 400


def test_the_api_reads_and_changes_people(client, service, manager, responder, olaf, eva):
    incident = escalated(service, manager)
    client.force_login(manager)
    base = f"/api/v1/incidents/{incident.pk}/people/"
    body = client.get(base).json()
    assert body["commander"]["username"] == "mara.manager"
    assert [p["user"]["username"] for p in body["paged"]] == ["rolf.responder"]
    assert [(u["level"], [p["username"] for p in u["people"]]) for u in body["upcoming"]] == [
        (2, ["olaf.oncall"]),
        (3, ["mara.manager"]),
    ]

    body = client.post(
        base + "responders/", {"user": "eva.extra"}, content_type="application/json"
    ).json()
    assert [p["user"]["username"] for p in body["paged"]] == ["rolf.responder", "eva.extra"]
    body = client.post(
        base + "roles/", {"role": "scribe", "user": "eva.extra"}, content_type="application/json"
    ).json()
    assert [(r["role"], r["user"]["username"]) for r in body["roles"]] == [("scribe", "eva.extra")]
    body = client.post(
        base + "commander/", {"user": "olaf.oncall"}, content_type="application/json"
    ).json()
    assert body["commander"]["username"] == "olaf.oncall"

    refused = client.post(base + "commander/", {"user": "nobody"}, content_type="application/json")
    assert refused.status_code == 400
    assert (
        set(refused.json()) == {"code", "detail", "errors"} and "user" in refused.json()["errors"]
    )
    again = client.post(
        base + "responders/", {"user": "eva.extra"}, content_type="application/json"
    )
    assert again.status_code == 400 and "already been paged" in again.json()["detail"]
