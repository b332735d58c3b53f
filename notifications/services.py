"""Writes on the outbox. Callers hand over a recipient, a channel, a template and a context; this
module knows nothing of incidents' rules.

Lifecycle of a row: pending -> sending (claimed by one worker with a conditional UPDATE, a lease
renewed while the worker holds it) -> sent (recorded right after its own send), or -> failed (retry
at next_attempt_at, exponential backoff with jitter) -> ... -> dead after NOTIFICATION_MAX_ATTEMPTS
or a permanent error. A row left in `sending` by a dead worker (its lease ran out), or a pending
row whose after-commit hand-off to Celery got lost, is picked up by the sweep.
"""

import hashlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser as User
from django.core import signing
from django.db import connection, transaction
from django.db.models import Q
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Notification, Subscription, SubscriptionRequest, SubscriptionScope
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
    signing_secret: str = "",
    previous_signing_secret: str = "",
    new: bool = False,
) -> tuple[Notification, bool]:
    """Queue one message in the caller's transaction; it is handed to Celery after commit.

    The same dedup_key is never queued twice (the second call returns the first row). `new`:
    the caller knows no message has this key (it names a row created in this transaction): one
    INSERT, no lookup.
    """
    assert transaction.get_connection().in_atomic_block, "enqueue inside the causing transaction"
    fields = {
        "channel": channel,
        "address": address,
        "template": template,
        "context": context,
        "recipient": recipient,
        "language": language,
        "subject": subject,
        "signing_secret": signing_secret,
        "previous_signing_secret": previous_signing_secret,
    }
    if new:
        notification, created = (
            Notification.objects.create(dedup_key=dedup_key[:255], **fields),
            True,
        )
    else:
        notification, created = Notification.objects.get_or_create(
            dedup_key=dedup_key[:255], defaults=fields
        )
    if created:
        _hand_off_after_commit(notification.pk, queue=notification_queue(template))
    return notification, created


def notification_queue(template: str) -> str:
    """The Celery queue a message travels on: pages (and the alert about a dead message) on a
    queue of their own, so that no volume of other messages can delay them."""
    if template in settings.NOTIFICATION_PAGE_TEMPLATES:
        return settings.CELERY_PAGES_QUEUE
    return settings.CELERY_TASK_DEFAULT_QUEUE


def notifications_by_queue(*, ids: list[int]) -> dict[str, list[int]]:
    """Split outbox ids by their queue (the pages queue first), keeping their order."""
    templates = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "template"))
    queues: dict[str, list[int]] = {settings.CELERY_PAGES_QUEUE: []}
    for pk in ids:
        if pk in templates:
            queues.setdefault(notification_queue(templates[pk]), []).append(pk)
    return {queue: queue_ids for queue, queue_ids in queues.items() if queue_ids}


HAND_OFF_BATCH = 100
DELIVER_BATCH = "notifications.tasks.deliver_batch"


def _hand_off_after_commit(notification_id: int, *, queue: str) -> None:
    """Collect the transaction's new rows; after commit, hand them to Celery in batches.

    One callback per transaction and queue (found again in the connection's on-commit list), so
    a transaction that queues a thousand messages sends ten broker messages, not a thousand. If
    the callback is discarded (its savepoint rolled back) or the broker is down, the sweep picks
    the rows up later.
    """
    connection = transaction.get_connection()
    for _sids, func, _robust in connection.run_on_commit:
        ids = getattr(func, "outbox_ids", None)
        if ids is not None and func.outbox_queue == queue:
            ids.append(notification_id)
            return
    ids = [notification_id]

    def hand_off() -> None:
        # Never raises: with the broker away the rows stay pending and the sweep sends them.
        from config.broker import enqueue

        for start in range(0, len(ids), HAND_OFF_BATCH):
            if not enqueue(DELIVER_BATCH, ids[start : start + HAND_OFF_BATCH], queue=queue):
                return

    hand_off.outbox_ids, hand_off.outbox_queue = ids, queue
    transaction.on_commit(hand_off)


def notifications_cancel(*, dedup_prefix: str) -> int:
    """Cancel messages not yet sent whose key starts with the prefix (e.g. an acknowledged page)."""
    return Notification.objects.filter(
        dedup_key__startswith=dedup_prefix, status__in=[Status.PENDING, Status.FAILED]
    ).update(status=Status.CANCELLED)


def notification_claim(*, notification_id: int, now: datetime) -> bool:
    """Atomically take a due row for sending; only one worker can win."""
    return bool(notifications_claim(ids=[notification_id], now=now))


