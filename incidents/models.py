"""The record of what happened: organisations, services, incidents with their lifecycle, updates per
audience, and the append-only, hash-chained timeline.

Transition methods are small and pure: they check (source, conditions, permission), set fields
and the matching `*_at` timestamp. Saving, the timeline entry and messages are the job of the
workflow services (escalation/services.py).
"""

import hashlib
import json
import zoneinfo
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


class Language(models.TextChoices):
    GERMAN = "de", _("German")
    ENGLISH = "en", _("English")


class Customer(models.Model):
    """An organisation that uses our services and must be informed when they fail."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.GERMAN
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person: staff (group: escalation manager, responder, executive) or a customer contact."""

    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.GERMAN
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
        help_text=_("Set for customer contacts only: the organisation whose incidents they see."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ServiceGroup(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("service group")
        verbose_name_plural = _("service groups")

    def __str__(self) -> str:
        return self.name


class ServiceStatus(models.TextChoices):
    """The five component statuses of a status page (Statuspage's names), best first."""

    OPERATIONAL = "operational", _("Operational")
    UNDER_MAINTENANCE = "under_maintenance", _("Under maintenance")
    DEGRADED_PERFORMANCE = "degraded_performance", _("Degraded performance")
    PARTIAL_OUTAGE = "partial_outage", _("Partial outage")
    MAJOR_OUTAGE = "major_outage", _("Major outage")


class Service(models.Model):
    """What a status page shows: one thing customers use and notice when it fails."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    group = models.ForeignKey(
        ServiceGroup,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    description = models.TextField(_("description"), blank=True)
    customers = models.ManyToManyField(
        Customer, verbose_name=_("customers"), blank=True, related_name="services"
    )
    is_private = models.BooleanField(
        _("private"),
        default=False,
        help_text=_("Private services never appear on the status page."),
    )
    status_override = models.CharField(
        _("status shown (override)"),
        max_length=24,
        choices=ServiceStatus.choices,
        blank=True,
        help_text=_("Leave empty to derive the status from open incidents."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    # The standard customer text of a disruption of this service ("Publish for customers" is
    # prefilled with it; an auto-publish rule of the communication matrix publishes it).
    public_text = models.TextField(
        _("standard customer text (German)"),
        blank=True,
        help_text=_("What customers read when this service is disrupted, in German."),
    )
    public_text_en = models.TextField(
        _("standard customer text (English)"),
        blank=True,
        help_text=_("The same in English."),
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name


class Impact(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class Urgency(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 critical")
    P2 = 2, _("P2 high")
    P3 = 3, _("P3 moderate")
    P4 = 4, _("P4 low")
    P5 = 5, _("P5 planning")


class State(models.TextChoices):
    DETECTED = "detected", _("Detected")
    CLASSIFIED = "classified", _("Classified")
    ESCALATED = "escalated", _("Escalated")
    WORKAROUND = "workaround", _("Workaround in place")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# What people call each lifecycle action (buttons, error messages); the keys are the API's names.
ACTION_LABELS = {
    "classify": _("Classify"),
    "escalate": _("Escalate"),
    "acknowledge": _("Acknowledge"),
    "provide_workaround": _("Provide workaround"),
    "resolve": _("Resolve"),
    "close": _("Close"),
    "reopen": _("Reopen"),
}

OPEN_STATES = (State.DETECTED, State.CLASSIFIED, State.ESCALATED, State.WORKAROUND)


class Source(models.TextChoices):
    MANUAL = "manual", _("Manual")
    API = "api", _("API")
    EVENTS_V2 = "events_v2", _("Events API v2")
    ALERTMANAGER = "alertmanager", _("Alertmanager")


# Permission codenames, one per transition (roles get them through groups, see migrations).
PERM_CLASSIFY = "incidents.classify_incident"
PERM_ESCALATE = "incidents.escalate_incident"
PERM_ACKNOWLEDGE = "incidents.acknowledge_incident"
PERM_WORKAROUND = "incidents.workaround_incident"
PERM_RESOLVE = "incidents.resolve_incident"
PERM_CLOSE = "incidents.close_incident"
PERM_REOPEN = "incidents.reopen_incident"


def _has_resolution(incident: "Incident") -> bool:
    return bool(incident.resolution.strip())


def _has_workaround(incident: "Incident") -> bool:
    return bool(incident.workaround.strip())


def _review_complete(incident: "Incident") -> bool:
    """An escalated incident needs a post-incident review before it may be closed."""
    return incident.escalated_at is None or bool(incident.review.strip())


def _not_acknowledged(incident: "Incident") -> bool:
    """Nobody has taken it on yet, or a running escalation pages and waits for someone."""
    return incident.acknowledged_at is None or incident.paging_since is not None


def _has_classification(incident: "Incident") -> bool:
    return bool(incident.impact and incident.urgency and incident.priority)


def _has_escalation_reason(incident: "Incident") -> bool:
    return bool(incident.escalation_reason.strip())


# Human-readable explanation for each condition, used when a transition is refused.
CONDITION_MESSAGES = {
    _has_resolution: _("a resolution (or the reason, e.g. false alarm) is required"),
    _has_workaround: _("a workaround description is required"),
    _review_complete: _("an escalated incident needs a post-incident review before closing"),
    _not_acknowledged: _("the incident is already acknowledged"),
    _has_classification: _("impact, urgency and priority are required"),
    _has_escalation_reason: _("a reason for escalating is required"),
}


class Incident(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    services = models.ManyToManyField(
        Service, verbose_name=_("affected services"), blank=True, related_name="incidents"
    )
    customers = models.ManyToManyField(
        Customer, verbose_name=_("affected customers"), blank=True, related_name="incidents"
    )
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    state = FSMField(
        _("state"), max_length=20, choices=State.choices, default=State.DETECTED, protected=True
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("incident commander"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commanded_incidents",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.MANUAL
    )
    dedup_key = models.CharField(_("deduplication key"), max_length=255, blank=True)
    # Whose keys dedup_key is one of: the id of the monitoring integration that opened the
    # incident (0: none). Keys are unique per integration, as PagerDuty scopes them per service,
    # so one integration's alerts never count onto, acknowledge or resolve another's incident.
    dedup_scope = models.PositiveIntegerField(
        _("deduplication scope"), default=0, db_default=0, editable=False
    )
    alert_count = models.PositiveIntegerField(_("alerts received"), default=0)
    last_alert_at = models.DateTimeField(_("last alert"), null=True, blank=True)

    # The last classification's escalation decision and the rule that made it (ISO 27001 5.25).
    escalation_required = models.BooleanField(_("escalation required"), null=True, blank=True)
    escalation_rule = models.CharField(_("decided by rule"), max_length=200, blank=True)
    escalation_reason = models.TextField(_("escalation reason"), blank=True)

    workaround = models.TextField(_("workaround"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    review = models.TextField(_("post-incident review"), blank=True)

    detected_at = models.DateTimeField(_("detected"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    classified_at = models.DateTimeField(_("classified"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    workaround_at = models.DateTimeField(_("workaround provided"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Set while an escalation pages people and waits for someone to acknowledge (escalation app).
    paging_since = models.DateTimeField(_("paging since"), null=True, blank=True)
    # The next customer update the communication matrix promises (status page, portal, notice kit).
    next_customer_update_at = models.DateTimeField(
        _("next customer update by"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    # Head of the hash chain, so that removing the newest timeline entries is detected too.
    timeline_length = models.PositiveIntegerField(default=0, editable=False)
    timeline_head = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        permissions = [
            ("classify_incident", "Can classify incidents"),
            ("escalate_incident", "Can escalate incidents"),
            ("acknowledge_incident", "Can acknowledge incidents"),
            ("workaround_incident", "Can provide a workaround"),
            ("resolve_incident", "Can resolve incidents"),
            ("close_incident", "Can close incidents"),
            ("reopen_incident", "Can reopen incidents"),
        ]
        indexes = [
            models.Index(fields=["state", "priority"], name="incident_state_prio"),
            models.Index(fields=["-detected_at"], name="incident_detected"),
            models.Index(fields=["updated_at"], name="incident_updated"),
            # recently resolved (portal, status page history): a small slice of a large table
            models.Index(
                fields=["resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="incident_resolved",
            ),
        ]
        constraints = [
            # One open incident per alert key and integration: repeats add to it, not open more.
            models.UniqueConstraint(
                fields=["dedup_scope", "dedup_key"],
                condition=~Q(dedup_key="") & Q(state__in=[s.value for s in OPEN_STATES]),
                name="incident_open_scoped_dedup_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def state_fields(self):
        """django-fsm's ConcurrentTransitionMixin finds the state fields by testing every one of
        the model's 30 fields, on every instance it builds (a page of the incident list builds
        50); there is one."""
        return (self._meta.get_field("state"),)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def age(self):
        end = self.resolved_at or timezone.now()
        return end - self.detected_at

    # --- Transitions (pure: set fields and timestamps; the services save and record) -----------

    @transition(
        field=state,
        source=State.DETECTED,
        target=State.CLASSIFIED,
        conditions=[_has_classification],
        permission=PERM_CLASSIFY,
    )
    def classify(self, *, at: datetime) -> None:
        self.classified_at = at

    @transition(
        field=state,
        source=[State.CLASSIFIED, State.ESCALATED, State.WORKAROUND],
        target=None,
        conditions=[_has_classification],
        permission=PERM_CLASSIFY,
    )
    def reclassify(self, *, at: datetime) -> None:
        self.classified_at = at

    @transition(
        field=state,
        source=State.CLASSIFIED,
        target=State.ESCALATED,
        conditions=[_has_escalation_reason],
        permission=PERM_ESCALATE,
    )
    def escalate(self, *, at: datetime) -> None:
        self.escalated_at = at

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=None,
        conditions=[_not_acknowledged],
        permission=PERM_ACKNOWLEDGE,
    )
    def acknowledge(self, *, at: datetime) -> None:
        if self.acknowledged_at is None:  # the first acknowledgement is what MTTA measures
            self.acknowledged_at = at
        self.paging_since = None

    @transition(
        field=state,
        source=State.ESCALATED,
        target=State.WORKAROUND,
        conditions=[_has_workaround],
        permission=PERM_WORKAROUND,
    )
    def provide_workaround(self, *, at: datetime) -> None:
        self.workaround_at = at

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=State.RESOLVED,
        conditions=[_has_resolution],
        permission=PERM_RESOLVE,
    )
    def resolve(self, *, at: datetime) -> None:
        self.resolved_at = at

    @transition(
        field=state,
        source=State.RESOLVED,
        target=State.CLOSED,
        conditions=[_review_complete],
        permission=PERM_CLOSE,
    )
    def close(self, *, at: datetime) -> None:
        self.closed_at = at

    @transition(
        field=state,
        source=State.RESOLVED,
        target=State.ESCALATED,
        permission=PERM_REOPEN,
    )
    def reopen(self, *, at: datetime) -> None:
        self.resolved_at = None
        if self.escalated_at is None:
            self.escalated_at = at


class Audience(models.TextChoices):
    INTERNAL = "internal", _("Internal (team)")
    EXECUTIVE = "executive", _("Executives")
    CUSTOMER = "customer", _("Customers")


class Update(models.Model):
    """A written update for one audience. Customers only ever see audience=customer."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        indexes = [models.Index(fields=["incident", "audience", "-created_at"], name="update_feed")]

    def __str__(self) -> str:
        return f"{self.get_audience_display()}: {self.body[:60]}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    CLASSIFIED = "classified", _("Classified")
    RECLASSIFIED = "reclassified", _("Reclassified")
    ESCALATION_DECIDED = "escalation_decided", _("Escalation decision")
    ESCALATED = "escalated", _("Escalated")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    WORKAROUND = "workaround_provided", _("Workaround provided")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    UPDATE_POSTED = "update_posted", _("Update posted")
    CHANGED = "changed", _("Details changed")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA target missed")
    SLA_PAUSED = "sla_paused", _("SLA clock paused")
    SLA_RESUMED = "sla_resumed", _("SLA clock resumed")
    PUBLIC_PUBLISHED = "public_published", _("Published for customers")
    PUBLIC_LINKED = "public_linked", _("Linked to a public incident")
    PUBLIC_UPDATE = "public_update", _("Public update")
    PUBLIC_RESOLVED = "public_resolved", _("All-clear for customers")


GENESIS_HASH = "0" * 64


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The timeline is append-only: entries cannot be updated.")

    def delete(self):
        raise PermissionError("The timeline is append-only: entries cannot be deleted.")


class IncidentEvent(models.Model):
    """One timeline entry. Append-only; each entry's hash covers its content and the previous hash.

    On PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE; everywhere the model refuses
    them too. `verify_timeline` recomputes the chain.
    """

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["incident_id", "seq"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        constraints = [
            models.UniqueConstraint(fields=["incident", "seq"], name="event_incident_seq_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.incident_id}/{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The timeline is append-only: entries cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The timeline is append-only: entries cannot be deleted.")

    def canonical_content(self) -> bytes:
        """The bytes the hash covers: every field that carries meaning, in a fixed form."""
        content = {
            "incident": self.incident_id,
            "seq": self.seq,
            "kind": self.kind,
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "data": self.data,
            "created_at": self.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "prev_hash": self.prev_hash,
        }
        return json.dumps(
            content,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
        ).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical_content()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; it acts with its user's role."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")
        INGEST = "ingest", _("Alert ingestion only")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}, {self.scope})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class Heartbeat(models.Model):
    """When the Celery worker last ran the heartbeat task, and when beat last sent it: /healthz
    and /metrics report their age (incidents/heartbeats.py). One row per process kind."""

    name = models.CharField(_("process"), max_length=20, primary_key=True)  # worker, beat
    at = models.DateTimeField(_("last heartbeat"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.at.isoformat()}"


# --- The public face of a disruption ------------------------------------------------------------


class PublicStatus(models.TextChoices):
    """The public status of a disruption, chosen by a person (DESIGN.md's glossary): the only
    status words customers and the public ever see."""

    INVESTIGATING = "investigating", pgettext_lazy("public status", "Investigating")
    IDENTIFIED = "identified", pgettext_lazy("public status", "Identified")
    MONITORING = "monitoring", pgettext_lazy("public status", "Monitoring")
    RESOLVED = "resolved", pgettext_lazy("public status", "Resolved")


class PublicIncident(models.Model):
    """What customers and the public see of a disruption: a customer-facing title and text in
    German and English, a public status, the public services it affects. One public incident can
    cover several internal incidents (an alert storm is one disruption); nothing about an internal
    incident reaches customers until it has one (escalation/services/public.py)."""

    title = models.CharField(_("title (German)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    body = models.TextField(_("text (German)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    status = models.CharField(
        _("public status"),
        max_length=20,
        choices=PublicStatus.choices,
        default=PublicStatus.INVESTIGATING,
    )
    services = models.ManyToManyField(
        Service, verbose_name=_("affected services"), blank=True, related_name="public_incidents"
    )
    incidents = models.ManyToManyField(
        Incident, verbose_name=_("incidents"), blank=True, related_name="public_incidents"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_rule = models.CharField(_("published by rule"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("public incident")
        verbose_name_plural = _("public incidents")
        indexes = [models.Index(fields=["status", "-published_at"], name="public_incident_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status != PublicStatus.RESOLVED

    def title_in(self, language: str) -> str:
        return (self.title_en if language == "en" else "") or self.title

    def body_in(self, language: str) -> str:
        return (self.body_en if language == "en" else "") or self.body


class PublicIncidentUpdate(models.Model):
    """One public update of a public incident: its status from then on and a text for customers."""

    class Kind(models.TextChoices):
        PUBLISHED = "published", _("Published")
        UPDATE = "update", _("Update")
        WORKAROUND = "workaround", _("Workaround in place")
        RESOLVED = "resolved", _("All-clear")

    public_incident = models.ForeignKey(
        PublicIncident, on_delete=models.CASCADE, related_name="updates"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.UPDATE)
    status = models.CharField(_("public status"), max_length=20, choices=PublicStatus.choices)
    body = models.TextField(_("text (German)"))
    body_en = models.TextField(_("text (English)"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("public update")
        verbose_name_plural = _("public updates")

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.body[:60]}"

    def body_in(self, language: str) -> str:
        return (self.body_en if language == "en" else "") or self.body
