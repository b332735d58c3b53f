"""Every message links the page its audience may open: pages and the team's mail the console
incident page (never the Django admin), executive mail the dashboard, customer mail the status
page and (for a customer contact) the portal; all under BASE_URL."""

import pytest
from django.contrib.auth.models import Group

from escalation import roles
from escalation.models import CommunicationRule, EscalationLevel, EscalationPolicy
from escalation.services import incident_classify
from escalation.services.matrix import update_publish
from notifications.models import Notification
from notifications.rendering import render
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8210"


@pytest.fixture
def escalated(settings, manager, responder, executive, customer, customer_contact):
    settings.BASE_URL = BASE
    service = ServiceFactory(slug="portal")
    service.customers.add(customer)
    responder.groups.add(Group.objects.get(name=roles.RESPONDER))
    policy = EscalationPolicy.objects.create(name="Portal", repeat=0)
    policy.services.add(service)
    EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=10).users.add(
        responder
    )
    for position, (audience, template) in enumerate(
        [
            ("manager", "internal_update"),
            ("executives", "executive_update"),
            ("customers", "customer_update"),
        ]
    ):
        rule = CommunicationRule.objects.create(
            position=position,
            audience=audience,
            channels=["email"],
            cadence_minutes=30,
            template=template,
        )
        if audience == "manager":
            rule.users.add(manager)
    incident = IncidentFactory(services=[service], actor=manager)
    return incident_classify(incident=incident, actor=manager, impact="high", urgency="high")


def text_of(template, recipient):
    notification = Notification.objects.filter(template=template, recipient=recipient).latest("pk")
    message = render(notification)
    return message.text + message.html


def test_page_and_team_mail_link_the_console(escalated, responder, manager):
    console = f"{BASE}/console/incidents/{escalated.pk}/"
    for template, person in [("page", responder), ("internal_update", manager)]:
        text = text_of(template, person)
        assert console in text
        assert "/admin/" not in text


def test_executive_mail_links_the_dashboard(escalated, executive, manager):
    update_publish(incident=escalated, actor=manager, audience="executive", body="Lage stabil.")
    text = text_of("executive_update", executive)
    assert f"{BASE}/dashboard/" in text
    assert "/console/" not in text and "/admin/" not in text


def test_customer_mail_links_status_page_and_portal(escalated, customer_contact, manager):
    from escalation.services.public import public_incident_publish

    public_incident_publish(actor=manager, incidents=[escalated], title="Kundenportal gestört")
    update_publish(incident=escalated, actor=manager, audience="customer", body="Wir arbeiten.")
    text = text_of("customer_update", customer_contact)
    assert f"{BASE}/status/" in text
    assert f"{BASE}/portal/incidents/{escalated.pk}/" in text
    assert "/console/" not in text and "/admin/" not in text and "/dashboard/" not in text


def test_subscriber_mail_links_the_status_page_only(escalated):
    from escalation import selectors

    links = selectors.audience_links(escalated, None, audience="customer")
    assert links == {
        "incident_url": f"{BASE}/status/",
        "status_url": f"{BASE}/status/",
        "portal_url": "",
    }
