"""Business continuity (ISO 22301, BSI-Standard 200-4): the business processes our services
support, their recovery objectives, versioned workaround runbooks, and per incident the workaround
that was provided (which runbook version, who decided), the customer's concession and the
disruption level."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from escalation.models import EscalationPolicy
from incidents.models import Customer, Incident, Service, ServiceStatus


class Level(models.TextChoices):
    """BSI 200-4's three levels, mildest first (their order is their severity)."""

    DISRUPTION = "disruption", _("Disruption (Störung)")
    EMERGENCY = "emergency", _("Emergency (Notfall)")
    CRISIS = "crisis", _("Crisis (Krise)")


LEVEL_ORDER = [Level.DISRUPTION, Level.EMERGENCY, Level.CRISIS]


class BusinessProcess(models.Model):
    """A process that our services support (ours or a customer's), with its recovery objectives:
    RTO (back within) and MTPD (the longest the business can bear), in minutes from detection.
    `objectives` may set other values per priority: {"1": {"rto": 30, "mtpd": 120}}."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    customers = models.ManyToManyField(
        Customer,
        verbose_name=_("customers"),
        blank=True,
        related_name="business_processes",
        help_text=_("Whose process it is; none: our own."),
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("services it depends on"), related_name="business_processes"
    )
    rto_minutes = models.PositiveIntegerField(_("RTO (minutes)"))
    mtpd_minutes = models.PositiveIntegerField(_("MTPD (minutes)"))
    objectives = models.JSONField(_("objectives per priority"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("business process")
        verbose_name_plural = _("business processes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mtpd_minutes__gte=models.F("rto_minutes")),
                name="process_mtpd_not_below_rto",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def objectives_for(self, priority: int | None) -> tuple[int, int]:
        """(RTO, MTPD) in minutes for an incident of this priority."""
        own = self.objectives.get(str(priority)) if priority else None
        if own:
            return int(own["rto"]), int(own["mtpd"])
        return self.rto_minutes, self.mtpd_minutes


class Runbook(models.Model):
    """A workaround runbook for a process or a service. Its content lives in versions: an edit
    makes a new version, and an incident keeps the version it used."""

    title = models.CharField(_("title"), max_length=200)
    process = models.ForeignKey(
        BusinessProcess,
        verbose_name=_("business process"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="runbooks",
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="runbooks",
    )
    version = models.PositiveIntegerField(_("current version"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("workaround runbook")
        verbose_name_plural = _("workaround runbooks")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(process__isnull=False) | models.Q(service__isnull=False),
                name="runbook_for_process_or_service",
            )
        ]

    def __str__(self) -> str:
        return self.title


class RunbookVersion(models.Model):
    """One immutable version of a runbook. `steps`: [{"text": ..., "performer": ...}, ...]."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    preconditions = models.TextField(_("preconditions"), blank=True)
    steps = models.JSONField(_("steps"), default=list)
    performer = models.CharField(_("performed by"), max_length=200)
    customer_text_de = models.TextField(_("text for customers (German)"))
    customer_text_en = models.TextField(_("text for customers (English)"))
    limitations = models.TextField(_("known limitations"), blank=True)
    expected_status = models.CharField(
        _("expected service status"),
        max_length=24,
        choices=ServiceStatus.choices,
        default=ServiceStatus.DEGRADED_PERFORMANCE,
    )
    needs_concession = models.BooleanField(
        _("changes what the customer gets"),
        default=True,
        help_text=_("Reduced function or manual steps on the customer's side: record acceptance."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["runbook", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["runbook", "number"], name="runbook_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.runbook.title} v{self.number}"

    def customer_text(self, language: str) -> str:
        return self.customer_text_en if language == "en" else self.customer_text_de


class Workaround(models.Model):
    """The record of a workaround provided on an incident: from which runbook version (none: ad
    hoc), who decided, when, and what customers were told."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="continuity_workarounds"
    )
    runbook_version = models.ForeignKey(
        RunbookVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("workaround"))
    customer_text_de = models.TextField(blank=True)
    customer_text_en = models.TextField(blank=True)
    needs_concession = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"workaround #{self.pk} of incident #{self.incident_id}"

    @property
    def ad_hoc(self) -> bool:
        return self.runbook_version_id is None

    def customer_text(self, language: str) -> str:
        return (self.customer_text_en if language == "en" else "") or self.customer_text_de


class Concession(models.Model):
    """The customer's acceptance of a workaround that changes what they get (ISO 9001 8.7)."""

    workaround = models.ForeignKey(Workaround, on_delete=models.CASCADE, related_name="concessions")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    accepted_by = models.CharField(_("accepted by"), max_length=200)
    accepted_at = models.DateTimeField(_("accepted at"))
    conditions = models.TextField(_("conditions"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["accepted_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workaround", "customer"], name="concession_once")
        ]

    def __str__(self) -> str:
        return f"concession of {self.customer_id} for workaround #{self.workaround_id}"


class IncidentLevel(models.Model):
    """An incident's disruption level: derived from the recovery objectives unless the
    escalation manager set it (`manual`), with the reason."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="continuity_level"
    )
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.DISRUPTION)
    manual = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["level"], name="continuity_level")]

    def __str__(self) -> str:
        return f"{self.level} (incident #{self.incident_id})"


class ContinuitySettings(models.Model):
    """One row: which escalation policy pages the crisis team, from which level on."""

    crisis_policy = models.ForeignKey(
        EscalationPolicy,
        verbose_name=_("crisis team (escalation policy)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    page_from = models.CharField(
        _("page the crisis team from level"),
        max_length=12,
        choices=Level.choices,
        default=Level.EMERGENCY,
    )

    class Meta:
        verbose_name = _("business continuity settings")
        verbose_name_plural = _("business continuity settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
