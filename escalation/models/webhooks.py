"""Outbound webhooks: ops tools subscribe to incident events and get signed JSON POSTs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Service
from notifications.outbound import validate_outbound_url
from notifications.signing_secrets import RotatableSecret, new_signing_secret

EVENTS = ["created", "transitioned", "updated", "acknowledged"]


def _secret() -> str:
    return new_signing_secret()


def _all_events() -> list[str]:
    return list(EVENTS)


class EventWebhook(RotatableSecret):
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=1000, validators=[validate_outbound_url])
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=_secret,
        help_text=_("Receivers verify X-Escalation-Signature with this secret."),
    )
    events = models.JSONField(
        _("events"),
        default=_all_events,
        help_text=_("Any of: created, transitioned, updated, acknowledged."),
    )
    services = models.ManyToManyField(
        Service,
        verbose_name=_("only for services"),
        blank=True,
        related_name="+",
        help_text=_("Empty: every incident."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("outbound webhook")
        verbose_name_plural = _("outbound webhooks")

    def __str__(self) -> str:
        return self.name
