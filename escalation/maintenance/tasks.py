"""Celery tasks of maintenance windows (thin: call a service)."""

from celery import shared_task

from .notices import notices_fire


@shared_task(ignore_result=True)
def maintenance_notices_tick() -> int:
    return notices_fire()
