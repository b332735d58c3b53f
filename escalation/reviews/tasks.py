"""Celery tasks of reviews and actions (thin: call a service)."""

from celery import shared_task

from .services import actions_tick


@shared_task(ignore_result=True)
def capa_tick() -> int:
    return actions_tick()
