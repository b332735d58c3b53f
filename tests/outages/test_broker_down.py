"""A broker that is down never fails a committed change: the answer is the usual one, the rows
are stored, and the sweep hands them over once the broker is back."""

import time

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from config import broker
from escalation.models import EventWebhook, Integration
from escalation.services.integrations import integration_create
from incidents.models import Incident
from notifications.models import Notification
from notifications.services import notifications_sweep
from tests.factories import ServiceFactory

URL = "/api/v1/integrations/events/v2/enqueue"


def trigger(key: str) -> dict:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "disk-1",
        "payload": {"summary": "Disk almost full", "source": "db01", "severity": "critical"},
    }


# real commits, so the after-commit hand-off runs
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_is_stored_and_answered_202_while_the_broker_is_down(dead_broker, settings):
    settings.CLOCK_TICK_KICK = True  # the commit also queues a tick
    settings.STATUS_PAGE_RENDER_ASYNC = True  # and a status page render
    integration = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(slug="db"), name="Zabbix"
    )
    hook = EventWebhook.objects.create(name="Ops", url="http://127.0.0.1:9/events")
    started = time.monotonic()
    response = APIClient().post(URL, trigger(integration.key), format="json")
    took = time.monotonic() - started
    assert response.status_code == 202, response.content
    assert response.json()["dedup_key"] == "disk-1"
    incident = Incident.objects.get(dedup_key="disk-1")
    assert incident.alert_count == 1  # stored once; the sender has no reason to send it again
    [message] = Notification.objects.filter(address=hook.url)
    assert message.status == "pending"
    assert broker.state.paused_until > 0  # the hand-off failed and was logged, not raised
    assert took < 5, f"the request waited {took:.1f} s for the broker"
    # what the hand-off could not queue, the sweep finds (after the hand-off grace period)
    settings.NOTIFICATION_REQUEUE_AFTER_SECONDS = 0
    assert message.pk in notifications_sweep()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_task_survives_a_broker_that_is_down(dead_broker, settings):
    """The beat sweep runs in a worker whose broker connection may be gone: it logs, and the
    next sweep finds the same rows."""
    from notifications.services import notification_enqueue
    from notifications.tasks import sweep

    settings.NOTIFICATION_REQUEUE_AFTER_SECONDS = 0
    with transaction.atomic():
        notification_enqueue(
            channel="webhook",
            address="http://127.0.0.1:9/x",
            template="incident_event",
            language="en",
            context={},
            dedup_key="x-1",
        )
    broker.reset()  # the hand-off after that commit failed too; try again in the sweep
    assert sweep() == 1
    assert sweep() == 1  # still pending, found again


@pytest.mark.django_db
def test_enqueue_after_commit_logs_instead_of_raising(
    dead_broker, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        broker.enqueue_after_commit("notifications.tasks.deliver_batch", [1, 2])
    assert len(callbacks) == 1
    assert "left for the sweep" in caplog.text
    started = time.monotonic()
    assert broker.enqueue("notifications.tasks.deliver_batch", [3]) is False  # paused: at once
    assert time.monotonic() - started < 0.1
