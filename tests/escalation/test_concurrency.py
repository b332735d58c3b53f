"""Two people pressing the same button at once make one transition (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from escalation.services import incident_perform
from incidents.exceptions import TransitionNotAllowed
from incidents.models import EventKind, Incident, IncidentEvent, State
from incidents.timeline import verify_incident
from tests.factories import IncidentFactory, drive

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CASES = [
    ("escalate", State.CLASSIFIED, {"reason": "Großstörung"}, EventKind.ESCALATED),
    ("resolve", State.ESCALATED, {"resolution": "Neustart"}, EventKind.RESOLVED),
    ("acknowledge", State.ESCALATED, {}, EventKind.ACKNOWLEDGED),
    ("close", State.RESOLVED, {"review": "Review erledigt"}, EventKind.CLOSED),
]


def race(incident_id: int, actor, action: str, data: dict, runners: int) -> list[str]:
    """Each thread loads the incident (all see the same state), then all act at one moment."""
    barrier = threading.Barrier(runners)
    outcomes: list[str] = []

    def attempt():
        try:
            stale = Incident.objects.get(pk=incident_id)
            barrier.wait(timeout=10)
            incident_perform(incident=stale, actor=actor, action=action, data=data)
            outcomes.append("done")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize(("action", "state", "data", "kind"), CASES)
def test_concurrent_attempts_make_exactly_one_transition(manager, action, state, data, kind):
    assert connection.vendor == "postgresql"
    for _ in range(5):  # repeat: each round is a fresh race
        incident = drive(IncidentFactory(), state)
        outcomes = race(incident.pk, manager, action, data, runners=4)
        assert sorted(outcomes) == ["done", "refused", "refused", "refused"]
        assert IncidentEvent.objects.filter(incident=incident, kind=kind).count() == 1
        stored = Incident.objects.get(pk=incident.pk)
        assert verify_incident(stored) is None  # the chain stayed linear
