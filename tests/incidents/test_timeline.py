"""The tamper-evident timeline: hash chain, verification, and append-only enforcement."""

import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from escalation.services import incident_acknowledge
from incidents.models import GENESIS_HASH, IncidentEvent, State
from incidents.services import update_post
from incidents.timeline import verify_incident
from tests.factories import IncidentFactory, drive

pytestmark = pytest.mark.django_db

TABLE = IncidentEvent._meta.db_table


@pytest.fixture
def incident(manager):
    incident = drive(IncidentFactory(actor=manager), State.ESCALATED, actor=manager)
    update_post(incident=incident, actor=manager, audience="customer", body="Wir arbeiten daran.")
    incident.refresh_from_db()
    assert incident.timeline_length >= 6  # created, classified, decided, escalated, ..., update
    return incident


def raw_sql(sql: str, params=()):
    """Tamper as someone with direct database access would (the trigger switched off on PG)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # user triggers off
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def verify(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_timeline", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def event(incident, seq) -> IncidentEvent:
    return IncidentEvent.objects.get(incident=incident, seq=seq)


def test_chain_links_every_entry_to_the_previous(incident):
    events = list(IncidentEvent.objects.filter(incident=incident).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, incident.timeline_length + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for previous, current in zip(events, events[1:], strict=False):
        assert current.prev_hash == previous.hash
    for e in events:
        # Independently recomputed: SHA-256 over the canonical JSON (which includes prev_hash).
        assert hashlib.sha256(e.canonical_content()).hexdigest() == e.hash
        assert json.loads(e.canonical_content())["prev_hash"] == e.prev_hash
    assert incident.timeline_head == events[-1].hash


def test_intact_timeline_verifies(incident):
    IncidentFactory()  # a second incident with its own chain
    code, out, _ = verify()
    assert code == 0 and "2 incident timelines intact" in out
    code, out, _ = verify("--incident", str(incident.pk))
    assert code == 0 and "1 incident timelines intact" in out


def test_unknown_incident_is_a_clear_error():
    code, _, err = verify("--incident", "999999")
    assert code == 1 and "No incident with id 999999" in err


def test_edited_content_is_detected(incident):
    target = event(incident, 3)
    raw_sql(f"UPDATE {TABLE} SET data = %s WHERE id = %s", ['{"impact": "low"}', target.pk])
    code, _, err = verify()
    assert code == 1
    assert f"incident {incident.pk}: entry #3 (id {target.pk})" in err and "edited" in err


def test_edited_time_is_detected(incident):
    target = event(incident, 5)  # a middle entry
    new_time = target.created_at.replace(year=2020)
    raw_sql(f"UPDATE {TABLE} SET created_at = %s WHERE id = %s", [new_time, target.pk])
    code, _, err = verify()
    assert code == 1 and "entry #5" in err


def test_deleted_entry_is_detected(incident):
    raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [event(incident, 2).pk])
    code, _, err = verify()
    assert code == 1 and "entry #3" in err and "deleted or reordered" in err


def test_deleted_newest_entry_is_detected(incident):
    raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [event(incident, incident.timeline_length).pk])
    code, _, err = verify()
    assert code == 1 and "newest entries deleted" in err


def test_reordered_entries_are_detected(incident):
    two, three = event(incident, 2), event(incident, 3)
    raw_sql(f"UPDATE {TABLE} SET seq = 1000 WHERE id = %s", [two.pk])
    raw_sql(f"UPDATE {TABLE} SET seq = 2 WHERE id = %s", [three.pk])
    raw_sql(f"UPDATE {TABLE} SET seq = 3 WHERE id = %s", [two.pk])
    code, _, err = verify()
    assert code == 1 and "entry #2" in err


def test_rehashed_forgery_is_caught_by_the_chain_head(incident):
    """Rewriting an entry and recomputing its hash still breaks the next link."""
    target = event(incident, incident.timeline_length)  # the customer update
    assert target.kind == "update_posted"
    target.data = {"audience": "customer", "body": "Alles in Ordnung.", "update": 1}
    forged_hash = target.compute_hash()
    raw_sql(
        f"UPDATE {TABLE} SET data = %s, hash = %s WHERE id = %s",
        [json.dumps(target.data), forged_hash, target.pk],
    )
    code, _, err = verify()
    assert code == 1 and "newest entries deleted" in err  # head no longer matches


def test_break_names_the_first_broken_entry(incident):
    raw_sql(f"UPDATE {TABLE} SET kind = 'note' WHERE id = %s", [event(incident, 2).pk])
    raw_sql(f"UPDATE {TABLE} SET kind = 'note' WHERE id = %s", [event(incident, 4).pk])
    problem = verify_incident(incident)
    assert problem.seq == 2


def test_model_layer_refuses_update_and_delete(incident):
    entry = event(incident, 1)
    entry.kind = "note"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        IncidentEvent.objects.filter(incident=incident).update(kind="note")
    with pytest.raises(PermissionError):
        IncidentEvent.objects.filter(incident=incident).delete()
    assert verify()[0] == 0


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql", [f"UPDATE {TABLE} SET kind = 'note' WHERE id = %s", f"DELETE FROM {TABLE} WHERE id = %s"]
)
def test_postgres_trigger_refuses_update_and_delete(incident, sql):
    entry = event(incident, 1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])
    assert event(incident, 1).kind == entry.kind
    assert verify()[0] == 0


def test_acknowledgement_is_chained_too(incident, responder):
    incident_acknowledge(incident=incident, actor=responder)
    n = incident.timeline_length
    entry = event(incident, n + 1)
    assert entry.kind == "acknowledged" and entry.prev_hash == event(incident, n).hash
    assert entry.actor_label == "rolf.responder (rolf.responder)"
    assert verify()[0] == 0
