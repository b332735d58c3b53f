"""Writes on the outbox. Callers hand over a recipient, a channel, a template and a context; this
module knows nothing of incidents' rules.

Lifecycle of a row: pending -> sending (claimed by one worker with a conditional UPDATE) -> sent, or
-> failed (retry at next_attempt_at, exponential backoff with jitter) -> ... -> dead after
NOTIFICATION_MAX_ATTEMPTS or a permanent error. A row left in `sending` by a dead worker, or a
pending row whose after-commit hand-off to Celery got lost, is picked up by the sweep.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser as User
from django.db import transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone

from .models import Notification
from .rendering import render
from .transports import TRANSPORTS, TransportError

logger = logging.getLogger(__name__)
Status = Notification.Status


def notification_enqueue(
    *,
    dedup_key: str,
    channel: str,
    address: str,
    template: str,
    context: dict,
    recipient: User | None = None,
    language: str = "de",
    subject: str = "",
) -> tuple[Notification, bool]:
    """Queue one message in the caller's transaction; it is handed to Celery after commit.

    The same dedup_key is never queued twice (the second call returns the first row).
    """
    assert transaction.get_connection().in_atomic_block, "enqueue inside the causing transaction"
    notification, created = Notification.objects.get_or_create(
        dedup_key=dedup_key[:255],
        defaults={
            "channel": channel,
            "address": address,
            "template": template,
            "context": context,
            "recipient": recipient,
            "language": language,
            "subject": subject,
        },
    )
    if created:
        from .tasks import deliver  # the task module imports this one

        transaction.on_commit(lambda: deliver.delay(notification.pk))
    return notification, created


def notifications_cancel(*, dedup_prefix: str) -> int:
    """Cancel messages not yet sent whose key starts with the prefix (e.g. an acknowledged page)."""
    return Notification.objects.filter(
        dedup_key__startswith=dedup_prefix, status__in=[Status.PENDING, Status.FAILED]
    ).update(status=Status.CANCELLED)


def notification_claim(*, notification_id: int, now: datetime) -> bool:
    """Atomically take a due row for sending; only one worker can win."""
    return bool(
        Notification.objects.filter(
            pk=notification_id, status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now
        ).update(status=Status.SENDING, sending_since=now, attempts=F("attempts") + 1)
    )


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with +-50 % jitter, capped."""
    base = settings.NOTIFICATION_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)
    seconds = min(base, settings.NOTIFICATION_BACKOFF_MAX_SECONDS) * random.uniform(0.5, 1.5)
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Outcome:
    notification: Notification | None
    status: str  # sent, failed, dead, or "skipped" when another worker has it / nothing is due
    error: str = ""


def notification_deliver(*, notification_id: int) -> Outcome:
    """Claim, render, send, and record the result of one message. Safe to call twice."""
    now = timezone.now()
    if not notification_claim(notification_id=notification_id, now=now):
        return Outcome(None, "skipped")
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        message = render(notification)
        TRANSPORTS[notification.channel]().send(message)
    except TransportError as exc:
        return _failed(notification, exc.message, permanent=exc.permanent)
    except (TemplateDoesNotExist, TemplateSyntaxError, KeyError) as exc:
        return _failed(notification, f"cannot render: {exc!r}", permanent=True)
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), last_error="", sending_since=None
    )
    notification.status = Status.SENT
    return Outcome(notification, Status.SENT)


def _failed(notification: Notification, error: str, *, permanent: bool) -> Outcome:
    dead = permanent or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    status = Status.DEAD if dead else Status.FAILED
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=status,
        last_error=error[:2000],
        sending_since=None,
        next_attempt_at=timezone.now() + backoff(notification.attempts),
    )
    notification.status, notification.last_error = status, error
    logger.warning("notification %s %s: %s", notification.pk, status, error)
    return Outcome(notification, status, error)


def notifications_sweep(*, now: datetime | None = None) -> list[int]:
    """Release rows of dead workers, and return every row that is due and should be (re)queued."""
    now = now or timezone.now()
    lease = now - timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    Notification.objects.filter(status=Status.SENDING, sending_since__lt=lease).update(
        status=Status.FAILED, sending_since=None, last_error="worker lost while sending",
        next_attempt_at=now,
    )  # fmt: skip
    handoff = now - timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS)
    due = Notification.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=handoff)
        | Q(status=Status.FAILED, next_attempt_at__lte=now)
    ).order_by("next_attempt_at")
    return list(due.values_list("pk", flat=True)[:5000])
