"""Problem management (ITIL; ISO/IEC 20000-1 8.6.3): a problem is the unknown cause of one or more
incidents. Investigated, it becomes a known error (cause and workaround documented: new incidents
on its services or with its alert signature show it at once); removed for good by a change, it is
resolved, and closed once the fix is recorded.

Business processes (escalation/continuity/) are not linked here: a problem names the services it
affects; the processes follow from those services in the continuity app."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents.models import Incident, Service


class ProblemState(models.TextChoices):
    NEW = "new", _("New")
    INVESTIGATING = "investigating", _("Investigating")
    KNOWN_ERROR = "known_error", _("Known error")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_PROBLEM_STATES = (ProblemState.NEW, ProblemState.INVESTIGATING, ProblemState.KNOWN_ERROR)


class RootCauseMethod(models.TextChoices):
    FIVE_WHYS = "five_whys", _("5 whys")
    FISHBONE = "fishbone", _("Fishbone (Ishikawa)")
    OTHER = "other", _("Other")


# The fishbone's categories (the 6 Ms, as IT teams name them).
FISHBONE_CATEGORIES = {
    "people": _("People"),
    "process": _("Process"),
    "technology": _("Technology"),
    "material": _("Material and suppliers"),
    "measurement": _("Measurement and monitoring"),
    "environment": _("Environment"),
}


def _has_root_cause(problem: "Problem") -> bool:
    return bool(problem.root_cause.strip())


def _has_workaround(problem: "Problem") -> bool:
    return bool(problem.workaround.strip())


def _has_fix(problem: "Problem") -> bool:
    return bool(problem.fix_change_ref.strip()) and problem.fixed_at is not None


# Human-readable explanation of each condition, used when a transition is refused.
CONDITION_MESSAGES = {
    _has_root_cause: _("the root cause is not documented"),
    _has_workaround: _("a workaround is required"),
    _has_fix: _("the permanent fix (change reference and date) is not recorded"),
}

# What people call each transition (buttons, errors); the keys are the API's action names.
ACTION_LABELS = {
    "investigate": _("Start investigating"),
    "known_error": _("Record as known error"),
    "resolve": _("Resolve"),
    "close": _("Close"),
    "reopen": _("Reopen"),
}


class Problem(ConcurrentTransitionMixin, models.Model):
    statement = models.CharField(_("problem statement"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    services = models.ManyToManyField(
        Service, verbose_name=_("affected services"), blank=True, related_name="problems"
    )
    incidents = models.ManyToManyField(
        Incident,
        verbose_name=_("incidents"),
        through="ProblemLink",
        blank=True,
        related_name="problems",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_problems",
    )
    state = FSMField(
        _("state"), default=ProblemState.NEW, choices=ProblemState.choices, protected=True
    )
    # Root cause: a summary, the method, and the method's structured record (5 whys: {"whys":
    # [...]}, fishbone: {"categories": {category: [cause, ...]}}).
    root_cause = models.TextField(_("root cause"), blank=True)
    root_cause_method = models.CharField(
        _("analysis method"), max_length=12, choices=RootCauseMethod.choices, blank=True
    )
    root_cause_analysis = models.JSONField(
        _("analysis"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    workaround = models.TextField(
        _("workaround"),
        blank=True,
        help_text=_("What restores the service until the fix is in place (the known error's)."),
    )
    # The alert signature of the known error: incidents with one of these dedup keys, or with an
    # alert carrying all of these labels, match it.
    dedup_keys = models.JSONField(_("deduplication keys"), default=list, blank=True)
    alert_labels = models.JSONField(_("alert labels"), default=dict, blank=True)
    fix_change_ref = models.CharField(_("change reference"), max_length=200, blank=True)
    fix_description = models.TextField(_("permanent fix"), blank=True)
    fixed_at = models.DateTimeField(_("fix deployed"), null=True, blank=True)
    # Set when an incident linked to the closed problem is reopened: the fix may not hold.
    flagged_at = models.DateTimeField(_("flagged"), null=True, blank=True)
    flag_reason = models.CharField(_("flag reason"), max_length=300, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    investigating_at = models.DateTimeField(_("investigation started"), null=True, blank=True)
    known_error_at = models.DateTimeField(_("known error since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state"], name="problem_state")]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")

    def __str__(self) -> str:
        return f"{self.reference} {self.statement}"

    @property
    def state_fields(self):
        return (self._meta.get_field("state"),)

    @property
    def reference(self) -> str:
        return f"PRB-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROBLEM_STATES

    @property
    def is_known_error(self) -> bool:
        return self.state == ProblemState.KNOWN_ERROR

    # --- Transitions (pure: set fields and timestamps; the services save and record) -----------

    @transition(field=state, source=ProblemState.NEW, target=ProblemState.INVESTIGATING)
    def investigate(self, *, at) -> None:
        self.investigating_at = at

    @transition(
        field=state,
        source=[ProblemState.NEW, ProblemState.INVESTIGATING],
        target=ProblemState.KNOWN_ERROR,
        conditions=[_has_root_cause, _has_workaround],
    )
    def known_error(self, *, at) -> None:
        self.known_error_at = at
        self.investigating_at = self.investigating_at or at

    @transition(
        field=state,
        source=[ProblemState.INVESTIGATING, ProblemState.KNOWN_ERROR],
        target=ProblemState.RESOLVED,
        conditions=[_has_root_cause],
    )
    def resolve(self, *, at) -> None:
        self.resolved_at = at

    @transition(
        field=state,
        source=ProblemState.RESOLVED,
        target=ProblemState.CLOSED,
        conditions=[_has_fix],
    )
    def close(self, *, at) -> None:
        self.closed_at = at

    @transition(
        field=state,
        source=[ProblemState.RESOLVED, ProblemState.CLOSED],
        target=ProblemState.INVESTIGATING,
    )
    def reopen(self, *, at) -> None:
        self.resolved_at = None
        self.closed_at = None
        self.flagged_at = None
        self.flag_reason = ""


class ProblemLink(models.Model):
    """An incident caused by the problem: each incident has at most one problem."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="links")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="problem_link")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "pk"]
        verbose_name = _("linked incident")
        verbose_name_plural = _("linked incidents")

    def __str__(self) -> str:
        return f"incident #{self.incident_id} -> PRB-{self.problem_id}"


class ProblemEvent(models.Model):
    """One entry of a problem's history (append-only): who changed what, when, from which state."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Details changed")
        TRANSITION = "transition", _("State changed")
        INCIDENT_LINKED = "incident_linked", _("Incident linked")
        INCIDENT_UNLINKED = "incident_unlinked", _("Incident unlinked")
        FLAGGED = "flagged", _("Flagged: a linked incident was reopened")

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("problem history entry")
        verbose_name_plural = _("problem history")

    def __str__(self) -> str:
        return f"PRB-{self.problem_id} {self.kind}"
