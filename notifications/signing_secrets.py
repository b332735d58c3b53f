"""Webhook signing secrets: random, one per receiver (outbound webhook, subscription, contact
method), stored on its row and never derived from SECRET_KEY, so a receiver learns nothing that
could forge a signed link (acknowledgement, iCal, unsubscribe). Rotating keeps the old secret for
WEBHOOK_SECRET_GRACE_HOURS, during which messages carry both signatures."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX = "whsec_"


def new_signing_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


class RotatableSecret(models.Model):
    """The rotation state beside a model's own `secret` field."""

    previous_secret = models.CharField(
        _("previous signing secret"), max_length=100, blank=True, editable=False
    )
    secret_rotated_at = models.DateTimeField(
        _("secret rotated"), null=True, blank=True, editable=False
    )

    class Meta:
        abstract = True

    def secrets_to_sign(self, now: datetime | None = None) -> tuple[str, str]:
        """(secret, previous secret while the grace period runs, else "")."""
        now = now or timezone.now()
        grace = timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
        in_grace = self.secret_rotated_at is not None and now - self.secret_rotated_at < grace
        return self.secret, self.previous_secret if in_grace else ""


@transaction.atomic
def signing_secret_rotate(*, row: RotatableSecret) -> str:
    """Give the row a new random secret, keep the old one for the grace period; returns the new
    secret (show it once to whoever manages the receiver)."""
    locked = type(row).objects.select_for_update().get(pk=row.pk)
    new = new_signing_secret()
    type(row).objects.filter(pk=row.pk).update(
        secret=new, previous_secret=locked.secret, secret_rotated_at=timezone.now()
    )
    row.refresh_from_db()
    return new


def fill_random_secrets(model, field: str = "secret") -> None:
    """Migration helper: a different random secret for every existing row."""
    for pk in model.objects.values_list("pk", flat=True):
        model.objects.filter(pk=pk).update(**{field: new_signing_secret()})
