"""Every lifecycle transition, allowed and forbidden, with timestamps, permissions, timeline."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation.services import (
    allowed_actions,
    incident_acknowledge,
    incident_close,
    incident_escalate,
    incident_perform,
    incident_reopen,
    incident_resolve,
)
from incidents.exceptions import InvalidInput, PermissionDenied, TransitionNotAllowed
from incidents.models import ACTION_LABELS, EventKind, Incident, IncidentEvent, State
from tests.factories import IncidentFactory, drive

pytestmark = pytest.mark.django_db

INPUT = {
    "classify": {"impact": "low", "urgency": "low"},
    "escalate": {"reason": "Großkunde betroffen"},
    "acknowledge": {},
    "provide_workaround": {"workaround": "Manuelle Erfassung per Formular"},
    "resolve": {"resolution": "Dienst neu gestartet"},
    "close": {"review": "Ursache behoben, Maßnahme eingeplant"},
    "reopen": {"reason": "Fehler tritt wieder auf"},
}

# From each state: which actions are legal (acknowledge while still unacknowledged).
LEGAL = {
    State.DETECTED: {"classify", "acknowledge", "resolve"},
    State.CLASSIFIED: {"classify", "escalate", "acknowledge", "resolve"},
    State.ESCALATED: {"classify", "acknowledge", "provide_workaround", "resolve"},
    State.WORKAROUND: {"classify", "acknowledge", "resolve"},
    State.RESOLVED: {"close", "reopen"},
    State.CLOSED: set(),
}

TARGET = {
    "classify": {State.DETECTED: State.CLASSIFIED},
    "escalate": {State.CLASSIFIED: State.ESCALATED},
    "provide_workaround": {State.ESCALATED: State.WORKAROUND},
    "resolve": {s: State.RESOLVED for s in LEGAL if "resolve" in LEGAL[s]},
    "close": {State.RESOLVED: State.CLOSED},
    "reopen": {State.RESOLVED: State.ESCALATED},
}

KIND = {
    "classify": [EventKind.CLASSIFIED, EventKind.RECLASSIFIED],
    "escalate": [EventKind.ESCALATED],
    "acknowledge": [EventKind.ACKNOWLEDGED],
    "provide_workaround": [EventKind.WORKAROUND],
    "resolve": [EventKind.RESOLVED],
    "close": [EventKind.CLOSED],
    "reopen": [EventKind.REOPENED],
}

TIMESTAMP = {
    "classify": "classified_at",
    "escalate": "escalated_at",
    "acknowledge": "acknowledged_at",
    "provide_workaround": "workaround_at",
    "resolve": "resolved_at",
    "close": "closed_at",
}


def test_legal_table_matches_the_model(manager):
    for state, legal in LEGAL.items():
        incident = drive(IncidentFactory(), state)
        assert set(allowed_actions(incident, manager)) == legal, state


@pytest.mark.parametrize("state", list(LEGAL))
@pytest.mark.parametrize("action", list(INPUT))
def test_every_action_from_every_state(state, action, manager):
    incident = drive(IncidentFactory(), state)
    before_events = incident.timeline_length
    if action in LEGAL[state]:
        after = incident_perform(
            incident=incident, actor=manager, action=action, data=INPUT[action]
        )
        expected_state = TARGET.get(action, {}).get(state, state)
        assert after.state == expected_state
        stored = Incident.objects.get(pk=incident.pk)
        assert stored.state == expected_state
        if action in TIMESTAMP:
            assert getattr(stored, TIMESTAMP[action]) is not None
        assert stored.timeline_length > before_events
        new = IncidentEvent.objects.filter(incident=incident, seq__gt=before_events)
        kinds = KIND[action]
        assert new.filter(kind__in=kinds, actor=manager).count() == 1
    else:
        with pytest.raises(TransitionNotAllowed) as excinfo:
            incident_perform(incident=incident, actor=manager, action=action, data=INPUT[action])
        error = excinfo.value
        assert error.current_state == state
        assert set(error.allowed) == LEGAL[state]
        assert error.transition == action
        assert str(State(state).label) in str(error) and str(ACTION_LABELS[action]) in str(error)
        stored = Incident.objects.get(pk=incident.pk)
        assert stored.state == state
        assert stored.timeline_length == before_events
        assert IncidentEvent.objects.filter(incident=incident).count() == before_events


def test_full_lifecycle_sets_every_timestamp_in_order(manager):
    incident = IncidentFactory(actor=manager)
    incident = incident_acknowledge(incident=incident, actor=manager)
    incident = drive(incident, State.CLOSED, actor=manager)
    stamps = [
        incident.detected_at,
        incident.acknowledged_at,
        incident.classified_at,
        incident.escalated_at,
        incident.workaround_at,
        incident.resolved_at,
        incident.closed_at,
    ]
    assert all(stamps) and stamps == sorted(stamps)
    all_kinds = list(
        IncidentEvent.objects.filter(incident=incident)
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert "escalation_started" in all_kinds and "escalation_stopped" in all_kinds
    kinds = [k for k in all_kinds if k in EventKind.values]  # the lifecycle's own entries
    assert kinds == [
        EventKind.CREATED,
        EventKind.ACKNOWLEDGED,
        EventKind.CLASSIFIED,
        EventKind.ESCALATION_DECIDED,
        EventKind.ESCALATED,
        EventKind.WORKAROUND,
        EventKind.RESOLVED,
        EventKind.CLOSED,
    ]
    escalated = IncidentEvent.objects.get(incident=incident, kind=EventKind.ESCALATED)
    assert (escalated.from_state, escalated.to_state) == (State.CLASSIFIED, State.ESCALATED)


def test_false_alarm_resolves_from_detected_with_a_reason(manager):
    incident = IncidentFactory()
    with pytest.raises(InvalidInput):
        incident_resolve(incident=incident, actor=manager, resolution="   ")
    resolved = incident_resolve(
        incident=incident, actor=manager, resolution="Fehlalarm: Testsystem"
    )
    assert resolved.state == State.RESOLVED
    assert resolved.escalated_at is None
    # Never escalated: closing needs no review.
    closed = incident_close(incident=resolved, actor=manager)
    assert closed.state == State.CLOSED


def test_escalated_incident_needs_a_review_to_close(manager):
    incident = drive(IncidentFactory(), State.RESOLVED)
    with pytest.raises(TransitionNotAllowed, match="post-incident review"):
        incident_close(incident=incident, actor=manager, review="")
    assert Incident.objects.get(pk=incident.pk).state == State.RESOLVED
    closed = incident_close(
        incident=incident, actor=manager, review="5-Why: Netzteil ohne Redundanz"
    )
    assert closed.state == State.CLOSED and closed.review.startswith("5-Why")


def test_reopen_returns_to_escalation_and_clears_resolved_at(manager):
    incident = incident_resolve(incident=IncidentFactory(), actor=manager, resolution="Fehlalarm")
    with pytest.raises(InvalidInput):
        incident_reopen(incident=incident, actor=manager, reason="")
    reopened = incident_reopen(incident=incident, actor=manager, reason="Tritt wieder auf")
    assert reopened.state == State.ESCALATED
    assert reopened.resolved_at is None and reopened.escalated_at is not None
    event = IncidentEvent.objects.get(incident=incident, kind=EventKind.REOPENED)
    assert event.data == {"reason": "Tritt wieder auf"} and event.actor == manager
    assert reopened.paging_since is not None  # the escalation pages again


def test_reopen_keeps_the_first_escalation_time(manager):
    """MTTA and the first escalation are history: reopening must not move escalated_at."""
    incident = drive(IncidentFactory(), State.ESCALATED, actor=manager)
    first = Incident.objects.get(pk=incident.pk).escalated_at
    resolved = incident_resolve(incident=incident, actor=manager, resolution="Neustart")
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        reopened = incident_reopen(incident=resolved, actor=manager, reason="Wieder da")
    stored = Incident.objects.get(pk=incident.pk)
    assert reopened.escalated_at == first and stored.escalated_at == first


def test_reopen_of_a_false_alarm_sets_escalated_at_once(manager):
    incident = incident_resolve(incident=IncidentFactory(), actor=manager, resolution="Fehlalarm")
    assert incident.escalated_at is None
    at = timezone.now() + timedelta(minutes=7)
    with time_machine.travel(at, tick=False):
        reopened = incident_reopen(incident=incident, actor=manager, reason="Doch echt")
    assert reopened.escalated_at == at


def test_acknowledge_only_once(responder):
    incident = incident_acknowledge(incident=IncidentFactory(), actor=responder)
    assert incident.acknowledged_at is not None
    with pytest.raises(TransitionNotAllowed, match="already acknowledged"):
        incident_acknowledge(incident=incident, actor=responder)


def test_manual_escalation_needs_a_reason(manager):
    incident = drive(IncidentFactory(), State.CLASSIFIED)
    with pytest.raises(InvalidInput):
        incident_escalate(incident=incident, actor=manager, reason=" ")
    assert Incident.objects.get(pk=incident.pk).state == State.CLASSIFIED


@pytest.mark.parametrize(
    ("who", "action", "state"),
    [
        ("executive", "classify", State.DETECTED),
        ("executive", "acknowledge", State.DETECTED),
        ("executive", "resolve", State.ESCALATED),
        ("customer_contact", "resolve", State.DETECTED),
        ("responder", "escalate", State.CLASSIFIED),
        ("responder", "close", State.RESOLVED),
        ("responder", "reopen", State.RESOLVED),
    ],
)
def test_permissions_are_enforced(request, who, action, state):
    actor = request.getfixturevalue(who)
    incident = drive(IncidentFactory(), state)
    with pytest.raises(PermissionDenied):
        incident_perform(incident=incident, actor=actor, action=action, data=INPUT[action])
    assert Incident.objects.get(pk=incident.pk).state == state


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("classify", State.DETECTED),
        ("acknowledge", State.DETECTED),
        ("resolve", State.ESCALATED),
        ("provide_workaround", State.ESCALATED),
    ],
)
def test_responder_may_work_the_incident(responder, action, state):
    incident = drive(IncidentFactory(), state)
    before = incident.timeline_length
    done = incident_perform(incident=incident, actor=responder, action=action, data=INPUT[action])
    stored = Incident.objects.get(pk=incident.pk)
    assert stored.state == TARGET.get(action, {}).get(state, state)
    assert getattr(stored, TIMESTAMP[action]) is not None
    assert done.state == stored.state
    entry = IncidentEvent.objects.get(incident=incident, seq=before + 1)
    assert entry.kind in KIND[action] and entry.actor == responder


def test_executive_sees_no_actions(executive):
    incident = drive(IncidentFactory(), State.ESCALATED)
    assert allowed_actions(incident, executive) == []


def test_state_cannot_be_assigned_directly():
    incident = IncidentFactory()
    with pytest.raises(AttributeError):
        incident.state = State.CLOSED


def test_stale_instance_cannot_overwrite_a_newer_state(manager):
    """The service reloads under lock; a stale copy in memory does not matter."""
    incident = IncidentFactory()
    stale = Incident.objects.get(pk=incident.pk)
    incident_resolve(incident=incident, actor=manager, resolution="Fehlalarm")
    with pytest.raises(TransitionNotAllowed):
        incident_perform(incident=stale, actor=manager, action="classify", data=INPUT["classify"])
    assert Incident.objects.get(pk=incident.pk).state == State.RESOLVED


def test_unknown_action_is_invalid_input(manager):
    with pytest.raises(InvalidInput):
        incident_perform(incident=IncidentFactory(), actor=manager, action="explode", data={})
