"""Scheduled stakeholder updates with time travel: a reminder to the commander five minutes before
an update is due, an automatic digest when nobody wrote one, and every customer message promising
the next update, a promise then kept."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from escalation.models import CommunicationRule
from escalation.services import incident_classify
from escalation.services.clocks import clocks_tick
from escalation.services.matrix import update_publish
from escalation.services.public import public_incident_publish
from incidents.services import incident_update_details
from notifications.models import Notification
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def escalated(manager, customer, customer_contact, executive):
    CommunicationRule.objects.create(
        position=1,
        priority=1,
        audience="customers",
        channels=["email"],
        cadence_minutes=30,
        template="customer_update",
    )
    portal = ServiceFactory(slug="portal")
    portal.customers.add(customer)
    with time_machine.travel(T0, tick=False):
        incident = incident_classify(
            incident=IncidentFactory(services=[portal]),
            actor=manager,
            impact="high",
            urgency="high",
        )
        incident_update_details(incident=incident, actor=manager, commander=manager)
        public_incident_publish(actor=manager, incidents=[incident])  # customers hear from now
    incident.refresh_from_db()
    return incident


def messages(template):
    return list(Notification.objects.filter(template=template).order_by("created_at", "pk"))


def test_first_customer_message_promises_the_next_update(escalated, customer_contact):
    [first] = messages("customer_update")
    assert first.recipient == customer_contact
    assert first.context["next_update_at"] == at(30).isoformat()
    assert first.context["priority"] is None
    assert first.context["incident_url"].endswith(f"/portal/incidents/{escalated.pk}/")


def test_reminder_then_digest_then_the_promise_is_kept(escalated, manager, customer_contact):
    clocks_tick(now=at(24))
    assert messages("update_due") == []
    clocks_tick(now=at(25))  # five minutes before the update is due, none was written
    [reminder] = messages("update_due")
    assert reminder.recipient == manager and reminder.context["update_audience"] == "customer"
    assert reminder.context["due_at"] == at(30).isoformat()
    clocks_tick(now=at(30))  # still nothing written: an automatic digest goes to the customer
    [digest] = messages("digest_customer")
    assert digest.recipient == customer_contact
    assert digest.context["next_update_at"] == at(60).isoformat()
    # The next promise (60) is kept too: another digest at 60 if nobody writes.
    clocks_tick(now=at(55))
    clocks_tick(now=at(60))
    assert [d.context["next_update_at"] for d in messages("digest_customer")] == [
        at(60).isoformat(),
        at(90).isoformat(),
    ]
    assert len(messages("update_due")) == 2


def test_a_written_update_goes_out_and_resets_the_clock(escalated, manager, customer_contact):
    with time_machine.travel(at(20), tick=False):
        update_publish(
            incident=escalated,
            actor=manager,
            audience="customer",
            body="Die Anmeldung funktioniert wieder teilweise.",
        )
    sent = messages("customer_update")
    assert len(sent) == 2
    assert sent[1].context["latest_update"] == "Die Anmeldung funktioniert wieder teilweise."
    assert sent[1].context["next_update_at"] == at(50).isoformat()
    clocks_tick(now=at(30))  # the old deadline was replaced: no digest, no reminder
    assert messages("digest_customer") == [] and messages("update_due") == []
    clocks_tick(now=at(45))
    assert len(messages("update_due")) == 1
    clocks_tick(now=at(50))
    [digest] = messages("digest_customer")
    assert digest.context["next_update_at"] == at(80).isoformat()


def test_internal_text_never_reaches_customers(escalated, manager):
    with time_machine.travel(at(10), tick=False):
        update_publish(
            incident=escalated,
            actor=manager,
            audience="internal",
            body="DB-Failover manuell, Ticket INT-4711",
        )
    clocks_tick(now=at(30))
    for message in Notification.objects.filter(recipient__customer__isnull=False):
        assert "INT-4711" not in json_text(message.context)


def json_text(context) -> str:
    import json

    return json.dumps(context, ensure_ascii=False)


def test_executive_digest_lists_every_open_escalation(escalated, executive, settings):
    from escalation.services.matrix import executive_digest_send

    settings.EXECUTIVE_DIGEST_MINUTES = 60
    assert executive_digest_send(at=at(61)) == 1
    assert executive_digest_send(at=at(62)) == 1  # same period: the dedup key keeps it one message
    [digest] = messages("executive_digest")
    assert digest.recipient == executive and digest.context["count"] == 1
    item = digest.context["items"][0]
    assert item["title"] == escalated.title and item["next_update_at"]


def test_executive_digest_builds_its_list_once_not_per_reader(
    escalated, executive, settings, django_assert_max_num_queries
):
    from django.contrib.auth.models import Group

    from escalation.services.matrix import executive_digest_send
    from tests.factories import UserFactory

    settings.EXECUTIVE_DIGEST_MINUTES = 60
    group = Group.objects.get(name="executive")
    for i in range(10):
        UserFactory(username=f"exec{i}").groups.add(group)
    # Per reader: the address and the enqueue (get_or_create + savepoint); the list is built once.
    with django_assert_max_num_queries(70):  # 64 measured; the old per-reader build took twice
        assert executive_digest_send(at=at(61)) == 11
