"""Tampering with any field of any timeline entry is detected (the rules mutation testing found
unguarded: every field the hash must cover, and the previous-hash link on its own).

Each case edits one column of one entry directly in the database, as someone with database
access would, and asks `verify_incident` where the chain breaks.
"""

import json

import pytest
from django.db import connection

from escalation.services import incident_acknowledge
from incidents.models import IncidentEvent, State
from incidents.services import update_post
from incidents.timeline import verify_incident
from tests.factories import IncidentFactory, UserFactory, drive

pytestmark = pytest.mark.django_db

TABLE = IncidentEvent._meta.db_table


def raw_sql(sql: str, params=()):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # user triggers off
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


@pytest.fixture
def incident(manager, responder):
    incident = drive(IncidentFactory(actor=manager), State.ESCALATED, actor=manager)
    incident_acknowledge(incident=incident, actor=responder)
    update_post(incident=incident, actor=manager, audience="customer", body="Wir arbeiten daran.")
    incident.refresh_from_db()
    assert incident.timeline_length >= 7
    return incident


def entry(incident, seq) -> IncidentEvent:
    return IncidentEvent.objects.get(incident=incident, seq=seq)


def _other_value(field: str, event: IncidentEvent, stranger):
    """A different but well-formed value for one column of an entry."""
    if field == "actor_id":
        return stranger.pk if event.actor_id != stranger.pk else None
    if field == "created_at":
        return event.created_at.replace(year=2020)
    if field == "data":
        return json.dumps({**event.data, "forged": True})
    if field == "prev_hash":
        return "0" * 63 + "1"
    return (getattr(event, field) or "") + "x"


FIELDS = ["kind", "actor_id", "actor_label", "from_state", "to_state", "data", "created_at"]


@pytest.mark.parametrize("field", [*FIELDS, "prev_hash"])
@pytest.mark.parametrize("where", ["first", "middle", "newest"])
def test_editing_any_field_of_any_entry_is_detected(incident, field, where):
    stranger = UserFactory(username="mallory")
    seq = {"first": 1, "middle": incident.timeline_length // 2, "newest": incident.timeline_length}
    target = entry(incident, seq[where])
    raw_sql(
        f"UPDATE {TABLE} SET {field} = %s WHERE id = %s",  # noqa: S608 (column names from FIELDS)
        [_other_value(field, target, stranger), target.pk],
    )
    problem = verify_incident(incident)
    assert problem is not None, f"editing {field} of the {where} entry went unnoticed"
    assert problem.seq == target.seq


@pytest.mark.parametrize("field", FIELDS)
def test_rehashed_middle_forgery_breaks_the_next_link(incident, field):
    """Rewrite a middle entry and recompute its own hash: only the next entry's prev_hash link
    can tell, so this proves the link check itself (not the sequence or content checks)."""
    stranger = UserFactory(username="mallory")
    middle = entry(incident, incident.timeline_length // 2)
    value = _other_value(field, middle, stranger)
    raw_sql(f"UPDATE {TABLE} SET {field} = %s WHERE id = %s", [value, middle.pk])  # noqa: S608
    forged = entry(incident, middle.seq)
    raw_sql(f"UPDATE {TABLE} SET hash = %s WHERE id = %s", [forged.compute_hash(), middle.pk])  # noqa: S608
    assert entry(incident, middle.seq).compute_hash() == entry(incident, middle.seq).hash
    problem = verify_incident(incident)
    assert problem is not None
    assert problem.seq == middle.seq + 1
    assert "previous-hash link" in problem.problem


def test_the_hash_covers_every_meaningful_field(incident):
    """Independent of verify: changing a field in memory changes the computed hash."""
    stranger = UserFactory(username="mallory")
    event = entry(incident, 2)
    original = event.compute_hash()
    for field in [*FIELDS, "prev_hash", "seq", "incident_id"]:
        copy = entry(incident, 2)
        if field == "seq":
            value = copy.seq + 1
        elif field == "incident_id":
            value = copy.incident_id + 1
        elif field == "data":
            value = {**copy.data, "forged": True}
        else:
            value = _other_value(field, copy, stranger)
        setattr(copy, field, value)
        assert copy.compute_hash() != original, f"{field} is not covered by the hash"
