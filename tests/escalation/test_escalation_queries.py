"""The clock tick classifying and escalating a new alert's incident (an alert storm's hot path):
a bounded number of statements, and still every record an escalation needs, once each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from escalation.models import Clock, EscalationRun, Integration, Page
from escalation.services.clocks import clocks_tick
from escalation.services.integrations import integration_create
from incidents.models import Incident, State
from incidents.timeline import verify_incident
from notifications.models import Notification
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

# The whole tick, on PostgreSQL and SQLite alike: 47 (72 before the lookups a new run cannot need
# were dropped, the escalation's timeline entries stored in one INSERT, and the communication
# matrix read once per tick: with no row naming a customer or service, neither is read).
MAX_STATEMENTS = 47


def alert(integration: Integration, key: str) -> Incident:
    body = {
        "routing_key": integration.key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {"summary": f"{key} down", "source": "web01", "severity": "critical"},
    }
    response = APIClient().post("/api/v1/integrations/events/v2/enqueue", body, format="json")
    assert response.status_code == 202, response.content
    return Incident.objects.get(dedup_key=key)


def test_classifying_and_escalating_a_new_alert_is_a_bounded_number_of_statements(manager):
    storm = integration_create(kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="x")
    incident = alert(storm, "checkout")
    with CaptureQueriesContext(connection) as statements:
        assert clocks_tick() == 1
    assert len(statements) <= MAX_STATEMENTS, "\n".join(q["sql"] for q in statements)

    incident.refresh_from_db()
    assert incident.state == State.ESCALATED and incident.paging_since is not None
    run = EscalationRun.objects.get(incident=incident)
    assert (run.status, run.level_index, run.cycle) == (EscalationRun.Status.ACTIVE, 0, 0)
    page = Page.objects.get(incident=incident)
    assert (page.user, page.run) == (manager, run)
    message = Notification.objects.get(dedup_key__startswith=f"page:{incident.pk}:")
    assert (message.template, message.address) == ("page", manager.email)
    assert (
        Clock.objects.filter(
            incident=incident, kind=Clock.Kind.LEVEL_TIMEOUT, status=Clock.Status.PENDING
        ).count()
        == 1
    )
    kinds = list(incident.events.order_by("seq").values_list("kind", flat=True))
    assert kinds[-4:] == ["escalated", "escalation_started", "page_sent", "level_paged"]
    assert verify_incident(incident) is None


def test_a_restart_after_reopening_pages_again_in_a_new_cycle(manager):
    from escalation.services import incident_reopen, incident_resolve

    storm = integration_create(kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="x")
    incident = alert(storm, "checkout")
    clocks_tick()
    incident = incident_resolve(incident=incident, actor=manager, resolution="Restarted.")
    incident = incident_reopen(incident=incident, actor=manager, reason="It is down again.")
    run = EscalationRun.objects.get(incident=incident)
    assert (run.status, run.cycle, run.snapshot["first_cycle"]) == ("active", 1, 1)
    assert list(
        Page.objects.filter(incident=incident).order_by("cycle").values_list("cycle", flat=True)
    ) == [0, 1]
    assert Notification.objects.filter(dedup_key__startswith=f"page:{incident.pk}:").count() == 2
    timeouts = Clock.objects.filter(incident=incident, kind=Clock.Kind.LEVEL_TIMEOUT)
    assert sorted(timeouts.values_list("key", "status")) == [
        (f"level:{incident.pk}:0:0", Clock.Status.CANCELLED),
        (f"level:{incident.pk}:1:0", Clock.Status.PENDING),
    ]
    assert verify_incident(incident) is None
