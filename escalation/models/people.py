"""Who holds which role on an incident besides its commander (incident.io and Dispatch have the
same three: commander, communications lead, scribe). The commander stays on the incident itself."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident


class IncidentRole(models.Model):
    class Role(models.TextChoices):
        COMMUNICATIONS_LEAD = "communications_lead", _("Communications lead")
        SCRIBE = "scribe", _("Scribe")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "assigned_at"]
        verbose_name = _("incident role")
        verbose_name_plural = _("incident roles")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="one_holder_per_incident_role",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id} {self.get_role_display()}: {self.user}"
