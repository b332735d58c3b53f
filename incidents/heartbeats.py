"""Heartbeats of the Celery processes: beat sends the heartbeat task (and notes when), a worker
runs it (and notes when). /healthz answers 503 when either is older than HEARTBEAT_STALE_SECONDS
and /metrics reports both ages, so a dead worker or scheduler (nothing would page anybody) is
noticed within minutes."""

import logging
from datetime import datetime

from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)

# The default queue's worker, the pages queue's worker, the clocks queue's worker (a worker
# without -Q consumes all three and records all three), and beat.
NAMES = ("worker", "worker-pages", "worker-clocks", "beat")


def heartbeat_record(*, name: str, at: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": at or timezone.now()})


def heartbeat_note(name: str) -> None:
    """Record a heartbeat from a Celery process's signal handler: when beat sends the heartbeat
    task, and when the worker or beat has just started (so a fresh installation is healthy at
    once, not a heartbeat period later). Never raises: the process must go on whatever happens
    to this note. Outside a request nobody closes broken or old connections, so this does, before
    (a database restart) and after (a worker's parent process must not hand one to its children).
    """
    try:
        close_old_connections()
        heartbeat_record(name=name)
    except DatabaseError as exc:
        logger.warning("heartbeat: %s could not record its heartbeat: %s", name, exc)
    finally:
        connections.close_all()


def heartbeat_ages(now: datetime | None = None) -> dict[str, float | None]:
    """Seconds since each heartbeat (None: never recorded). One query."""
    now = now or timezone.now()
    ages: dict[str, float | None] = dict.fromkeys(NAMES)
    for name, at in Heartbeat.objects.filter(name__in=NAMES).values_list("name", "at"):
        ages[name] = max(0.0, (now - at).total_seconds())
    return ages
