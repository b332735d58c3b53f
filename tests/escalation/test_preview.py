"""Preview equals sending: the console's update composer renders through the outbox's own
rendering function, from the context the matrix builds, so what it shows (start time, the "next
update by" promise, links, the recipient's language and time zone) is byte for byte what is sent."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from escalation.models import CommunicationRule
from escalation.services.matrix import update_preview
from escalation.services.public import public_incident_publish
from incidents.models import State
from notifications.models import Notification
from notifications.rendering import render
from tests.factories import IncidentFactory, drive

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 8, 40, tzinfo=UTC)


@pytest.fixture
def incident(manager, customer, customer_contact, executive):
    customer_contact.language, customer_contact.time_zone = "de", "Europe/Berlin"
    customer_contact.save()
    executive.language, executive.time_zone = "en", "America/New_York"
    executive.save()
    for audience, template in [
        ("customers", "customer_update"),
        ("executives", "executive_update"),
    ]:
        CommunicationRule.objects.create(
            audience=audience, channels=["email"], cadence_minutes=60, template=template
        )
    with time_machine.travel(T0, tick=False):
        incident = drive(IncidentFactory(customers=[customer], title="Portal"), State.ESCALATED)
        # customers hear of it only through its public face
        public_incident_publish(actor=manager, incidents=[incident], title="Portal gestört")
    return incident


@pytest.mark.parametrize(
    ("audience", "person", "language"),
    [("customer", "customer_contact", "de"), ("executive", "executive", "en")],
)
def test_preview_is_byte_for_byte_the_sent_message(
    request, client, manager, incident, audience, person, language
):
    person = request.getfixturevalue(person)
    body = "Wir arbeiten an einer Lösung & melden uns."
    at = datetime(2026, 11, 24, 9, 10, tzinfo=UTC)
    client.force_login(manager)
    url = reverse("console:incident_update", args=[incident.pk])
    with time_machine.travel(at, tick=False):
        preview = update_preview(incident=incident, audience=audience, body=f"  {body}\n")
        page = client.post(url, {"audience": audience, "body": body, "preview": "1"})
        assert client.post(url, {"audience": audience, "body": body}).status_code == 302
        sent = render(
            Notification.objects.filter(recipient=person, template=f"{audience}_update").latest(
                "pk"
            )
        )
    shown = preview[language]
    assert shown["recipient"] == person
    assert (shown["subject"], shown["text"], shown["html"]) == (sent.subject, sent.text, sent.html)
    # What the preview must show and once did not: the start time and the next-update promise.
    if language == "de":
        assert "Beginn der Störung: 24.11.2026 09:40 Uhr" in sent.text
        assert "Nächste Information spätestens um 11:10 Uhr" in sent.text
    else:
        assert "since 24 Nov 2026 03:40" in sent.text
        assert "Next update by 05:10" in sent.text
    assert escape(sent.text) in page.content.decode()
