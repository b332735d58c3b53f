"""Celery tasks of the escalation process: thin adapters around services."""

from celery import shared_task

from .services.clocks import clocks_tick


@shared_task(ignore_result=True, acks_late=True)
def clock_tick() -> int:
    """Fire every due clock row (next escalation level, ladder step, update due)."""
    return clocks_tick()


@shared_task(ignore_result=True)
def executive_digest() -> int:
    """One message per executive with every open escalation."""
    from .services.matrix import executive_digest_send

    return executive_digest_send()
