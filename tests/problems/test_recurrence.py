"""Recurring disruptions: a service with PROBLEMS_RECURRENCE_COUNT incidents within
PROBLEMS_RECURRENCE_DAYS, none linked to a problem, shows in the console and on the executive
dashboard, with an offer to open a problem from them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from escalation.problems.selectors import recurring_disruptions
from escalation.problems.services import problem_create
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def service(db):
    return ServiceFactory(slug="zaehlerportal", name="Zählerportal")


def incident_at(when, service, actor):
    with time_machine.travel(when, tick=False):
        return IncidentFactory(services=[service], actor=actor)


def test_three_incidents_within_30_days_without_a_problem_recur(service, manager):
    old = incident_at(NOW - timedelta(days=31), service, manager)  # outside the window
    recent = [incident_at(NOW - timedelta(days=d), service, manager) for d in (20, 10)]
    with time_machine.travel(NOW, tick=False):
        assert recurring_disruptions(NOW) == []  # two within the window (and one before)
    recent.append(incident_at(NOW - timedelta(hours=1), service, manager))
    [row] = recurring_disruptions(NOW)
    assert row["service"]["slug"] == service.slug and row["count"] == 3
    assert row["incidents"] == [i.pk for i in reversed(recent)]  # newest first, not the old one
    assert old.pk not in row["incidents"]

    # Eleven days later the first of them has left the window.
    assert recurring_disruptions(NOW + timedelta(days=11)) == []

    # Linked to a problem, they are not a recurring disruption any more.
    problem_create(actor=manager, statement="Zählerportal", incidents=recent[:1])
    assert recurring_disruptions(NOW) == []


def test_the_thresholds_are_settings(service, manager, settings):
    settings.PROBLEMS_RECURRENCE_COUNT = 2
    settings.PROBLEMS_RECURRENCE_DAYS = 5
    incident_at(NOW - timedelta(days=6), service, manager)
    incident_at(NOW - timedelta(days=4), service, manager)
    assert recurring_disruptions(NOW) == []
    incident_at(NOW - timedelta(days=1), service, manager)
    assert [r["count"] for r in recurring_disruptions(NOW)] == [2]


def test_console_and_dashboard_offer_a_problem(service, manager, executive):
    incidents = [incident_at(NOW - timedelta(days=d), service, manager) for d in (3, 2, 1)]
    offer = "/console/problems/new/?service=zaehlerportal&amp;incidents="
    with time_machine.travel(NOW, tick=False):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(manager)
        page = client.get("/console/problems/").content.decode()
        assert "Recurring disruptions" in page and offer in page
        dashboard = client.get("/dashboard/").content.decode()
        assert "3 incidents without a problem" in dashboard and offer in dashboard
        # the offer opens the form prefilled with those incidents
        form = client.get(f"/console/problems/new/?incidents={incidents[0].pk}").content.decode()
        assert f'name="incidents" value="{incidents[0].pk}"' in form

        client.force_login(executive)
        dashboard = client.get("/dashboard/").content.decode()
        assert "3 incidents without a problem" in dashboard
        assert offer not in dashboard  # executives read only
