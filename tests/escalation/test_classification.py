"""Impact x urgency -> priority, the escalation rules, and the recorded decision."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.classification import (
    ITIL_DEFAULT_MATRIX,
    Rule,
    UnknownCell,
    decide_escalation,
    derive_priority,
)
from escalation.models import EscalationRule, PriorityMatrixEntry
from escalation.services import incident_classify
from incidents.exceptions import InvalidInput
from incidents.models import EventKind, IncidentEvent, State
from tests.factories import CustomerFactory, IncidentFactory, ServiceFactory

LEVELS = ["high", "medium", "low"]


# --- pure logic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("high", "high", 1),
        ("high", "medium", 2),
        ("medium", "high", 2),
        ("high", "low", 3),
        ("medium", "medium", 3),
        ("low", "high", 3),
        ("medium", "low", 4),
        ("low", "medium", 4),
        ("low", "low", 5),
    ],
)
def test_itil_default_matrix(impact, urgency, priority):
    assert derive_priority(ITIL_DEFAULT_MATRIX, impact, urgency) == priority


@given(st.sampled_from(LEVELS), st.sampled_from(LEVELS), st.sampled_from(LEVELS))
def test_itil_matrix_is_monotonic(impact, urgency, higher_urgency):
    """Raising urgency (or impact) never lowers the priority (lower number = more urgent)."""
    rank = {"high": 0, "medium": 1, "low": 2}
    if rank[higher_urgency] <= rank[urgency]:
        assert derive_priority(ITIL_DEFAULT_MATRIX, impact, higher_urgency) <= derive_priority(
            ITIL_DEFAULT_MATRIX, impact, urgency
        )
        assert derive_priority(ITIL_DEFAULT_MATRIX, higher_urgency, impact) <= derive_priority(
            ITIL_DEFAULT_MATRIX, urgency, impact
        )


def test_unknown_cell():
    with pytest.raises(UnknownCell):
        derive_priority({}, "high", "high")


def test_first_matching_rule_decides():
    rules = [
        Rule(name="critical", max_priority=2),
        Rule(name="payments", service_ids=frozenset({7})),
        Rule(name="key account", customer_ids=frozenset({3}), auto_escalate=False),
    ]
    assert decide_escalation(rules, priority=1, service_ids=[7], customer_ids=[]).rule == "critical"
    decision = decide_escalation(rules, priority=4, service_ids=[7], customer_ids=[3])
    assert (decision.required, decision.rule, decision.auto_escalate) == (True, "payments", True)
    decision = decide_escalation(rules, priority=5, service_ids=[1], customer_ids=[3])
    assert (decision.required, decision.rule, decision.auto_escalate) == (
        True,
        "key account",
        False,
    )
    decision = decide_escalation(rules, priority=3, service_ids=[1], customer_ids=[2])
    assert decision.required is False and decision.rule == ""
    assert "P3" in decision.reason


def test_list_rule_can_be_limited_by_priority():
    rules = [Rule(name="payments", service_ids=frozenset({7}), min_priority_for_lists=3)]
    assert decide_escalation(rules, priority=3, service_ids=[7], customer_ids=[]).required
    assert not decide_escalation(rules, priority=4, service_ids=[7], customer_ids=[]).required


@given(st.integers(min_value=1, max_value=5), st.integers(min_value=1, max_value=5))
def test_priority_rule_matches_exactly_at_or_above(priority, threshold):
    decision = decide_escalation(
        [Rule(name="r", max_priority=threshold)], priority=priority, service_ids=[], customer_ids=[]
    )
    assert decision.required == (priority <= threshold)


# --- services and the database ------------------------------------------------------------------


@pytest.mark.django_db
def test_matrix_is_seeded_with_itil_default():
    stored = {(c.impact, c.urgency): c.priority for c in PriorityMatrixEntry.objects.all()}
    assert stored == ITIL_DEFAULT_MATRIX


@pytest.mark.django_db
def test_no_escalation_required_is_recorded(manager):
    incident = incident_classify(
        incident=IncidentFactory(), actor=manager, impact="low", urgency="medium"
    )
    assert incident.state == State.CLASSIFIED
    assert (incident.priority, incident.escalation_required, incident.escalation_rule) == (
        4,
        False,
        "",
    )
    decision = IncidentEvent.objects.get(incident=incident, kind=EventKind.ESCALATION_DECIDED)
    assert decision.data["required"] is False
    assert "no escalation rule matches" in decision.data["reason"]
    assert decision.actor == manager


@pytest.mark.django_db
def test_p1_escalates_at_once_by_the_seeded_rule(responder):
    incident = incident_classify(
        incident=IncidentFactory(), actor=responder, impact="high", urgency="high"
    )
    assert incident.state == State.ESCALATED
    assert incident.priority == 1 and incident.escalation_required is True
    assert incident.escalation_rule == "P1-P2 always escalate"
    assert "P1-P2 always escalate" in incident.escalation_reason
    escalated = IncidentEvent.objects.get(incident=incident, kind=EventKind.ESCALATED)
    assert escalated.actor is None and "rule" in escalated.actor_label
    assert (escalated.from_state, escalated.to_state) == ("classified", "escalated")


@pytest.mark.django_db
def test_business_critical_service_rule(manager):
    payments = ServiceFactory(slug="zahlungsverkehr")
    rule = EscalationRule.objects.create(name="Zahlungsverkehr kritisch", position=1)
    rule.services.add(payments)
    incident = incident_classify(
        incident=IncidentFactory(services=[payments]), actor=manager, impact="low", urgency="low"
    )
    assert incident.priority == 5
    assert incident.state == State.ESCALATED
    assert incident.escalation_rule == "Zahlungsverkehr kritisch"


@pytest.mark.django_db
def test_listed_customer_rule_without_auto_escalation(manager):
    vip = CustomerFactory(slug="versicherung")
    rule = EscalationRule.objects.create(name="Key account", position=1, auto_escalate=False)
    rule.customers.add(vip)
    incident = incident_classify(
        incident=IncidentFactory(customers=[vip]), actor=manager, impact="low", urgency="low"
    )
    assert incident.escalation_required is True and incident.escalation_rule == "Key account"
    assert incident.state == State.CLASSIFIED  # required, but a person escalates


@pytest.mark.django_db
def test_auto_escalation_can_be_switched_off(settings, manager):
    settings.ESCALATION_AUTO_ESCALATE = False
    incident = incident_classify(
        incident=IncidentFactory(), actor=manager, impact="high", urgency="high"
    )
    assert incident.state == State.CLASSIFIED and incident.escalation_required is True


@pytest.mark.django_db
def test_edited_matrix_changes_the_priority(manager):
    PriorityMatrixEntry.objects.filter(impact="low", urgency="low").update(priority=2)
    incident = incident_classify(
        incident=IncidentFactory(), actor=manager, impact="low", urgency="low"
    )
    assert incident.priority == 2 and incident.state == State.ESCALATED


@pytest.mark.django_db
def test_reclassification_is_recorded_with_the_previous_values(manager):
    incident = incident_classify(
        incident=IncidentFactory(), actor=manager, impact="low", urgency="low"
    )
    incident = incident_classify(incident=incident, actor=manager, impact="high", urgency="medium")
    assert incident.priority == 2
    assert incident.state == State.ESCALATED  # P2 now requires escalation
    event = IncidentEvent.objects.get(incident=incident, kind=EventKind.RECLASSIFIED)
    assert event.data["previous"] == {"impact": "low", "urgency": "low", "priority": 5}
    assert event.data["priority"] == 2
    # Reclassifying an escalated incident keeps its state and records the new decision.
    again = incident_classify(incident=incident, actor=manager, impact="low", urgency="low")
    assert again.state == State.ESCALATED and again.escalation_required is False
    decisions = IncidentEvent.objects.filter(incident=incident, kind=EventKind.ESCALATION_DECIDED)
    assert [d.data["required"] for d in decisions.order_by("seq")] == [False, True, False]


@pytest.mark.django_db
@pytest.mark.parametrize(("impact", "urgency"), [("huge", "high"), ("high", ""), ("", "")])
def test_bad_classification_input_changes_nothing(manager, impact, urgency):
    incident = IncidentFactory()
    with pytest.raises(InvalidInput):
        incident_classify(incident=incident, actor=manager, impact=impact, urgency=urgency)
    incident.refresh_from_db()
    assert incident.state == State.DETECTED and incident.timeline_length == 1
