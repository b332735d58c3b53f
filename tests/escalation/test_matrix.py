"""The communication matrix decides who is informed, how and how often, by priority, customer and
service; update deadlines remind the commander."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group

from escalation import roles
from escalation.models import Clock, CommunicationRule, ContactMethod
from escalation.services import incident_classify, incident_escalate
from escalation.services.clocks import clocks_tick
from escalation.services.public import public_incident_publish
from incidents.models import IncidentEvent
from incidents.services import incident_update_details
from notifications.models import Notification
from tests.factories import CustomerFactory, IncidentFactory, ServiceFactory, UserFactory, drive

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.fixture
def world(db, executive, customer, other_customer, customer_contact, other_customer_contact):
    portal = ServiceFactory(slug="portal")
    portal.customers.add(customer, other_customer)
    payments = ServiceFactory(slug="payments")
    payments.customers.add(customer)
    ContactMethod.objects.create(
        user=customer_contact, channel="webhook", address="https://kunde.example.org/hook"
    )
    CommunicationRule.objects.create(
        position=1, priority=1, audience="executives", channels=["email"], cadence_minutes=30
    )
    CommunicationRule.objects.create(
        position=2, priority=1, audience="customers", channels=["email", "webhook"],
        cadence_minutes=60, template="customer_incident",
    )  # fmt: skip
    CommunicationRule.objects.create(
        position=3, customer=other_customer, audience="customers", channels=["email"],
        template="customer_incident_key_account",
    )  # fmt: skip
    duty = UserFactory(username="paul.payments")
    rule = CommunicationRule.objects.create(
        position=4, service=payments, audience="responders", channels=["email"]
    )
    rule.users.add(duty)
    return {"portal": portal, "payments": payments, "duty": duty}


def informed(incident):
    return sorted(
        (n.recipient.username, n.channel, n.template)
        for n in Notification.objects.filter(dedup_key__startswith=f"comm:{incident.pk}:")
    )


def customers_informed(face):
    return sorted(
        (n.recipient.username, n.channel, n.template)
        for n in Notification.objects.filter(dedup_key__startswith=f"pub:{face.pk}:")
    )


def test_p1_on_the_portal_informs_executives_and_customers_only_once_published(world, manager):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(services=[world["portal"]])
        incident = incident_classify(
            incident=incident, actor=manager, impact="high", urgency="high"
        )
    # Escalated: the team's audiences hear at once; customers hear nothing without a public face.
    assert informed(incident) == [("erika.executive", "email", "incident_escalated")]
    decisions = IncidentEvent.objects.filter(incident=incident, kind="matrix_decision")
    assert [(d.data["audience"], d.data.get("withheld")) for d in decisions.order_by("seq")] == [
        ("executives", None), ("customers", "no public face"), ("customers", "no public face"),
    ]  # fmt: skip
    due = Clock.objects.filter(incident=incident, kind="update_due").order_by("due_at")
    assert [(c.payload["audience"], c.due_at) for c in due] == [
        ("executives", T0 + timedelta(minutes=30)),
        ("customers", T0 + timedelta(hours=1)),
    ]
    # A person publishes: every affected customer's contacts hear it, through the row's template.
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        face = public_incident_publish(actor=manager, incidents=[incident])
    assert customers_informed(face) == [
        ("carl.contact", "email", "customer_incident"),
        ("carl.contact", "webhook", "customer_incident"),
        ("olga.other", "email", "customer_incident"),
    ]
    # ... and the customer clock starts again from the publication.
    due = Clock.objects.filter(
        incident=incident, kind="update_due", status="pending", payload__audience="customers"
    )
    assert [c.due_at for c in due] == [T0 + timedelta(minutes=70)]


def test_an_auto_publish_row_publishes_with_the_services_standard_text(world, manager):
    world["portal"].public_text = "Das Portal ist gestört. Wir arbeiten an der Behebung."
    world["portal"].public_text_en = "The portal is disrupted. We are working on a fix."
    world["portal"].save()
    CommunicationRule.objects.filter(priority=1, audience="customers").update(auto_publish=True)
    incident = IncidentFactory(services=[world["portal"]], title="Meridian meldet Ausfall")
    incident = incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
    face = incident.public_incidents.get()
    assert face.published_rule and face.published_by is None
    assert face.body.startswith("Das Portal ist gestört") and face.body_en.startswith("The portal")
    assert "Meridian" not in face.title + face.title_en
    mails = Notification.objects.filter(dedup_key__startswith=f"pub:{face.pk}:")
    assert {n.recipient.username for n in mails} == {"carl.contact", "olga.other"}
    assert all(n.context["title"] == face.title_in(n.language) for n in mails)
    assert IncidentEvent.objects.filter(incident=incident, kind="public_published").count() == 1


def test_p3_on_payments_pulls_in_the_payments_responder_only(world, manager, other_customer):
    incident = drive(IncidentFactory(services=[world["payments"]]), "classified")
    incident_escalate(incident=incident, actor=manager, reason="Zahlungen betroffen")
    assert incident.priority == 3
    assert informed(incident) == [("paul.payments", "email", "incident_escalated")]


def test_key_account_rule_only_for_its_customer(world, manager, customer):
    incident = drive(IncidentFactory(customers=[customer]), "classified")
    incident_escalate(incident=incident, actor=manager, reason="Kunde meldet Ausfall")
    assert informed(incident) == []


def test_update_due_reminds_the_commander_unless_an_update_was_written(world, manager):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(services=[world["portal"]])
        incident = incident_classify(
            incident=incident, actor=manager, impact="high", urgency="high"
        )
        incident_update_details(incident=incident, actor=manager, commander=manager)
    # 30 minutes: no executive update was written -> reminder to the commander.
    clocks_tick(now=T0 + timedelta(minutes=30, seconds=1))
    reminders = Notification.objects.filter(template="update_due", recipient=manager)
    assert [r.context["update_audience"] for r in reminders] == ["executive"]
    # The commander publishes for customers at 50 minutes: the customer deadline starts anew.
    with time_machine.travel(T0 + timedelta(minutes=50), tick=False):
        public_incident_publish(actor=manager, incidents=[incident], body="Wir arbeiten daran")
    clocks_tick(now=T0 + timedelta(minutes=60, seconds=1))
    assert [r.context["update_audience"] for r in reminders.order_by("created_at")] == [
        "executive",
        "executive",
    ]  # the second executive deadline; none for customers
    due = IncidentEvent.objects.filter(incident=incident, kind="update_due").order_by("seq")
    assert [(d.data["audience"], d.data["fresh_update"]) for d in due] == [
        ("executive", False),
        ("executive", False),  # due at 60:01
    ]
    # The next deadlines are scheduled.
    pending = Clock.objects.filter(incident=incident, kind="update_due", status="pending")
    assert sorted(c.due_at for c in pending) == [
        T0 + timedelta(minutes=90, seconds=1),
        T0 + timedelta(minutes=110),  # customers: 60 minutes after the publication
    ]


def test_matrix_group_for_responders(world, manager, responder):
    rule = CommunicationRule.objects.create(
        position=0, audience="responders", channels=["email"],
        group=Group.objects.get(name=roles.RESPONDER),
    )  # fmt: skip
    incident = drive(IncidentFactory(customers=[CustomerFactory()]), "classified")
    incident_escalate(incident=incident, actor=manager, reason="Test")
    assert ("rolf.responder", "email", "incident_escalated") in informed(incident)
    rule.delete()
