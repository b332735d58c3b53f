"""Pages travel on a Celery queue of their own: the after-commit hand-off and the sweep put them
there, the clock tick has a queue of its own, everything else stays on the default queue. (That a
page then really leaves while the default queue is held by a tarpit, or while the clock tick works
through a storm: tests/test_page_queue.py, with real workers.)"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.celery import app
from escalation.services import incident_classify
from notifications.models import Notification
from notifications.services import notification_enqueue
from notifications.tasks import sweep
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

PAGES, DEFAULT = settings.CELERY_PAGES_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE
CLOCKS = settings.CELERY_CLOCKS_QUEUE


def drain(queue: str) -> list[tuple[str, list]]:
    """(task name, first argument) of every message waiting on `queue` in the test broker."""
    found = []
    with app.connection_for_read() as conn:
        simple = conn.SimpleQueue(queue, no_ack=True)
        while True:
            try:
                message = simple.get(block=False)
            except simple.Empty:
                return found
            args, _kwargs, _embed = message.decode()
            found.append((message.headers["task"], args[0] if args else None))


@pytest.fixture(autouse=True)
def _empty_queues():
    drain(PAGES), drain(DEFAULT)


def test_a_page_and_a_subscriber_mail_of_one_transaction_go_to_different_queues(
    django_capture_on_commit_callbacks, manager
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        incident_classify(
            incident=IncidentFactory(title="Portal down"),
            actor=manager,
            impact="high",
            urgency="high",
        )
        mail, _ = notification_enqueue(
            dedup_key="subscriber:1",
            channel="webhook",
            address="http://127.0.0.1:9/",
            template="customer_update",
            context={},
        )
    page = Notification.objects.get(template="page", recipient=manager)
    assert drain(PAGES) == [("notifications.tasks.deliver_batch", [page.pk])]
    default = drain(DEFAULT)
    assert ("notifications.tasks.deliver_batch", [mail.pk]) in default
    assert all(page.pk not in (ids or []) for _task, ids in default)


def test_the_sweep_hands_pages_to_the_pages_queue(manager):
    with transaction.atomic():
        incident_classify(
            incident=IncidentFactory(title="Portal down"),
            actor=manager,
            impact="high",
            urgency="high",
        )
        other, _ = notification_enqueue(
            dedup_key="digest:1", channel="email", address="a@example.com",
            template="executive_digest", context={},
        )  # fmt: skip
    page = Notification.objects.get(template="page", recipient=manager)
    old = timezone.now() - timedelta(minutes=5)  # the after-commit hand-off "got lost"
    Notification.objects.update(next_attempt_at=old)
    drain(PAGES), drain(DEFAULT)

    sweep()

    assert drain(PAGES) == [("notifications.tasks.deliver_batch", [page.pk])]
    assert drain(DEFAULT) == [("notifications.tasks.deliver_batch", [other.pk])]


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("escalation.tasks.clock_tick", CLOCKS),  # starts paging; never holds the pages worker
        ("notifications.tasks.sweep", PAGES),  # re-queues lost pages
        ("notifications.tasks.deliver_batch", DEFAULT),  # unless the hand-off names the queue
        ("incidents.tasks.status_page_render", DEFAULT),
        ("escalation.tasks.executive_digest", DEFAULT),
    ],
)
def test_routes(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_worker_without_a_queue_option_consumes_all_three():
    assert {q.name for q in app.amqp.queues.consume_from.values()} >= {PAGES, DEFAULT, CLOCKS}
