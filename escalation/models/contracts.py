"""Contracts with their SLA targets and penalty clauses, the SLA clocks of each incident, the pauses
a contract allows, and the executives' questions for the escalation manager.

The arithmetic lives in the pure modules escalation/penalties.py (money) and escalation/calendars.py
(service time); these models store the configuration and the running state.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Customer, Incident, Priority, Service

from .. import calendars, penalties
from .oncall import BusinessCalendar

_PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class Target(models.TextChoices):
    RESPONSE = "response", _("Response (acknowledged)")
    WORKAROUND = "workaround", _("Workaround")
    RESTORE = "restore", _("Restore (resolved)")


class Contract(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    name = models.CharField(_("name"), max_length=200)
    services = models.ManyToManyField(
        Service,
        verbose_name=_("services covered"),
        blank=True,
        related_name="contracts",
        help_text=_("Leave empty to cover every service of the customer."),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("service hours"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Leave empty for 24/7 (every minute counts, holidays included)."),
    )
    monthly_fee = models.DecimalField(
        _("monthly fee"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    cap_per_incident_amount = models.DecimalField(
        _("cap per incident (amount)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    cap_per_incident_percent = models.DecimalField(
        _("cap per incident (% of monthly fee)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=_PERCENT,
    )
    cap_per_month_amount = models.DecimalField(
        _("cap per month (amount)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    cap_per_month_percent = models.DecimalField(
        _("cap per month (% of monthly fee)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=_PERCENT,
    )
    allows_pauses = models.BooleanField(
        _("clocks may pause"),
        default=True,
        help_text=_(
            "The contract lets the SLA clocks stand still, e.g. while waiting for the customer."
        ),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["customer", "name"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return f"{self.customer}: {self.name}"

    def calendar_spec(self) -> calendars.BusinessHours:
        if self.calendar is None:
            return calendars.BusinessHours(always_open=True, country=None)
        return self.calendar.as_spec()

    def caps(self) -> penalties.Caps:
        return penalties.Caps(
            per_incident_amount=self.cap_per_incident_amount,
            per_incident_percent=self.cap_per_incident_percent,
            per_month_amount=self.cap_per_month_amount,
            per_month_percent=self.cap_per_month_percent,
        )


class SlaTarget(models.Model):
    """Per priority: minutes of service time until response, workaround and restore."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(_("response (minutes)"), null=True, blank=True)
    workaround_minutes = models.PositiveIntegerField(
        _("workaround (minutes)"), null=True, blank=True
    )
    restore_minutes = models.PositiveIntegerField(_("restore (minutes)"), null=True, blank=True)

    class Meta:
        ordering = ["contract", "priority"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["contract", "priority"], name="sla_target_once")
        ]

    def __str__(self) -> str:
        return f"{self.contract} P{self.priority}"

    def minutes(self, target: str) -> int | None:
        return getattr(self, f"{target}_minutes")


class PenaltyClause(models.Model):
    class Form(models.TextChoices):
        FIXED_PER_PERIOD = "fixed_per_period", _("Fixed amount per started period")
        FEE_PERCENT_PER_PERIOD = "fee_percent_per_period", _("% of monthly fee per started period")
        FIXED_PER_BREACH = "fixed_per_breach", _("Fixed amount per breach")
        FEE_PERCENT_PER_BREACH = "fee_percent_per_breach", _("% of monthly fee per breach")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="clauses")
    target = models.CharField(
        _("target"), max_length=12, choices=Target.choices, default=Target.RESTORE
    )
    form = models.CharField(_("form"), max_length=24, choices=Form.choices)
    priority = models.PositiveSmallIntegerField(
        _("only for priority"),
        choices=Priority.choices,
        null=True,
        blank=True,
        help_text=_("Leave empty for every priority."),
    )
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    fee_percent = models.DecimalField(
        _("% of monthly fee"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=_PERCENT,
        help_text=_("e.g. 3.333333 for 1/30 of the fee"),
    )
    period_minutes = models.PositiveIntegerField(
        _("period (minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    from_minutes = models.PositiveIntegerField(_("tier: from minutes beyond target"), default=0)
    until_minutes = models.PositiveIntegerField(
        _("tier: until minutes beyond target"), null=True, blank=True
    )
    position = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["contract", "position", "id"]
        verbose_name = _("penalty clause")
        verbose_name_plural = _("penalty clauses")

    def __str__(self) -> str:
        return self.as_spec().describe()

    def as_spec(self) -> penalties.Clause:
        return penalties.Clause(
            form=self.form,
            target=self.target,
            amount=self.amount or Decimal(0),
            fee_percent=self.fee_percent or Decimal(0),
            period_minutes=self.period_minutes or 60,
            from_minutes=self.from_minutes,
            until_minutes=self.until_minutes,
            priority=self.priority,
            ref=self.pk,
        )


class SlaClock(models.Model):
    """One target of one contract for one incident, counted in the contract's service time."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="sla_clocks")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="sla_clocks")
    target = models.CharField(max_length=12, choices=Target.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Wall-clock instant at which the target is missed, given no further pause (null: stopped,
    # paused, or no opening within the calendar's search range).
    deadline_at = models.DateTimeField(null=True, blank=True)
    warned_percent = models.PositiveSmallIntegerField(default=0)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "contract", "target"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "contract", "target"], name="sla_clock_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["deadline_at"],
                condition=Q(stopped_at__isnull=True),
                name="sla_clock_running",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id} {self.contract} {self.target}"


class SlaPause(models.Model):
    """A stretch in which the contract lets the clocks stand still (e.g. waiting for customer)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="sla_pauses")
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Leave empty to pause the clocks of every contract."),
    )
    reason = models.TextField(_("reason"))
    automatic = models.BooleanField(
        _("automatic"),
        default=False,
        help_text=_("Set by the system, e.g. the time between resolving and reopening."),
    )
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["incident", "started_at"]
        verbose_name = _("SLA pause")
        verbose_name_plural = _("SLA pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["incident"], condition=Q(ended_at__isnull=True), name="one_open_sla_pause"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id} {self.started_at:%Y-%m-%d %H:%M}: {self.reason[:40]}"


class Question(models.Model):
    """An executive's question, queued for the escalation manager instead of reaching the team."""

    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questions_asked"
    )
    incident = models.ForeignKey(
        Incident,
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="questions",
    )
    text = models.TextField(_("question"), max_length=2000)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("question for the escalation manager")
        verbose_name_plural = _("questions for the escalation manager")
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(answered_at__isnull=True), name="question_open"
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]
