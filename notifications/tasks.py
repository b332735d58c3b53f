"""Celery tasks of delivery (thin: ids in, services called). Delivery outcomes that matter to an
incident (a failure, a dead message) go to whoever registered for them in notifications.hooks (the
escalation process: timeline entry, alert to the escalation manager)."""

from celery import shared_task

from . import hooks
from .services import (
    HAND_OFF_BATCH,
    Outcome,
    notifications_by_queue,
    notifications_deliver,
    notifications_sweep,
)


def _report(outcomes: list[Outcome]) -> None:
    hooks.delivery_problems_report(
        [outcome.notification for outcome in outcomes if outcome.status in ("failed", "dead")]
    )


@shared_task(ignore_result=True, acks_late=True)
def deliver(notification_id: int) -> str:
    outcomes = notifications_deliver(ids=[notification_id])
    _report(outcomes)
    return outcomes[0].status if outcomes else "skipped"


@shared_task(ignore_result=True, acks_late=True)
def deliver_batch(notification_ids: list[int]) -> int:
    outcomes = notifications_deliver(ids=notification_ids)
    _report(outcomes)
    return len(outcomes)


@shared_task(ignore_result=True)
def sweep() -> int:
    """Re-queue what is due: retries, lost hand-offs, and rows of workers that died mid-send."""
    from config.broker import enqueue

    ids = notifications_sweep()
    for queue, queue_ids in notifications_by_queue(ids=ids).items():  # pages first
        for start in range(0, len(queue_ids), HAND_OFF_BATCH):
            batch = queue_ids[start : start + HAND_OFF_BATCH]
            if not enqueue(deliver_batch, batch, queue=queue):
                return len(ids)  # the broker is away: the next sweep finds them again
    return len(ids)
