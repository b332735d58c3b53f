"""Escalation policies, the running escalation of one incident (a snapshot of its policy), the pages
sent, and one-click acknowledgement links."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Service

from .oncall import BusinessCalendar, OnCallSchedule


class EscalationPolicy(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    is_default = models.BooleanField(
        _("default policy"), default=False, help_text=_("Used for services without a policy.")
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("services"), blank=True, related_name="escalation_policies"
    )
    repeat = models.PositiveSmallIntegerField(
        _("repeat"), default=1, help_text=_("How often to run through all levels again.")
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("service hours"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    wait_for_business_hours = models.BooleanField(
        _("wait for service hours"),
        default=False,
        help_text=_("Outside service hours, wait for the next shift instead of paging."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"
            )
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    class Applies(models.TextChoices):
        ALWAYS = "always", _("Always")
        INSIDE = "inside", _("Only inside service hours")
        OUTSIDE = "outside", _("Only outside service hours")

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveIntegerField(_("order"), default=0)
    timeout_minutes = models.PositiveIntegerField(_("minutes until the next level"), default=15)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("people"), blank=True, related_name="+"
    )
    schedule = models.ForeignKey(
        OnCallSchedule,
        verbose_name=_("whoever is on call in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    group = models.ForeignKey(
        Group, verbose_name=_("everyone in group"), null=True, blank=True, on_delete=models.PROTECT
    )
    applies = models.CharField(
        _("applies"), max_length=10, choices=Applies.choices, default=Applies.ALWAYS
    )
    round_robin = models.BooleanField(
        _("round robin"),
        default=False,
        help_text=_(
            "Page one of the level's people per incident, each in turn, instead of all of them."
        ),
    )
    # How many incidents this level has paged in round robin: the next one pages person n mod k.
    round_robin_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["policy", "position", "id"]
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")

    def __str__(self) -> str:
        return f"{self.policy} / {self.position}"


class EscalationRun(models.Model):
    """The escalation of one incident: a copy of the policy taken when it started, and progress."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Paging")
        WAITING = "waiting", _("Waiting for service hours")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        EXHAUSTED = "exhausted", _("All levels paged")
        STOPPED = "stopped", _("Stopped (resolved)")

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="escalation_run"
    )
    policy = models.ForeignKey(EscalationPolicy, null=True, on_delete=models.SET_NULL)
    policy_name = models.CharField(max_length=200)
    snapshot = models.JSONField()
    level_index = models.PositiveIntegerField(default=0)
    cycle = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("running escalation")
        verbose_name_plural = _("running escalations")

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.policy_name} ({self.status})"


class Page(models.Model):
    """One person paged for one incident at one level (and cycle)."""

    run = models.ForeignKey(EscalationRun, on_delete=models.CASCADE, related_name="pages")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="pages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    level_index = models.PositiveIntegerField()
    cycle = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["incident", "created_at"]
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "user", "level_index", "cycle"], name="page_once_per_level"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id} level {self.level_index + 1}: {self.user}"


class AckLink(models.Model):
    """A one-click acknowledgement link sent with a page: signed, expiring, single use."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("acknowledgement link")
        verbose_name_plural = _("acknowledgement links")

    def __str__(self) -> str:
        return f"#{self.incident_id} for {self.user}"
