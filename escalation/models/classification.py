"""The process: how incidents are classified and whether they must be escalated."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Customer, Impact, Priority, Service, Urgency


class PriorityMatrixEntry(models.Model):
    """One cell of the impact x urgency -> priority matrix (ITIL default seeded by a migration)."""

    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="matrix_cell_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_impact_display()} x {self.get_urgency_display()} = P{self.priority}"


class EscalationRule(models.Model):
    """A rule that requires escalation. Any active rule that matches decides (first by position).

    A rule matches when the incident's priority is at or above `max_priority` (P1 is the highest),
    or when it affects a listed service or a listed customer. Empty criteria never match.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    max_priority = models.PositiveSmallIntegerField(
        _("priority at or above"),
        choices=Priority.choices,
        null=True,
        blank=True,
        help_text=_("Matches P1 up to this priority, e.g. P2 matches P1 and P2."),
    )
    services = models.ManyToManyField(
        Service,
        verbose_name=_("business-critical services"),
        blank=True,
        related_name="escalation_rules",
    )
    customers = models.ManyToManyField(
        Customer, verbose_name=_("customers"), blank=True, related_name="escalation_rules"
    )
    min_priority_for_lists = models.PositiveSmallIntegerField(
        _("for listed services/customers: priority at or above"),
        choices=Priority.choices,
        null=True,
        blank=True,
        help_text=_("Optional: listed services and customers only trigger up to this priority."),
    )
    auto_escalate = models.BooleanField(
        _("escalate at once"),
        default=True,
        help_text=_("Escalate as soon as classification matches, without waiting for a person."),
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")

    def __str__(self) -> str:
        return self.name
