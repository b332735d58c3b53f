"""Delivery: the outbox. One row per message to one recipient over one channel, written in the same
transaction as the change that causes it, handed to Celery after commit, claimed atomically by one
worker, retried with backoff, and swept up again if a broker message or a worker is lost."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .outbound import validate_outbound_url
from .signing_secrets import RotatableSecret, new_signing_secret

# A local part (before the @) as RFC 6531 allows it: letters and digits of any script, the
# printable ASCII specials of a dot-atom, dots only between characters.
_UTF8_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
UTF8_LOCAL_PART = re.compile(rf"{_UTF8_ATOM}(?:\.{_UTF8_ATOM})*")


def validate_email_address(value: str) -> None:
    """An address mail can reach from here. An internationalised domain (kunde@müller-logistik.de)
    is sent in punycode; letters such as "ü" before the @ (jürgen@müller-logistik.de) are sent
    with SMTPUTF8 (notifications/mail.py), which the mail server must offer."""
    local, _at, domain = value.rpartition("@")
    if local.isascii():
        EmailValidator()(value)
        return
    if len(local.encode()) > 64 or not UTF8_LOCAL_PART.fullmatch(local):
        raise ValidationError(EmailValidator.message, code="invalid")
    EmailValidator()(f"x@{domain}")  # the domain as for any address


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    APPRISE = "apprise", _("Chat/SMS (Apprise URL)")
    WEBHOOK = "webhook", _("Webhook")


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        DEAD = "dead", _("Dead")
        CANCELLED = "cancelled", _("Cancelled")

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dedup_key = models.CharField(max_length=255, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=1000)
    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=5, default="de")
    context = models.JSONField(default=dict, blank=True)
    signing_secret = models.CharField(
        max_length=100, blank=True, help_text="webhooks: sign with this instead of WEBHOOK_SECRET"
    )
    previous_signing_secret = models.CharField(
        max_length=100, blank=True, help_text="webhooks: a rotated secret, also signed with"
    )
    subject = models.CharField(
        max_length=100, blank=True, help_text="what the message is about, e.g. incident:42"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["subject", "created_at"], name="notification_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.template} -> {self.address} ({self.status})"


class Subscription(RotatableSecret):
    """Someone who wants customer-facing updates about a service or a customer: a customer's
    contact or a self-service subscriber (email with double opt-in, or a webhook). An anonymous
    webhook subscription waits for an administrator's approval before anything is sent to it."""

    channel = models.CharField(
        _("channel"),
        max_length=20,
        choices=[(Channel.EMAIL, _("Email")), (Channel.WEBHOOK, _("Webhook"))],
    )
    address = models.CharField(_("address"), max_length=1000)
    scope = models.CharField(
        _("about"),
        max_length=120,
        help_text="service:<slug>, group:<slug> or customer:<slug>; set:<hash> for several",
    )
    scope_label = models.CharField(_("about (name)"), max_length=200)
    language = models.CharField(_("language"), max_length=5, default="de")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    needs_approval = models.BooleanField(
        _("awaiting approval"),
        default=False,
        help_text=_("An anonymous webhook: nothing is sent until an administrator approves it."),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    client_address = models.GenericIPAddressField(
        _("requested from"), null=True, blank=True, editable=False
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=new_signing_secret,
        editable=False,
        help_text=_("Webhooks: the receiver verifies X-Escalation-Signature with this secret."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scope", "address"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address", "scope"], name="subscription_unique"
            )
        ]
        indexes = [models.Index(fields=["scope", "is_active"], name="subscription_scope")]

    def __str__(self) -> str:
        return f"{self.address} -> {self.scope_label}"

    def clean(self) -> None:
        """An address edited in the admin obeys the same rules as one from the forms."""
        validate = (
            validate_outbound_url if self.channel == Channel.WEBHOOK else validate_email_address
        )
        try:
            validate((self.address or "").strip())
        except ValidationError as exc:
            raise ValidationError({"address": exc.messages}) from exc


class SubscriptionScope(models.Model):
    """One more thing a subscription covers: a subscription to several services or to a whole
    group lists each scope here (`service:<slug>`, `group:<slug>`, `customer:<slug>`); its own
    `scope` is then a key for the set (see subscription_scope_key)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="covers")
    scope = models.CharField(_("about"), max_length=120)

    class Meta:
        verbose_name = _("subscription scope")
        verbose_name_plural = _("subscription scopes")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "scope"], name="subscription_scope_once"
            )
        ]
        indexes = [models.Index(fields=["scope"], name="subscription_covers_scope")]

    def __str__(self) -> str:
        return self.scope


class SubscriptionRequest(models.Model):
    """One anonymous or portal request for a subscription: counted to throttle confirmation
    messages per address and per client (SUBSCRIBE_PER_ADDRESS_HOUR, SUBSCRIBE_PER_CLIENT_HOUR).
    The database counts, so the limit holds across processes and without a cache."""

    address_digest = models.CharField(max_length=64)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["address_digest", "created_at"], name="subreq_address"),
            models.Index(fields=["client_address", "created_at"], name="subreq_client"),
            models.Index(fields=["created_at"], name="subreq_created"),
        ]

    def __str__(self) -> str:
        return f"{self.client_address} {self.created_at:%Y-%m-%d %H:%M}"
