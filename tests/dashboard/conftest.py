"""Fixtures for the executive dashboard tests: open escalations with what the dashboard shows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Clock
from incidents.models import State, Update
from tests.factories import CustomerFactory, IncidentFactory, drive


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def escalation(manager):
    """One open escalation (P3) for a customer, with an update deadline and executive updates."""
    return make_escalation(title="Rechenzentrum Nord: Stromausfall", commander=manager)


def make_escalation(*, title: str, commander=None, customers=None, with_extras: bool = True):
    customers = customers if customers is not None else [CustomerFactory()]
    incident = drive(
        IncidentFactory(title=title, commander=commander, customers=customers), State.ESCALATED
    )
    if with_extras:
        Update.objects.create(incident=incident, audience="executive", body=f"Older: {title}")
        Update.objects.create(
            incident=incident,
            audience="executive",
            body=f"Newest for executives: {title}",
            created_at=timezone.now() + timedelta(seconds=1),
        )
        Update.objects.create(incident=incident, audience="internal", body=f"Team only: {title}")
        Clock.objects.create(
            incident=incident,
            kind=Clock.Kind.UPDATE_DUE,
            due_at=timezone.now() + timedelta(minutes=25),
            key=f"test-update:{incident.pk}",
        )
    return incident
