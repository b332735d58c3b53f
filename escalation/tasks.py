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


@shared_task(ignore_result=True)
def schedule_imports_refresh() -> int:
    """Fetch the calendars of schedules imported from a URL again (their shifts change)."""
    from .services.oncall import schedule_imports_refresh as refresh

    return refresh()
