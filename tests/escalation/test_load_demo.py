"""The demo data command: idempotent, complete (every state and role), timelines intact."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from escalation import roles
from escalation.management.commands.load_demo import INCIDENTS, PAYMENTS_RULE, USERS
from escalation.models import EscalationRule, Integration
from escalation.problems.demo import INCIDENTS as PROBLEM_INCIDENTS
from incidents.models import (
    Customer,
    EventKind,
    Incident,
    IncidentEvent,
    Service,
    ServiceGroup,
    State,
    Update,
    User,
)
from incidents.timeline import verify_all

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Row counts of every table (auto-created M2M tables included) and what the incidents say."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }
    incidents = sorted(
        Incident.objects.values_list(
            "title", "state", "priority", "updated_at", "timeline_length", "timeline_head"
        )
    )
    events = list(IncidentEvent.objects.order_by("pk").values_list("pk", "hash"))
    updates = list(Update.objects.order_by("pk").values_list("pk", "audience", "body"))
    users = sorted(User.objects.values_list("username", "password", "is_staff", "customer__slug"))
    return {
        "counts": counts,
        "incidents": incidents,
        "events": events,
        "updates": updates,
        "users": users,
    }


def test_running_twice_gives_the_same_data():
    first_output = load_demo()
    first = snapshot()
    second_output = load_demo()

    assert snapshot() == first
    assert "20 created now" in first_output
    assert "0 created now, 20 already there" in second_output


def test_creates_the_described_data():
    load_demo()

    assert Customer.objects.count() == 3
    assert set(Customer.objects.values_list("time_zone", flat=True)) == {
        "Europe/Berlin",
        "Europe/Vienna",
    }
    assert ServiceGroup.objects.count() == 3
    assert Service.objects.count() == 8
    assert Service.objects.filter(is_private=True).count() == 1
    assert not Service.objects.filter(customers=None).exists()
    assert not Service.objects.filter(group=None).exists()
    # and escalation/problems/demo.py's three, linked to its known error
    assert len(INCIDENTS) == 20
    assert Incident.objects.count() == len(INCIDENTS) + len(PROBLEM_INCIDENTS)
    rule = EscalationRule.objects.get(name=PAYMENTS_RULE)
    assert set(rule.services.values_list("group__slug", flat=True)) == {"zahlungsverkehr"}
    # Integrations with grouping rules, so that their console page and API show something.
    integrations = Integration.objects.order_by("kind")
    assert [(i.kind, i.group_labels, i.is_active) for i in integrations] == [
        ("alertmanager", ["alertname", "cluster"], True),
        ("events_v2", ["source"], True),
    ]
    for integration in integrations:
        integration.full_clean()


def test_every_state_is_represented():
    load_demo()

    assert set(Incident.objects.values_list("state", flat=True)) == set(State.values)
    # An acknowledged one, a reopened one and a false alarm resolved straight from "detected".
    assert Incident.objects.filter(acknowledged_at__isnull=False).exists()
    assert IncidentEvent.objects.filter(kind=EventKind.REOPENED).exists()
    false_alarm = IncidentEvent.objects.get(
        kind=EventKind.RESOLVED, from_state=State.DETECTED
    ).incident
    assert false_alarm.state == State.RESOLVED
    assert "Fehlalarm" in false_alarm.resolution
    # Both escalation rules decided something, and a person escalated one by hand.
    assert set(
        Incident.objects.exclude(escalation_rule="").values_list("escalation_rule", flat=True)
    ) == {
        "P1-P2 always escalate",
        PAYMENTS_RULE,
    }
    assert IncidentEvent.objects.filter(kind=EventKind.ESCALATED, actor__isnull=False).exists()
    # Closed escalated incidents carry their post-incident review.
    for incident in Incident.objects.filter(state=State.CLOSED, escalated_at__isnull=False):
        assert incident.review
    assert Update.objects.filter(audience="customer").exists()
    assert Update.objects.filter(audience="executive").exists()


def test_the_demo_shows_a_published_and_an_unpublished_disruption():
    from incidents.models import PublicIncident

    load_demo()
    published = PublicIncident.objects.exclude(status="resolved")
    assert published.filter(published_rule="").exists()  # published by a person
    assert published.exclude(published_rule="").exists()  # by the P1 auto-publish row
    assert PublicIncident.objects.filter(status="resolved").exists()  # with the all-clear
    unpublished = Incident.objects.filter(
        state=State.ESCALATED, public_incidents__isnull=True
    ).values_list("title", flat=True)
    assert "SEPA-Lastschriftdatei für den Abrechnungslauf nicht erzeugt" in unpublished


def test_every_role_has_a_user():
    load_demo()

    for role in roles.ROLE_PERMISSIONS:
        assert User.objects.filter(groups__name=role).exists(), role
    for customer in Customer.objects.all():
        assert customer.contacts.filter(groups__name=roles.CUSTOMER_CONTACT).exists()
    # Two escalation managers: reviews are approved by a second person (four eyes).
    assert all(u.is_staff for u in User.objects.filter(groups__name=roles.ESCALATION_MANAGER))
    assert User.objects.get(groups__name=roles.RESPONDER).is_staff
    assert not User.objects.get(groups__name=roles.EXECUTIVE).is_staff
    assert not User.objects.filter(groups__name=roles.CUSTOMER_CONTACT, is_staff=True).exists()
    assert not User.objects.filter(is_superuser=True).exists()
    for spec in USERS:
        assert User.objects.get(username=spec.username).check_password(spec.password)


def test_prints_the_logins():
    output = load_demo()

    for spec in USERS:
        line = next(line for line in output.splitlines() if f" {spec.username} " in line)
        assert spec.password in line


def test_timelines_verify():
    load_demo()
    load_demo()

    assert list(verify_all()) == []
    for incident in Incident.objects.all():
        assert incident.timeline_length == incident.events.count() > 0


def test_history_has_its_real_timestamps():
    """Each step of a demo incident happened at its time: acknowledged in minutes, resolved
    within hours of detection (not at load time), so MTTA, MTTR and availability look real."""
    from datetime import timedelta

    call_command("load_demo", verbosity=0)
    past = Incident.objects.filter(state__in=[State.RESOLVED, State.CLOSED])
    assert past.count() >= 8
    for incident in past:
        assert incident.resolved_at - incident.detected_at < timedelta(hours=6), incident.title
        if incident.acknowledged_at:
            assert incident.acknowledged_at - incident.detected_at < timedelta(minutes=30)
        last = incident.events.order_by("-seq").first()  # not at load time
        assert last.created_at - incident.detected_at < timedelta(days=2), incident.title


def test_the_demo_status_page_shows_believable_availability():
    """A new user's first look at the status page: most services above 99 % over 90 days (the
    demo's history has its real timestamps, so a past outage costs hours, not weeks)."""
    from incidents.statuspage.build import build

    call_command("load_demo", verbosity=0)
    page = build()
    components = [c for g in page.groups for c in g.components] + list(page.ungrouped)
    assert components
    above = [c for c in components if c.uptime > 99.0]
    assert len(above) > len(components) / 2, [(c.name, round(c.uptime, 3)) for c in components]
    assert all(c.uptime > 95.0 for c in components), [(c.name, c.uptime) for c in components]
