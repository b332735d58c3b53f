"""Heartbeats of the Celery processes: beat sends the heartbeat task (and notes when), a worker
runs it (and notes when). /healthz answers 503 when either is older than HEARTBEAT_STALE_SECONDS
and /metrics reports both ages, so a dead worker or scheduler (nothing would page anybody) is
noticed within minutes."""

import logging
from datetime import datetime

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)

NAMES = ("worker", "beat")


def heartbeat_record(*, name: str, at: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": at or timezone.now()})


def beat_sent_heartbeat() -> None:
    """Called in beat's process as it sends the heartbeat task. Never raises (beat must go on
    scheduling the clock tick whatever happens to this note); beat has no request cycle, so a
    connection broken by a database restart is dropped here first."""
    try:
        close_old_connections()
        heartbeat_record(name="beat")
    except DatabaseError as exc:
        logger.warning("heartbeat: beat could not record its heartbeat: %s", exc)


def heartbeat_ages(now: datetime | None = None) -> dict[str, float | None]:
    """Seconds since each heartbeat (None: never recorded). One query."""
    now = now or timezone.now()
    ages: dict[str, float | None] = dict.fromkeys(NAMES)
    for name, at in Heartbeat.objects.filter(name__in=NAMES).values_list("name", "at"):
        ages[name] = max(0.0, (now - at).total_seconds())
    return ages
