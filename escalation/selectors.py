"""Reads for the escalation process."""

from .classification import Rule
from .models import EscalationRule, PriorityMatrixEntry


def priority_matrix() -> dict[tuple[str, str], int]:
    return {(c.impact, c.urgency): c.priority for c in PriorityMatrixEntry.objects.all()}


def active_escalation_rules() -> list[Rule]:
    rules = EscalationRule.objects.filter(is_active=True).prefetch_related("services", "customers")
    return [
        Rule(
            name=r.name,
            max_priority=r.max_priority,
            service_ids=frozenset(s.pk for s in r.services.all()),
            customer_ids=frozenset(c.pk for c in r.customers.all()),
            min_priority_for_lists=r.min_priority_for_lists,
            auto_escalate=r.auto_escalate,
        )
        for r in rules
    ]
