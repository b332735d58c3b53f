"""A scheduled maintenance window on services and/or service groups."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Service, ServiceGroup


class Maintenance(models.Model):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text for customers"),
        blank=True,
        help_text=_("Shown on the status page: what is done, and what customers will notice."),
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("services"), blank=True, related_name="maintenances"
    )
    groups = models.ManyToManyField(
        ServiceGroup, verbose_name=_("service groups"), blank=True, related_name="maintenances"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    silence = models.BooleanField(
        _("silence paging"),
        default=True,
        help_text=_(
            "During the window, alerts on these services open incidents but page nobody "
            "and start no customer communication."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="maintenance_window")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after"
            )
        ]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")

    def __str__(self) -> str:
        return self.title

    def phase(self, at) -> str:
        """Statuspage's status of a maintenance: scheduled, in_progress or completed."""
        if at < self.starts_at:
            return "scheduled"
        return "in_progress" if at < self.ends_at else "completed"


class MaintenanceNotice(models.Model):
    """A notice to subscribers about a window, due at a time (a row that is both the plan and the
    record: the tick claims due rows, sends through the outbox, and marks them sent)."""

    class Kind(models.TextChoices):
        BEFORE_72H = "before_72h", _("72 hours before")
        BEFORE_1H = "before_1h", _("1 hour before")
        STARTED = "started", _("at the start")
        ENDED = "ended", _("at the end")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")

    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["maintenance", "kind"], name="maintenance_notice_once")
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending"),
                name="maintenance_notice_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of maintenance #{self.maintenance_id} at {self.due_at:%Y-%m-%d %H:%M}"
