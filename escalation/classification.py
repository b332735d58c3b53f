"""Pure classification logic: impact x urgency -> priority, and the escalation decision.

No database access here: the service loads the matrix and rules and passes plain values in.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# ITIL's 3x3 default (high/high = P1 ... low/low = P5), seeded into the database by a migration.
ITIL_DEFAULT_MATRIX: dict[tuple[str, str], int] = {
    ("high", "high"): 1,
    ("high", "medium"): 2,
    ("high", "low"): 3,
    ("medium", "high"): 2,
    ("medium", "medium"): 3,
    ("medium", "low"): 4,
    ("low", "high"): 3,
    ("low", "medium"): 4,
    ("low", "low"): 5,
}


class UnknownCell(KeyError):
    pass


def derive_priority(matrix: Mapping[tuple[str, str], int], impact: str, urgency: str) -> int:
    try:
        return matrix[(impact, urgency)]
    except KeyError:
        raise UnknownCell(
            f"No priority configured for impact={impact}, urgency={urgency}"
        ) from None


@dataclass(frozen=True)
class Rule:
    name: str
    max_priority: int | None = None
    service_ids: frozenset[int] = field(default_factory=frozenset)
    customer_ids: frozenset[int] = field(default_factory=frozenset)
    min_priority_for_lists: int | None = None
    auto_escalate: bool = True


@dataclass(frozen=True)
class Decision:
    required: bool
    rule: str  # the name of the rule that decided, or "" when none matched
    reason: str
    auto_escalate: bool = False

    def as_data(self) -> dict:
        return {
            "required": self.required,
            "rule": self.rule,
            "reason": self.reason,
            "auto_escalate": self.auto_escalate,
        }


def decide_escalation(
    rules: Iterable[Rule], *, priority: int, service_ids: Iterable[int], customer_ids: Iterable[int]
) -> Decision:
    """The first matching rule (in the given order) requires escalation; none -> not required."""
    services = set(service_ids)
    customers = set(customer_ids)
    for rule in rules:
        if rule.max_priority is not None and priority <= rule.max_priority:
            return Decision(
                True,
                rule.name,
                f"priority P{priority} is at or above P{rule.max_priority}",
                rule.auto_escalate,
            )
        lists_apply = rule.min_priority_for_lists is None or priority <= rule.min_priority_for_lists
        if lists_apply and services & rule.service_ids:
            return Decision(
                True, rule.name, "a business-critical service is affected", rule.auto_escalate
            )
        if lists_apply and customers & rule.customer_ids:
            return Decision(True, rule.name, "a listed customer is affected", rule.auto_escalate)
    return Decision(False, "", f"no escalation rule matches priority P{priority}")
