"""Regulatory reporting: regimes (NIS2/BSIG, DORA, GDPR) as configuration, and per incident the
moment of becoming aware, the "reportable?" assessment per regime, and the reports it requires,
each a clock (its own due rows, fired by the beat task regulatory_tick) and a draft.

A report copies its regime's deadline rule when it is created, so editing a regime changes the
reports of later incidents, never running ones (as escalation policies are copied onto a run).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Customer, Incident, Service

from . import deadlines


class Anchor(models.TextChoices):
    AWARE = deadlines.AWARE, _("becoming aware")
    CLASSIFIED = deadlines.CLASSIFIED, _("classification as reportable (major)")
    PREVIOUS = deadlines.PREVIOUS, _("submission of the preceding report")


class Regime(models.Model):
    """A reporting regime: a law or regulation, its authority, which incidents it covers and the
    reports it requires."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    authority = models.CharField(_("authority"), max_length=300)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    description = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("in force"), default=True)
    applies_to_all = models.BooleanField(
        _("applies to every incident"),
        default=False,
        help_text=_("E.g. NIS2 and GDPR, which bind us as a provider whoever is affected."),
    )
    customers = models.ManyToManyField(
        Customer,
        verbose_name=_("customers under this regime"),
        blank=True,
        related_name="regulatory_regimes",
        help_text=_("E.g. a financial entity (DORA) whose ICT incidents we report for it."),
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("services under this regime"), blank=True, related_name="+"
    )
    notify = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("also reminded"),
        blank=True,
        related_name="+",
        help_text=_("Besides the escalation manager, e.g. the data protection officer."),
    )
    notify_addresses = models.TextField(
        _("also reminded (e-mail addresses)"), blank=True, help_text=_("One address per line.")
    )
    criteria = models.JSONField(
        _("criteria"),
        default=list,
        blank=True,
        help_text=_(
            'A checklist: [{"key": "...", "de": "...", "en": "...", "fact": ""}]; fact is one '
            "of customers, services, duration, personal_data (filled in from the incident)."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("reporting regime")
        verbose_name_plural = _("reporting regimes")

    def __str__(self) -> str:
        return self.name

    def addresses(self) -> list[str]:
        return [line.strip() for line in self.notify_addresses.splitlines() if line.strip()]


class ReportType(models.Model):
    """A report a regime requires, with its deadline rule and what it must contain."""

    regime = models.ForeignKey(
        Regime, verbose_name=_("regime"), on_delete=models.CASCADE, related_name="report_types"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name (German)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    anchor = models.CharField(_("period runs from"), max_length=20, choices=Anchor.choices)
    hours = models.PositiveIntegerField(_("hours"), default=0)
    months = models.PositiveSmallIntegerField(_("calendar months"), default=0)
    cap_hours_from_aware = models.PositiveIntegerField(
        _("at the latest, hours after becoming aware"), null=True, blank=True
    )
    contents = models.TextField(_("required contents (German)"), blank=True)
    contents_en = models.TextField(_("required contents (English)"), blank=True)

    class Meta:
        ordering = ["regime", "position"]
        verbose_name = _("required report")
        verbose_name_plural = _("required reports")
        constraints = [
            models.UniqueConstraint(fields=["regime", "code"], name="reporttype_regime_code")
        ]

    def __str__(self) -> str:
        return f"{self.regime.code}: {self.name_en}"

    def rule(self) -> dict:
        return {
            "anchor": self.anchor,
            "hours": self.hours,
            "months": self.months,
            "cap_hours_from_aware": self.cap_hours_from_aware,
        }


class Awareness(models.Model):
    """When we became aware of the incident (the start of most regulatory periods)."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="regulatory_awareness"
    )
    aware_at = models.DateTimeField(_("became aware at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("awareness")
        verbose_name_plural = _("awareness")

    def __str__(self) -> str:
        return f"#{self.incident_id} aware at {self.aware_at:%Y-%m-%d %H:%M}"


class Assessment(models.Model):
    """The "reportable?" decision on one incident under one regime."""

    class Decision(models.TextChoices):
        OPEN = "open", _("Not assessed yet")
        REPORTABLE = "reportable", _("Reportable")
        NOT_REPORTABLE = "not_reportable", _("Not reportable")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="regulatory_assessments"
    )
    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="assessments")
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision.choices, default=Decision.OPEN
    )
    checks = models.JSONField(_("criteria met"), default=dict, blank=True)
    personal_data = models.BooleanField(_("personal data involved"), null=True, blank=True)
    users_affected = models.PositiveIntegerField(_("users affected"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["regime__position", "regime__name"]
        verbose_name = _("reportability assessment")
        verbose_name_plural = _("reportability assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "regime"], name="assessment_incident_regime"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id} {self.regime.code}: {self.decision}"


class Report(models.Model):
    """One report an assessment requires: its clock (due_at, reminders) and its draft; once
    submitted, frozen (the text as submitted is the evidence)."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for its start")
        RUNNING = "running", _("Due")
        SUBMITTED = "submitted", _("Submitted")
        CANCELLED = "cancelled", _("Not required")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="reports")
    report_type = models.ForeignKey(ReportType, on_delete=models.PROTECT, related_name="reports")
    position = models.PositiveSmallIntegerField(default=0)
    rule = models.JSONField(default=dict, help_text="the deadline rule, copied at creation")
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.WAITING
    )
    started_at = models.DateTimeField(_("period started"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    next_alert_at = models.DateTimeField(null=True, blank=True)
    alerts_sent = models.PositiveSmallIntegerField(default=0)
    breached_at = models.DateTimeField(_("deadline missed"), null=True, blank=True)
    text = models.TextField(_("draft (German)"), blank=True)
    text_en = models.TextField(_("draft (English)"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by_label = models.CharField(_("submitted by"), max_length=200, blank=True)
    reference = models.CharField(_("authority's reference"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assessment__regime__position", "position"]
        verbose_name = _("regulatory report")
        verbose_name_plural = _("regulatory reports")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "report_type"], name="report_assessment_type"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_alert_at"],
                condition=Q(state="running"),
                name="regreport_alert_due",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.assessment.incident_id} {self.report_type}"

    @property
    def is_frozen(self) -> bool:
        return self.state == self.State.SUBMITTED

    def deadline_rule(self) -> deadlines.Rule:
        return deadlines.Rule(**self.rule)
