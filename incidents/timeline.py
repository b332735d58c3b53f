"""Verification of the tamper-evident timeline (per incident SHA-256 hash chain)."""

from collections.abc import Iterator
from dataclasses import dataclass

from .models import GENESIS_HASH, Incident, IncidentEvent


@dataclass(frozen=True)
class Break:
    """The first place where an incident's chain does not hold."""

    incident_id: int
    seq: int | None
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry #{self.seq} (id {self.event_id})" if self.seq else "end of chain"
        return f"incident {self.incident_id}: {where}: {self.problem}"


def verify_incident(
    incident: Incident, events: Iterator[IncidentEvent] | None = None
) -> Break | None:
    """Recompute the chain of one incident; return the first break, or None when it is intact.

    On a running system entries may be appended between reading the incident's recorded length
    and reading its entries (an append stores its entries and the new head in one transaction).
    A chain longer than the recorded length is therefore checked once more against a fresh read
    of the incident, taken before its entries are read again: only a chain that still does not
    end where the incident says is reported."""
    problem = _verify_chain(incident, events)
    if events is None and problem is not None and problem.seq is None:
        # `state` too: the FSM mixin reads it on load (left out, it costs a query).
        fresh = Incident.objects.only("state", "timeline_length", "timeline_head").get(
            pk=incident.pk
        )
        if fresh.timeline_length != incident.timeline_length:
            return _verify_chain(fresh)
    return problem


def _verify_chain(
    incident: Incident, events: Iterator[IncidentEvent] | None = None
) -> Break | None:
    if events is None:
        events = (
            IncidentEvent.objects.filter(incident_id=incident.pk).order_by("seq", "id").iterator()
        )
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            problem = (
                f"sequence number {event.seq} where {expected_seq} was expected "
                "(an entry was deleted or reordered)"
            )
            return Break(incident.pk, event.seq, event.pk, problem)
        if event.prev_hash != expected_prev:
            return Break(
                incident.pk,
                event.seq,
                event.pk,
                "previous-hash link does not match the entry before it (deleted or reordered)",
            )
        if event.compute_hash() != event.hash:
            return Break(
                incident.pk, event.seq, event.pk, "content does not match its hash (edited)"
            )
        expected_prev = event.hash
        expected_seq += 1
    if expected_seq - 1 != incident.timeline_length or (
        incident.timeline_length and expected_prev != incident.timeline_head
    ):
        return Break(
            incident.pk,
            None,
            None,
            f"chain ends at entry #{expected_seq - 1} but the incident records "
            f"{incident.timeline_length} entries (newest entries deleted)",
        )
    return None


def verify_all(incident_ids: list[int] | None = None) -> Iterator[Break]:
    """Verify every incident (or the given ones), yielding each broken chain's first break."""
    # `state` too: the FSM mixin reads it on load (left out, it costs one query per incident).
    fields = ("pk", "state", "timeline_length", "timeline_head")
    incidents = Incident.objects.order_by("pk").only(*fields)
    if incident_ids is not None:
        incidents = incidents.filter(pk__in=incident_ids)
    for incident in incidents.iterator(chunk_size=500):
        problem = verify_incident(incident)
        if problem:
            yield problem
