"""A change event: something changed on a service (a deploy, a configuration change), as sent to
the PagerDuty-compatible Change Events API. Shown on that service's incidents as "recent
changes"."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalation.models import Integration
from incidents.models import Service


class ChangeEvent(models.Model):
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="change_events"
    )
    integration = models.ForeignKey(
        Integration,
        verbose_name=_("integration"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="change_events",
    )
    summary = models.CharField(_("summary"), max_length=1024)
    source = models.CharField(_("source"), max_length=255, blank=True)
    occurred_at = models.DateTimeField(_("changed at"), default=timezone.now)
    custom_details = models.JSONField(_("details"), null=True, blank=True)
    links = models.JSONField(_("links"), default=list, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["service", "occurred_at"], name="change_service_time")]
        verbose_name = _("change event")
        verbose_name_plural = _("change events")

    def __str__(self) -> str:
        return self.summary[:80]
