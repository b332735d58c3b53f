"""timeline_deferred: a run of steps in one transaction stores its timeline entries in one INSERT
and one update of the chain's head at the block's end, and the chain is the same as if each entry
had been stored at once."""

import pytest
from django.db import transaction

from incidents.models import IncidentEvent
from incidents.services import incident_lock, timeline_deferred, timeline_record
from incidents.timeline import verify_incident
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def record(incident, n: int) -> None:
    timeline_record(incident=incident, kind="note", actor=None, data={"n": n})


def stored(incident) -> list[int]:
    return list(
        IncidentEvent.objects.filter(incident=incident, kind="note")
        .order_by("seq")
        .values_list("data__n", flat=True)
    )


def test_entries_are_stored_at_the_end_in_two_statements(django_assert_num_queries):
    incident = IncidentFactory()
    with transaction.atomic():
        locked = incident_lock(incident)
        before = locked.timeline_length
        # One INSERT, one update of the head.
        with django_assert_num_queries(2), timeline_deferred(locked):
            for n in range(4):
                record(locked, n)
            assert locked.timeline_length == before + 4  # the chain moved on at once
        assert stored(locked) == [0, 1, 2, 3]
    incident.refresh_from_db()
    assert incident.timeline_length == before + 4
    assert verify_incident(incident) is None


def test_the_chain_is_the_one_stored_entries_would_make():
    deferred, direct = IncidentFactory(), IncidentFactory()
    with transaction.atomic():
        for incident, block in ((deferred, True), (direct, False)):
            locked = incident_lock(incident)
            if block:
                with timeline_deferred(locked):
                    record(locked, 1)
                    record(locked, 2)
            else:
                record(locked, 1)
                record(locked, 2)
            assert stored(locked) == [1, 2]
    for incident in (deferred, direct):
        assert verify_incident(incident) is None


def test_an_error_in_the_block_stores_nothing():
    incident = IncidentFactory()
    incident.refresh_from_db()
    length, head = incident.timeline_length, incident.timeline_head
    with pytest.raises(RuntimeError), transaction.atomic():
        locked = incident_lock(incident)
        with timeline_deferred(locked):
            record(locked, 1)
            raise RuntimeError("a step failed")
    incident.refresh_from_db()
    assert (incident.timeline_length, incident.timeline_head) == (length, head)
    assert stored(incident) == []
    assert verify_incident(incident) is None


def test_another_incidents_entries_and_a_nested_block():
    incident, other = IncidentFactory(), IncidentFactory()
    with transaction.atomic():
        locked, other_locked = incident_lock(incident), incident_lock(other)
        with timeline_deferred(locked):
            record(other_locked, 7)
            assert stored(other_locked) == [7]  # not this block's incident: stored at once
            with timeline_deferred(locked):
                record(locked, 1)
            assert stored(locked) == []  # the outer block stores
            # Another instance of the same incident (locked again) continues the same chain.
            record(incident_lock(incident.pk), 2)
            record(locked, 3)
        assert stored(locked) == [1, 2, 3]
    assert verify_incident(incident) is None and verify_incident(other) is None
