"""Celery tasks of regulatory reporting (thin: call a service)."""

from celery import shared_task

from .services import reminders_fire


@shared_task(ignore_result=True)
def regulatory_tick() -> int:
    return reminders_fire()
