"""Celery tasks of the incident record: thin adapters around services and checks."""

import logging

from celery import shared_task
from django.utils import timezone

from .heartbeats import heartbeat_record
from .statuspage.render import request_render
from .timeline import verify_all

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> str:
    """Proves that beat and a worker both run: beat sends it once per queue (and records when, in
    config/celery.py), the worker of that queue logs it and records when it ran, as `name`
    (worker, worker-pages, worker-clocks), for /healthz and /metrics."""
    now = timezone.now()
    logger.info("heartbeat: beat and %s are running (%s)", name, now.isoformat())
    heartbeat_record(name=name, at=now)
    return now.isoformat()


@shared_task(ignore_result=True)
def timeline_verify_all() -> int:
    """Re-verify every incident's hash chain; log each break. Returns the count."""
    breaks = 0
    for problem in verify_all():
        breaks += 1
        logger.error("timeline integrity: %s", problem)
    if not breaks:
        logger.info("timeline integrity: every incident's chain is intact")
    return breaks


@shared_task(ignore_result=True)
def status_page_render(rested: bool = False) -> bool:
    """Re-render the public status page (coalesced with a render already running; never raises:
    the stored page stays as it was and the next run tries again). `rested`: queued by a render
    under a storm for the end of its rest (incidents.statuspage.render.RESTING)."""
    return request_render(rested=rested)
