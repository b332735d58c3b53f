"""The communication matrix: who informs whom, through which channels, how often, by priority."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Customer, Priority, Service


class Audience(models.TextChoices):
    RESPONDERS = "responders", _("Responders to pull in")
    MANAGER = "manager", _("Escalation manager on duty")
    EXECUTIVES = "executives", _("Executives")
    CUSTOMERS = "customers", _("Contacts of each affected customer")


class CommunicationRule(models.Model):
    """One row of the matrix. Empty priority/customer/service mean 'any'."""

    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.CASCADE
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), null=True, blank=True, on_delete=models.CASCADE
    )
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("named people"),
        blank=True,
        related_name="+",
        help_text=_("For responders or executives: these people (in addition to the group)."),
    )
    group = models.ForeignKey(
        Group, verbose_name=_("group"), null=True, blank=True, on_delete=models.PROTECT
    )
    channels = models.JSONField(
        _("channels"), default=list, help_text=_('e.g. ["email", "apprise", "webhook"]')
    )
    cadence_minutes = models.PositiveIntegerField(
        _("update every (minutes)"), default=0, help_text=_("0 = no scheduled updates.")
    )
    template = models.CharField(_("template"), max_length=100, default="incident_escalated")
    auto_publish = models.BooleanField(
        _("publish for customers automatically"),
        default=False,
        help_text=_(
            "For customer rows: when an incident matching this row is escalated and has no public "
            "face yet, publish one with the services' standard customer text. Without it, "
            "customers hear nothing until a person publishes."
        ),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("communication rule")
        verbose_name_plural = _("communication matrix")

    def __str__(self) -> str:
        return f"{self.get_audience_display()} ({self.priority or '*'})"
