"""Tampering with any field of any timeline entry is detected (the rules mutation testing found
unguarded: every field the hash must cover, and the previous-hash link on its own).

Each case edits one column of one entry directly in the database, as someone with database
access would, and asks `verify_incident` where the chain breaks.
"""

import json

import pytest

from escalation.services import incident_acknowledge
from incidents.models import IncidentEvent, State
from incidents.services import update_post
from incidents.timeline import verify_incident
from tests.factories import IncidentFactory, UserFactory, drive
from tests.incidents.test_timeline import raw_sql  # tamper as someone with database access

pytestmark = pytest.mark.django_db

TABLE = IncidentEvent._meta.db_table


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
    assert (problem.incident_id, problem.event_id) == (incident.pk, entry(incident, problem.seq).pk)
    assert problem.problem == (
        "previous-hash link does not match the entry before it (deleted or reordered)"
    )


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


def test_the_canonical_form_is_the_documented_one():
    """The hash recipe is a contract with whoever verifies an exported timeline later (README:
    "Tamper-evident timeline"): SHA-256 of the entry's fields as compact JSON with sorted keys,
    UTF-8 (not \\u escapes), the time in UTC with microseconds. Pinned as bytes, so a change of
    a key, an option or the time format is a visible decision, not a silent one."""
    from datetime import UTC, datetime
    from hashlib import sha256
    from zoneinfo import ZoneInfo

    event = IncidentEvent(
        incident_id=42,
        seq=3,
        kind="transition",
        actor_id=7,
        actor_label="Jürgen Müller",
        from_state="escalated",
        to_state="resolved",
        data={"resolution": "Straße frei", "n": 2},
        created_at=datetime(2026, 3, 11, 12, 0, 0, 1, tzinfo=ZoneInfo("Europe/Berlin")),
        prev_hash="ab" * 32,
    )
    expected = (
        '{"actor":7,"actor_label":"Jürgen Müller","created_at":"2026-03-11T11:00:00.000001+00:00",'
        '"data":{"n":2,"resolution":"Straße frei"},"from_state":"escalated","incident":42,'
        '"kind":"transition","prev_hash":"' + "ab" * 32 + '","seq":3,"to_state":"resolved"}'
    ).encode()
    assert event.canonical_content() == expected
    assert event.compute_hash() == sha256(expected).hexdigest()
    # Data as services hand it over, before the database turns it into JSON (the entry's hash
    # is computed then): amounts and times in Django's JSON form.
    from decimal import Decimal

    event.data = {"penalty": Decimal("12.50"), "due": datetime(2026, 3, 11, 11, 0, tzinfo=UTC)}
    assert b'"data":{"due":"2026-03-11T11:00:00Z","penalty":"12.50"}' in event.canonical_content()


def test_each_break_says_what_happened(incident):
    """verify_timeline prints these sentences; each kind of break has its own."""
    n = incident.timeline_length
    newest, middle = entry(incident, n), entry(incident, n // 2)
    raw_sql(f"UPDATE {TABLE} SET actor_label = 'x' WHERE id = %s", [middle.pk])  # noqa: S608
    edited = verify_incident(incident)
    assert edited.problem == "content does not match its hash (edited)"
    assert str(edited) == (
        f"incident {incident.pk}: entry #{middle.seq} (id {middle.pk}): "
        "content does not match its hash (edited)"
    )
    raw_sql(f"UPDATE {TABLE} SET actor_label = %s WHERE id = %s", [middle.actor_label, middle.pk])  # noqa: S608
    assert verify_incident(incident) is None

    raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [newest.pk])  # noqa: S608
    cut = verify_incident(incident)
    assert (cut.seq, cut.event_id) == (None, None)
    assert str(cut) == (
        f"incident {incident.pk}: end of chain: chain ends at entry #{n - 1} but the incident "
        f"records {n} entries (newest entries deleted)"
    )

    raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [middle.pk])  # noqa: S608
    gap = verify_incident(incident)
    assert (gap.incident_id, gap.seq) == (incident.pk, middle.seq + 1)
    assert gap.event_id == entry(incident, middle.seq + 1).pk
    assert gap.problem == (
        f"sequence number {middle.seq + 1} where {middle.seq} was expected "
        "(an entry was deleted or reordered)"
    )


def test_verify_all_reads_each_chain_with_one_query(incident, manager, django_assert_num_queries):
    """Verifying every incident (the nightly `verify_timeline`) costs one query for the
    incidents and one per chain: the columns the check needs come with the incidents."""
    from incidents.timeline import verify_all

    others = [drive(IncidentFactory(actor=manager), State.ESCALATED) for _ in range(2)]
    with django_assert_num_queries(1 + 3):
        assert list(verify_all()) == []
    raw_sql(f"UPDATE {TABLE} SET actor_label = 'x' WHERE incident_id = %s", [others[1].pk])  # noqa: S608
    assert [b.incident_id for b in verify_all()] == [others[1].pk]
    assert list(verify_all([incident.pk, others[0].pk])) == []


def test_an_entry_appended_while_verifying_is_no_break(
    incident, manager, django_assert_num_queries
):
    """The nightly check runs beside a working system: an incident read before an entry is
    appended (in one transaction with the new head) and its chain read after it is intact (the
    fault-injection run once reported such an incident as cut short)."""
    stale = type(incident).objects.get(pk=incident.pk)
    update_post(incident=incident, actor=manager, audience="internal", body="Noch dabei.")
    incident.refresh_from_db()
    assert stale.timeline_length == incident.timeline_length - 1
    with django_assert_num_queries(3):  # the entries, the fresh incident, the entries again
        assert verify_incident(stale) is None


def test_a_forged_tail_beyond_the_head_is_still_reported(incident):
    """Entries inserted after the recorded head, hashes and links correct, but the incident row
    left alone: the fresh read the check makes still records fewer entries."""
    newest = entry(incident, incident.timeline_length)
    forged = IncidentEvent(
        incident=incident, seq=newest.seq + 1, kind=newest.kind, actor_label="mallory",
        from_state="", to_state="", data={}, created_at=newest.created_at,
        prev_hash=newest.hash,
    )  # fmt: skip
    forged.hash = forged.compute_hash()
    IncidentEvent.objects.bulk_create([forged])
    problem = verify_incident(incident)
    assert problem is not None and problem.seq is None
    assert f"chain ends at entry #{newest.seq + 1} but the incident records" in problem.problem


def test_the_entries_handed_over_are_the_ones_verified(incident):
    """The dossier verifies exactly the entries it prints (read once): an entry edited in memory
    is reported, although the database holds the intact chain."""
    entries = list(IncidentEvent.objects.filter(incident=incident).order_by("seq"))
    entries[1].actor_label = "mallory"
    problem = verify_incident(incident, iter(entries))
    assert (problem.seq, problem.problem) == (2, "content does not match its hash (edited)")
    assert verify_incident(incident) is None
