"""Writes on the outbox. Callers hand over a recipient, a channel, a template and a context; this
module knows nothing of incidents' rules."""

from django.contrib.auth.models import AbstractBaseUser as User
from django.db import transaction

from .models import Notification


def notification_enqueue(
    *,
    dedup_key: str,
    channel: str,
    address: str,
    template: str,
    context: dict,
    recipient: User | None = None,
    language: str = "de",
) -> tuple[Notification, bool]:
    """Queue one message in the caller's transaction. The same dedup_key is never queued twice."""
    assert transaction.get_connection().in_atomic_block, "enqueue inside the causing transaction"
    return Notification.objects.get_or_create(
        dedup_key=dedup_key[:255],
        defaults={
            "channel": channel,
            "address": address,
            "template": template,
            "context": context,
            "recipient": recipient,
            "language": language,
        },
    )


def notifications_cancel(*, dedup_prefix: str) -> int:
    """Cancel messages not yet sent whose key starts with the prefix (e.g. an acknowledged page)."""
    return Notification.objects.filter(
        dedup_key__startswith=dedup_prefix, status=Notification.Status.PENDING
    ).update(status=Notification.Status.CANCELLED)
