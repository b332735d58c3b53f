"""Celery tasks of delivery (thin: ids in, services called). Delivery outcomes that matter to an
incident (a failure, a dead message) are handed to the escalation process, which records them on the
timeline and alerts the escalation manager."""

from celery import shared_task

from .services import notification_deliver, notifications_sweep


@shared_task(ignore_result=True, acks_late=True)
def deliver(notification_id: int) -> str:
    outcome = notification_deliver(notification_id=notification_id)
    if outcome.status in ("failed", "dead"):
        from escalation.services.delivery import delivery_problem

        delivery_problem(notification=outcome.notification)
    return outcome.status


@shared_task(ignore_result=True)
def sweep() -> int:
    """Re-queue what is due: retries, lost hand-offs, and rows of workers that died mid-send."""
    ids = notifications_sweep()
    for notification_id in ids:
        deliver.delay(notification_id)
    return len(ids)
