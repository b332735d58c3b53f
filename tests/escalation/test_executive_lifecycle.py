"""Executives hear the whole lifecycle in their words and language, linking the dashboard:
escalated, each update, workaround in place, resolved (their all-clear). The all-clear promises
nothing more, the open "next update" deadlines are cancelled, and it is on the timeline."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from escalation.models import Clock, CommunicationRule
from escalation.services import incident_classify, incident_provide_workaround, incident_resolve
from escalation.services.clocks import clocks_tick
from escalation.services.matrix import update_publish
from incidents.models import IncidentEvent
from notifications.models import Notification
from notifications.rendering import render
from tests.factories import IncidentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 8, 40, tzinfo=UTC)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def executives(executive):
    from django.contrib.auth.models import Group

    from escalation import roles

    executive.language = "de"
    executive.save()
    english = UserFactory(username="ed.executive", language="en", time_zone="Europe/London")
    english.groups.add(Group.objects.get(name=roles.EXECUTIVE))
    return executive, english


@pytest.fixture
def incident(settings, manager, executives):
    settings.BASE_URL = "http://127.0.0.1:8210"
    CommunicationRule.objects.create(
        audience="executives", channels=["email"], cadence_minutes=30, template="executive_update"
    )
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(services=[ServiceFactory()], title="ERP down", actor=manager)
        return incident_classify(incident=incident, actor=manager, impact="high", urgency="high")


def mails(person):
    return [
        render(n)
        for n in Notification.objects.filter(
            recipient=person, template="executive_update"
        ).order_by("created_at", "pk")
    ]


def test_every_step_reaches_each_executive_in_their_language(incident, manager, executives):
    german, english = executives
    with time_machine.travel(at(10), tick=False):
        update_publish(incident=incident, actor=manager, audience="executive", body="Lage stabil.")
    with time_machine.travel(at(20), tick=False):
        incident_provide_workaround(incident=incident, actor=manager, workaround="Manuell buchen.")
    with time_machine.travel(at(25), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Server getauscht.")

    de, en = mails(german), mails(english)
    assert len(de) == len(en) == 4
    assert [m.subject for m in de] == [
        "[P1] Eskaliert: ERP down",
        "[P1] Eskaliert: ERP down",
        "[P1] Workaround aktiv: ERP down",
        "[P1] Entwarnung – Gelöst: ERP down",
    ]
    assert "eine Störung wurde eskaliert" in de[0].text
    assert "Lage stabil." in de[1].text
    assert "ist ein Workaround aktiv" in de[2].text and "Manuell buchen." in de[2].text
    assert "Entwarnung: Die eskalierte Störung „ERP down“ ist gelöst." in de[3].text
    assert "Server getauscht." in de[3].text
    assert [m.subject for m in en][-1] == "[P1] All clear – Resolved: ERP down"
    assert "All clear: the escalated disruption" in en[3].text
    assert "A workaround is in place" in en[2].text
    for message in de + en:
        assert "http://127.0.0.1:8210/dashboard/" in message.text
        assert "http://127.0.0.1:8210/dashboard/" in message.html
    # Each step but the last promises the next update; the all-clear promises nothing.
    assert "Nächste Information spätestens um 10:30 Uhr" in de[2].text  # 09:30 UTC, Berlin
    assert "Nächste Information" not in de[3].text
    assert "Next update" not in en[3].text
    assert "Übergangslösung" not in de[0].text + de[0].html


def test_resolve_cancels_the_promise_and_is_on_the_timeline(incident, manager, executives):
    with time_machine.travel(at(5), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Fehlalarm behoben.")
    assert not Clock.objects.filter(incident=incident, status="pending").exists()
    [entry] = IncidentEvent.objects.filter(incident=incident, kind="lifecycle_sent")
    assert entry.data["event"] == "resolved" and entry.data["next_update_due"] is None
    assert {i["to"] for i in entry.data["informed"]} == {u.username for u in executives}
    before = Notification.objects.count()
    clocks_tick(now=at(120))  # no digest and no reminder after the all-clear
    assert Notification.objects.count() == before


def test_no_all_clear_to_executives_never_told(manager, executives):
    CommunicationRule.objects.create(
        audience="executives", channels=["email"], cadence_minutes=30, template="executive_update"
    )
    incident = IncidentFactory(services=[ServiceFactory()], title="Blip", actor=manager)
    incident_resolve(incident=incident, actor=manager, resolution="False alarm.")
    assert not Notification.objects.filter(template="executive_update").exists()
    assert not IncidentEvent.objects.filter(incident=incident, kind="lifecycle_sent").exists()


def test_communication_plan_shows_what_was_sent_and_what_is_still_due(
    client, incident, manager, executives
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(manager)
    url = f"/console/incidents/{incident.pk}/communication/"
    with time_machine.travel(at(1), tick=False):
        page = client.get(url).content.decode()
    # Open: the next update to executives, the workaround message and the all-clear are due.
    due = page[page.index('id="still-due"') :]
    assert "Update due" in due and "Executives" in due
    assert "When a workaround is in place" in due and "At resolve" in due and "All-clear" in due
    assert "erika.executive" in due and "ed.executive" in due
    assert "escalation" in page[: page.index('id="still-due"')]
    with time_machine.travel(at(25), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Server getauscht.")
        page = client.get(url).content.decode()
    due = page[page.index('id="still-due"') :]
    assert "Nothing more is due: the all-clear went out at" in due
    assert "Update due" not in due and "At resolve" not in due
    assert "all-clear" in page[: page.index('id="still-due"')]
