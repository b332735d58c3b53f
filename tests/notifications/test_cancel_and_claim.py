"""Cancelling and claiming outbox rows: the rules a mutation survived (cancel touched rows
already sent; the 'two workers' test claimed twice in one thread)."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_enqueue, notifications_cancel, notifications_claim

Status = Notification.Status


def enqueue(key: str) -> Notification:
    with transaction.atomic():
        notification, _ = notification_enqueue(
            dedup_key=key,
            channel="webhook",
            address="http://127.0.0.1:9/",
            template="page",
            context={"title": "x"},
        )
    return notification


@pytest.mark.django_db
def test_cancel_by_prefix_touches_only_unsent_rows():
    rows = {status: enqueue(f"page:7:{status}") for status in Status.values}
    for status, row in rows.items():
        Notification.objects.filter(pk=row.pk).update(status=status)
    other = enqueue("page:70:pending")  # a longer id that merely shares the text prefix
    cancelled = notifications_cancel(dedup_prefix="page:7:")
    after = dict(Notification.objects.values_list("dedup_key", "status"))
    assert cancelled == 2
    for status in Status.values:
        expected = Status.CANCELLED if status in (Status.PENDING, Status.FAILED) else status
        assert after[f"page:7:{status}"] == expected, status
    assert after[other.dedup_key] == Status.PENDING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as every such test here
def test_two_concurrent_workers_never_claim_one_row():
    """Eight threads, each with its own database connection, claim the same 50 rows at once:
    every row is won exactly once."""
    ids = [enqueue(f"claim:{n}").pk for n in range(50)]
    now = timezone.now()
    barrier = threading.Barrier(8)
    won: list[list[int]] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            won.append([n.pk for n in notifications_claim(ids=ids, now=now)])
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    claimed = [pk for batch in won for pk in batch]
    assert sorted(claimed) == sorted(ids)  # each row once, none twice
    assert Notification.objects.filter(pk__in=ids, status=Status.SENDING).count() == 50


@pytest.mark.django_db
def test_one_claim_takes_several_rows_with_their_recipients(django_assert_num_queries):
    """One conditional UPDATE for the whole batch, then one SELECT that brings the recipients
    along (a worker reads each message's recipient while sending)."""
    from tests.factories import UserFactory

    rows = [enqueue(f"batch:{n}") for n in range(3)]
    reader = UserFactory(username="reader")
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(recipient=reader)
    with django_assert_num_queries(2):
        won = notifications_claim(ids=[r.pk for r in rows], now=timezone.now())
        assert [n.recipient.username for n in won] == ["reader"] * 3
    assert [n.pk for n in won] == sorted(r.pk for r in rows)
    assert notifications_claim(ids=[r.pk for r in rows], now=timezone.now()) == []