def notifications_claim(*, ids: list[int], now: datetime) -> list[Notification]:
    """Take every due row of `ids` for sending with one conditional UPDATE; returns those won.

    UPDATE ... RETURNING (PostgreSQL, SQLite >= 3.35) tells exactly which rows this statement
    changed, so of two workers claiming the same rows each gets only what it really won.
    """
    if not ids:
        return []
    table = Notification._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sending_since = %s, attempts = attempts + 1 "  # noqa: S608 # nosec B608
            f"WHERE id IN ({marks}) AND status IN (%s, %s) AND next_attempt_at <= %s RETURNING id",
            [Status.SENDING, now, *ids, Status.PENDING, Status.FAILED, now],
        )
        won = [row[0] for row in cursor.fetchall()]
    return list(Notification.objects.filter(pk__in=won).select_related("recipient").order_by("pk"))


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with +-50 % jitter, capped."""
    base = settings.NOTIFICATION_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)
    seconds = min(base, settings.NOTIFICATION_BACKOFF_MAX_SECONDS) * random.uniform(0.5, 1.5)  # nosec B311
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Outcome:
    notification: Notification | None
    status: str  # sent, failed, dead, or "skipped" when another worker has it / nothing is due
    error: str = ""


def notification_deliver(*, notification_id: int) -> Outcome:
    """Claim, render, send, and record the result of one message. Safe to call twice."""
    outcomes = notifications_deliver(ids=[notification_id])
    return outcomes[0] if outcomes else Outcome(None, "skipped")


def notifications_deliver(*, ids: list[int]) -> list[Outcome]:
    """Deliver every due row of `ids` that this worker wins; others are skipped (not listed).

    Rows are claimed a few at a time (CLAIM_GROUP), just before they are sent, and each row is
    recorded as sent by its own short UPDATE right after its send (autocommit, outside any long
    transaction). While it works, the worker renews the lease of the rows it holds (Lease). So a
    worker killed mid-batch leaves behind: rows already sent (recorded), the one message in flight
    (the only one a receiver may get twice, with the same delivery id), the rest of its group
    (claimed: released by the sweep once their lease of NOTIFICATION_LEASE_SECONDS runs out) and
    rows it never claimed (still pending: requeued by the sweep).
    """
    outcomes = []
    for start in range(0, len(ids), CLAIM_GROUP):
        group = notifications_claim(ids=ids[start : start + CLAIM_GROUP], now=timezone.now())
        lease = Lease([n.pk for n in group])
        for notification in group:
            outcomes.append(_send(notification))
            lease.release(notification.pk)
            lease.renew_if_due()
    return outcomes


# Rows claimed by one UPDATE: small, so a dead worker strands few rows in `sending` and a long
# batch does not hold rows it will send only minutes later; large enough to save round trips.
CLAIM_GROUP = 10


class Lease:
    """The rows this worker holds in `sending`, kept alive by renewing `sending_since` between
    sends: every third of NOTIFICATION_LEASE_SECONDS, so a lease survives two missed renewals (a
    slow send, a busy machine) and costs one short UPDATE per third of a lease, not one per
    message. One send is bounded by its transport's timeout (WEBHOOK_TIMEOUT_SECONDS,
    EMAIL_TIMEOUT), which must stay below the lease."""

    def __init__(self, ids: list[int]):
        self.held = set(ids)
        self.renewed = time.monotonic()

    def release(self, pk: int) -> None:
        self.held.discard(pk)

    def renew_if_due(self) -> None:
        if (
            not self.held
            or time.monotonic() - self.renewed < settings.NOTIFICATION_LEASE_SECONDS / 3
        ):
            return
        Notification.objects.filter(pk__in=self.held, status=Status.SENDING).update(
            sending_since=timezone.now()
        )
        self.renewed = time.monotonic()


def _send(notification: Notification) -> Outcome:
    """Render and send one claimed row, and record the result at once (one short UPDATE)."""
    try:
        message = render(notification)
        TRANSPORTS[notification.channel]().send(message)
    except TransportError as exc:
        return _failed(notification, exc.message, permanent=exc.permanent)
    except (TemplateDoesNotExist, TemplateSyntaxError, KeyError) as exc:
        return _failed(notification, f"cannot render: {exc!r}", permanent=True)
    # It was sent, whatever happened to the row meanwhile (a lease that ran out on a very slow
    # send was released by the sweep): recording it stops a second copy.
    Notification.objects.filter(pk=notification.pk).exclude(status=Status.SENT).update(
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
        status=Status.FAILED,
        sending_since=None,
        last_error="worker lost while sending",
        next_attempt_at=now,
    )
    handoff = now - timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS)
    due = Notification.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=handoff)
        | Q(status=Status.FAILED, next_attempt_at__lte=now)
    ).order_by("next_attempt_at")
    return list(due.values_list("pk", flat=True)[:5000])


# --- Subscriptions -----------------------------------------------------------------------------

SUBSCRIPTION_SALT = "notifications.subscription"


def subscription_token(subscription: Subscription) -> str:
    """The signed secret in confirm, preference and unsubscribe links: the same every time (no
    timestamp), and no expiry: an unsubscribe link in a year-old email must still work."""
    return signing.Signer(salt=SUBSCRIPTION_SALT).sign_object(subscription.pk)


def subscription_from_token(token: str) -> Subscription:
    try:
        pk = signing.Signer(salt=SUBSCRIPTION_SALT).unsign_object(token)
        return Subscription.objects.get(pk=pk)
    except (signing.BadSignature, Subscription.DoesNotExist, TypeError, ValueError) as exc:
        raise SubscriptionLinkInvalid(_("This link is not valid.")) from exc


class SubscriptionLinkInvalid(Exception):
    pass


def subscription_links(subscription: Subscription) -> dict:
    token = subscription_token(subscription)
    base = settings.BASE_URL
    return {
        "confirm_url": f"{base}{reverse('subscription_confirm', args=[token])}",
        "manage_url": f"{base}{reverse('subscription_manage', args=[token])}",
        "unsubscribe_url": f"{base}{reverse('subscription_unsubscribe', args=[token])}",
    }


def subscription_scope_key(scopes: list[str] | str) -> str:
    """The `scope` of a subscription to these scopes: the scope itself for one, a stable key of
    the set for several (the same set in any order gives the same key)."""
    if isinstance(scopes, str):
        return scopes
    unique = sorted(set(scopes))
    if len(unique) == 1:
        return unique[0]
    digest = hashlib.sha256("\n".join(unique).encode()).hexdigest()[:24]
    return f"set:{digest}"


class SubscriptionThrottled(Exception):
    """Too many subscription requests for this address or from this client in the last hour."""


def subscription_signing_secrets(subscription: Subscription) -> dict:
    """The signing arguments of notification_enqueue for a subscription (webhooks only)."""
    if subscription.channel != "webhook":
        return {}
    secret, previous = subscription.secrets_to_sign()
    return {"signing_secret": secret, "previous_signing_secret": previous}


def _throttle(*, address: str, client_address: str | None) -> None:
    """Count this request; refuse it when the address or the client asked too often within the
    hour (each confirmation is a message to somebody who may never have asked for it)."""
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    recent = SubscriptionRequest.objects.filter(created_at__gte=hour_ago)
    if recent.filter(address_digest=digest).count() >= settings.SUBSCRIBE_PER_ADDRESS_HOUR:
        raise SubscriptionThrottled
    if client_address and (
        recent.filter(client_address=client_address).count() >= settings.SUBSCRIBE_PER_CLIENT_HOUR
    ):
        raise SubscriptionThrottled
    SubscriptionRequest.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    SubscriptionRequest.objects.create(
        address_digest=digest, client_address=client_address, created_at=now
    )


@transaction.atomic
def subscription_request(
    *,
    channel: str,
    address: str,
    scope: list[str] | str,
    scope_label: str,
    language: str,
    client_address: str | None = None,
    anonymous: bool = True,
) -> Subscription:
    """Self-service: record the wish and send the confirmation (double opt-in). Asking again
    re-sends the confirmation; it never reveals whether the address was subscribed before.
    `scope` is one scope or a list of them (several services, a whole group): one subscription,
    one confirmation, one unsubscribe link for all of them.

    An anonymous webhook waits for an administrator's approval (subscription_approve) before
    even its confirmation is sent: nobody can make this installation POST to any URL they like.
    Raises SubscriptionThrottled when the address or the client asked too often this hour."""
    _throttle(address=address, client_address=client_address)
    scopes = sorted({scope} if isinstance(scope, str) else set(scope))
    subscription, _created = Subscription.objects.get_or_create(
        channel=channel,
        address=address,
        scope=subscription_scope_key(scopes),
        defaults={
            "scope_label": scope_label,
            "language": language,
            "client_address": client_address,
            "needs_approval": anonymous and channel == "webhook",
        },
    )
    SubscriptionScope.objects.bulk_create(
        [SubscriptionScope(subscription=subscription, scope=s) for s in scopes],
        ignore_conflicts=True,
    )
    if subscription.confirmed_at and subscription.is_active:
        return subscription
    Subscription.objects.filter(pk=subscription.pk).update(is_active=True, language=language)
    subscription.refresh_from_db()
    if not subscription.needs_approval:
        _send_confirmation(subscription)
    return subscription


def _send_confirmation(subscription: Subscription) -> None:
    links = subscription_links(subscription)
    notification_enqueue(
        dedup_key=f"subconfirm:{subscription.pk}:{int(timezone.now().timestamp() // 600)}",
        channel=subscription.channel,
        address=subscription.address,
        template="subscription_confirm",
        language=subscription.language,
        context={
            "confirm_url": links["confirm_url"],
            "scope_name": subscription.scope_label,
            "recipient_name": "",
        },
        **subscription_signing_secrets(subscription),
    )


@transaction.atomic
def subscription_approve(*, subscription: Subscription) -> Subscription:
    """An administrator lets an anonymous webhook subscription go ahead: its confirmation (with
    the link that confirms it) is sent now. Approving twice sends nothing new."""
    updated = Subscription.objects.filter(pk=subscription.pk, needs_approval=True).update(
        needs_approval=False, approved_at=timezone.now()
    )
    subscription.refresh_from_db()
    if updated and subscription.is_active and not subscription.confirmed_at:
        _send_confirmation(subscription)
    return subscription


def subscription_confirm(*, token: str) -> Subscription:
    subscription = subscription_from_token(token)
    Subscription.objects.filter(
        pk=subscription.pk, confirmed_at__isnull=True, needs_approval=False
    ).update(confirmed_at=timezone.now())
    Subscription.objects.filter(pk=subscription.pk).update(is_active=True)
    subscription.refresh_from_db()
    return subscription


def subscription_unsubscribe(*, token: str) -> Subscription:
    subscription = subscription_from_token(token)
    Subscription.objects.filter(pk=subscription.pk).update(is_active=False)
    subscription.refresh_from_db()
    return subscription


@transaction.atomic
def subscription_request_for_contact(
    *,
    contact: User,
    channel: str,
    address: str,
    scope: list[str] | str,
    scope_label: str,
    language: str,
    client_address: str | None = None,
) -> Subscription:
    """A customer contact asks for a subscription in the portal: the same double opt-in as
    self-service, and the contact is recorded as its owner, so that their organisation, and no
    other, sees it among its subscriptions. A running subscription of somebody else (confirmed and
    active) is never taken over: knowing an address is no right to manage it."""
    running = Subscription.objects.filter(
        channel=channel,
        address=address,
        scope=subscription_scope_key(scope),
        is_active=True,
        confirmed_at__isnull=False,
    ).exists()
    subscription = subscription_request(
        channel=channel,
        address=address,
        scope=scope,
        scope_label=scope_label,
        language=language,
        client_address=client_address,
        anonymous=False,
    )
    if not running:
        Subscription.objects.filter(pk=subscription.pk, user__isnull=True).update(user=contact)
    subscription.refresh_from_db()
    return subscription


def subscription_deactivate(*, subscription: Subscription) -> Subscription:
    """Stop sending to a subscription (the caller decided that the actor may); it can be asked
    for again, which re-sends the confirmation."""
    Subscription.objects.filter(pk=subscription.pk).update(is_active=False)
    subscription.refresh_from_db()
    return subscription


def subscription_set_language(*, token: str, language: str) -> Subscription:
    subscription = subscription_from_token(token)
    if language in ("de", "en"):
        Subscription.objects.filter(pk=subscription.pk).update(language=language)
    subscription.refresh_from_db()
    return subscription


def subscribers_for(scopes: list[str]) -> list[Subscription]:
    """Confirmed, active subscriptions to any of the scopes (one per channel and address)."""
    covering = SubscriptionScope.objects.filter(scope__in=scopes).values("subscription_id")
    found = Subscription.objects.filter(
        Q(scope__in=scopes) | Q(pk__in=covering),
        is_active=True,
        confirmed_at__isnull=False,
        needs_approval=False,
    ).order_by("pk")
    unique = {}
    for subscription in found:
        unique.setdefault((subscription.channel, subscription.address), subscription)
    return list(unique.values())
