"""Post-incident reviews (PIR) and the corrective and preventive actions (CAPA) that come from them.

A review belongs to one incident. It is drafted from the record, edited by an escalation manager,
submitted, and approved by a second person (four-eyes); from then on it is frozen: the services
refuse every edit, and its figures are kept as they were at approval (`figures`).

An action comes from a review, or (through the nullable generic `origin`) from another record such
as a problem. It carries its own due date and an effectiveness check; its reminders and checks are
driven by `next_due_at` (a due row per action, claimed by the beat tick in tasks.py), so they
outlive the incident.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents.models import Incident

# The parts of a review a person writes (in the order the page and the PDF show them).
TEXT_FIELDS = (
    "summary",
    "customer_impact",
    "business_impact",
    "root_cause",
    "contributing_factors",
    "went_well",
    "went_badly",
)


class Review(ConcurrentTransitionMixin, models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved")

    incident = models.OneToOneField(
        Incident, verbose_name=_("incident"), on_delete=models.PROTECT, related_name="pir"
    )
    state = FSMField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT, protected=True
    )
    summary = models.TextField(_("summary"), blank=True)
    customer_impact = models.TextField(_("customer impact"), blank=True)
    business_impact = models.TextField(_("business impact"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    contributing_factors = models.TextField(_("contributing factors"), blank=True)
    went_well = models.TextField(_("what went well"), blank=True)
    went_badly = models.TextField(_("what went badly"), blank=True)
    # The timeline entries (their seq numbers) the author chose as the key moments.
    key_moments = models.JSONField(_("key moments"), default=list, blank=True)
    # The figures as they were at approval (empty before: then they are computed from the record).
    figures = models.JSONField(_("figures"), default=dict, blank=True)

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("drafted"), default=timezone.now)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Why the approver sent it back (the last time).
    return_reason = models.TextField(_("sent back because"), blank=True)

    class Meta:
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")
        indexes = [models.Index(fields=["state", "approved_at"], name="review_state_approved")]

    def __str__(self) -> str:
        return f"PIR #{self.incident_id}"

    @property
    def is_frozen(self) -> bool:
        return self.state == self.State.APPROVED

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self, *, at, by) -> None:
        self.submitted_at, self.submitted_by = at, by

    @transition(field=state, source=State.SUBMITTED, target=State.DRAFT)
    def send_back(self, *, reason: str) -> None:
        self.submitted_at = self.submitted_by = None
        self.return_reason = reason

    @transition(field=state, source=State.SUBMITTED, target=State.APPROVED)
    def approve(self, *, at, by) -> None:
        self.approved_at = at
        self.approved_by = by


class Action(ConcurrentTransitionMixin, models.Model):
    class Kind(models.TextChoices):
        CORRECTIVE = "corrective", _("Corrective")
        PREVENTIVE = "preventive", _("Preventive")
        IMPROVEMENT = "improvement", _("Improvement")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done, effectiveness to check")
        EFFECTIVE = "effective", _("Effective")
        INEFFECTIVE = "ineffective", _("Not effective")
        CANCELLED = "cancelled", _("Cancelled")

    class Check(models.TextChoices):
        NO_RECURRENCE = "no_recurrence", _("No recurrence on the services (checked by the product)")
        VERDICT = "verdict", _("A person's verdict")

    title = models.CharField(_("action"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="capa_actions",
    )
    due_on = models.DateField(_("due"))
    state = FSMField(
        _("state"), max_length=20, choices=State.choices, default=State.OPEN, protected=True
    )
    # Where it comes from: a review, or (generic, for other apps such as problems) any record.
    review = models.ForeignKey(
        Review,
        verbose_name=_("review"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
    )
    origin_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    origin_id = models.PositiveBigIntegerField(null=True, blank=True)
    origin = GenericForeignKey("origin_type", "origin_id")

    # The effectiveness check: when, by which criterion, with which result.
    check_on = models.DateField(_("effectiveness check on"))
    check_kind = models.CharField(
        _("criterion"), max_length=20, choices=Check.choices, default=Check.NO_RECURRENCE
    )
    check_criterion = models.CharField(_("criterion in words"), max_length=500, blank=True)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    check_note = models.TextField(_("result of the check"), blank=True)

    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_note = models.TextField(_("what was done"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The due row: when the tick must next look at this action (a reminder, the overdue notice,
    # the effectiveness check), or None; `reminders_sent` says which have gone out.
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reminders_sent = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("corrective or preventive action")
        verbose_name_plural = _("corrective and preventive actions")
        indexes = [models.Index(fields=["origin_type", "origin_id"], name="action_origin")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    def is_overdue(self, today) -> bool:
        return self.state == self.State.OPEN and self.due_on < today

    @transition(field=state, source=State.OPEN, target=State.DONE)
    def complete(self, *, at, note: str) -> None:
        self.done_at = at
        self.done_note = note

    @transition(field=state, source=State.DONE, target=State.EFFECTIVE)
    def confirm(self, *, at, by, note: str) -> None:
        self.checked_at, self.checked_by, self.check_note = at, by, note

    @transition(field=state, source=State.DONE, target=State.INEFFECTIVE)
    def refute(self, *, at, by, note: str) -> None:
        self.checked_at, self.checked_by, self.check_note = at, by, note

    @transition(field=state, source=[State.OPEN, State.DONE], target=State.CANCELLED)
    def cancel(self) -> None:
        pass
