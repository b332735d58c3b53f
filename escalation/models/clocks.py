"""Clock rows: everything that must happen later is a row with a due time (never only a Celery ETA).

A beat tick claims due rows (skip_locked on PostgreSQL), acts through services, and marks them done.
Acknowledging or resolving cancels what no longer applies; the state is re-checked at fire time.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident


class Clock(models.Model):
    class Kind(models.TextChoices):
        LEVEL_TIMEOUT = "level_timeout", _("Next escalation level")
        LADDER_STEP = "ladder_step", _("Next step of a personal ladder")
        UPDATE_DUE = "update_due", _("Update due")
        UPDATE_REMINDER = "update_reminder", _("Reminder: update due soon")
        SERVICE_HOURS = "service_hours", _("Service hours begin")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA target missed")
        CLASSIFY = "classify", _("Classify an alert's incident")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Being handled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    due_at = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=200, unique=True, help_text="one row per logical deadline")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="pending"), name="clock_pending_due"
            ),
            models.Index(fields=["incident", "status"], name="clock_incident_status"),
            models.Index(
                fields=["claimed_at"], condition=Q(status="claimed"), name="clock_claimed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.incident_id} at {self.due_at:%Y-%m-%d %H:%M}"
