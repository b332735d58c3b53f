"""Writes on the incident record: creating incidents, posting updates, appending to the timeline.

The lifecycle transitions (classify, escalate, ...) are workflow services in escalation/services.py;
they use `incident_lock` and `timeline_record` from here.
"""

import json
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import InvalidInput
from .models import (
    GENESIS_HASH,
    ApiToken,
    Audience,
    Customer,
    EventKind,
    Incident,
    IncidentEvent,
    Service,
    Source,
    Update,
    User,
)
from .statuspage.render import render_after_commit

# Timeline kinds that change nothing the public status page shows (everything else re-renders it
# after commit: transitions, details changed, customer updates, matrix deadlines). The escalation
# app's kinds are named here as plain strings because this app imports nothing from it.
NOT_ON_STATUS_PAGE = frozenset(
    {
        EventKind.ACKNOWLEDGED,
        EventKind.ESCALATION_DECIDED,
        EventKind.SLA_WARNING,
        EventKind.SLA_BREACHED,
        EventKind.SLA_PAUSED,
        EventKind.SLA_RESUMED,
        "escalation_started",
        "level_paged",
        "level_skipped",
        "waiting_for_service_hours",
        "escalation_exhausted",
        "escalation_stopped",
        "page_sent",
        "delivery_failed",
        "delivery_dead",
        "update_reminder",
        "escalation_silenced",
        "problem_linked",  # escalation/problems/: the internal problem record only
        "problem_unlinked",
        "role_assigned",  # escalation/services/people.py: who works on it
        "role_ended",
        "responder_pulled_in",
        "review_drafted",  # escalation/reviews/: the review and its actions are internal
        "review_submitted",
        "review_sent_back",
        "review_approved",
        "action_added",
        "action_done",
        "action_checked",
        "action_cancelled",
        "regulatory_aware_set",  # escalation/regulatory/: reports to authorities
        "regulatory_assessed",
        "regulatory_report_submitted",
        "regulatory_reference_added",
        "regulatory_deadline_missed",
        "continuity_workaround",  # escalation/continuity/: its own steps (the workaround itself
        "continuity_concession",  # is the core's workaround_provided, which does re-render)
        "continuity_level",
        "continuity_warning",
    }
)


def actor_label(actor: User | None, *, system: str = "system") -> str:
    """A snapshot of who acted, kept in the timeline even if the user is renamed later."""
    if actor is None:
        return system
    return f"{actor.display_name} ({actor.username})"


def incident_lock(incident: Incident | int) -> Incident:
    """Reload the incident with a row lock (PostgreSQL); on SQLite the IMMEDIATE transaction locks.

    Must run inside transaction.atomic(). All timeline appends and transitions of one incident are
    serialised by this lock, which keeps the hash chain linear.
    """
    pk = incident.pk if isinstance(incident, Incident) else incident
    return Incident.objects.select_for_update().get(pk=pk)


def _json_native(data: dict) -> dict:
    """Normalise to what the JSON column stores and returns, so the hash survives a reload."""
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, sort_keys=True))


def timeline_record(
    *,
    incident: Incident,
    kind: str,
    actor: User | None,
    from_state: str = "",
    to_state: str = "",
    data: dict | None = None,
    label: str | None = None,
    at: datetime | None = None,
) -> IncidentEvent:
    """Append one entry to the incident's hash chain. Caller holds incident_lock."""
    entry = {"kind": kind, "actor": actor, "from_state": from_state, "to_state": to_state}
    return timeline_record_many(
        incident=incident, entries=[{**entry, "data": data, "label": label, "at": at}]
    )[0]


# timeline_deferred's block: the incident whose entries wait, its chain's head as it will be, the
# entries to store at the block's end.
_deferred: ContextVar[dict | None] = ContextVar("timeline_deferred", default=None)


@contextmanager
def timeline_deferred(incident: Incident) -> Iterator[None]:
    """Within the block, the incident's entries join its hash chain as they are recorded (its
    timeline_length and timeline_head move on at once, as without the block) but are stored at
    the block's end, in one INSERT and one update of the chain's head, not two statements each:
    for a run of steps in one transaction (escalating records four or more). Nothing inside may
    read the incident's entries or its head back from the database. An exception out of the
    block stores nothing: the caller's transaction (or savepoint) must roll back. Caller holds
    incident_lock; a block inside another one leaves the storing to the outer one."""
    if _deferred.get() is not None:
        yield
        return
    waiting = {"pk": incident.pk, "chain": (incident.timeline_length, incident.timeline_head)}
    waiting["events"] = []
    token = _deferred.set(waiting)
    try:
        yield
    finally:
        _deferred.reset(token)
    if waiting["events"]:
        length, head = waiting["chain"]
        IncidentEvent.objects.bulk_create(waiting["events"])
        Incident.objects.filter(pk=incident.pk).update(timeline_length=length, timeline_head=head)
        incident.timeline_length, incident.timeline_head = length, head


def timeline_record_many(*, incident: Incident, entries: list[dict]) -> list[IncidentEvent]:
    """Append several entries (each with timeline_record's arguments) to the hash chain in one
    INSERT and one update of the chain's head (inside timeline_deferred: at its end). Caller
    holds incident_lock."""
    assert transaction.get_connection().in_atomic_block, "timeline_record needs a transaction"
    events = []
    waiting = _deferred.get()
    if waiting is not None and waiting["pk"] != incident.pk:
        waiting = None  # another incident's block: this one's entries are stored now
    length, head = incident.timeline_length, incident.timeline_head
    if waiting:
        length, head = waiting["chain"]
    for entry in entries:
        actor, label = entry.get("actor"), entry.get("label")
        event = IncidentEvent(
            incident=incident,
            seq=length + 1,
            kind=entry["kind"],
            actor=actor,
            actor_label=label if label is not None else actor_label(actor),
            from_state=entry.get("from_state", ""),
            to_state=entry.get("to_state", ""),
            data=_json_native(entry.get("data") or {}),
            created_at=entry.get("at") or timezone.now(),
            prev_hash=head or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        length, head = event.seq, event.hash
        events.append(event)
    if waiting:
        waiting["events"].extend(events)
        waiting["chain"] = (length, head)
    else:
        IncidentEvent.objects.bulk_create(events)
        Incident.objects.filter(pk=incident.pk).update(timeline_length=length, timeline_head=head)
    incident.timeline_length, incident.timeline_head = length, head  # once it is stored
    if any(
        event.kind not in NOT_ON_STATUS_PAGE
        and (
            event.kind != EventKind.UPDATE_POSTED or event.data.get("audience") == Audience.CUSTOMER
        )
        for event in events
    ):
        render_after_commit()  # once per transaction, after commit
    return events


@transaction.atomic
def service_save(*, service: Service, actor: User | None) -> Service:
    """Save a service as edited in the admin (name, group, privacy, status override, ...); the
    public status page follows after commit."""
    service.save()
    render_after_commit()
    return service


# No savepoint when called inside a transaction (incident_open's, for every new alert): it
# would cost two round trips, and no caller goes on in its transaction after a failure here.
@transaction.atomic(savepoint=False)
def incident_create(
    *,
    actor: User | None,
    title: str,
    description: str = "",
    services: Iterable[Service] = (),
    customers: Iterable[Customer] = (),
    source: str = Source.MANUAL,
    dedup_key: str = "",
    dedup_scope: int = 0,
    commander: User | None = None,
    detected_at: datetime | None = None,
    alert_count: int = 0,
    last_alert_at: datetime | None = None,
) -> Incident:
    """Record a newly detected incident (`alert_count`/`last_alert_at`: opened by an alert).
    Classification is a separate step (incident_classify)."""
    title = (title or "").strip()
    if not title:
        raise InvalidInput(_("A title is required."), field="title")
    services = list(services)
    customers = set(customers)
    # Customers of the affected services are affected too, unless named otherwise.
    for service in services:
        customers.update(service.customers.all())
    incident = Incident.objects.create(
        title=title,
        description=description,
        source=source,
        dedup_key=dedup_key,
        dedup_scope=dedup_scope,
        commander=commander,
        created_by=actor,
        detected_at=detected_at or timezone.now(),
        alert_count=alert_count,
        last_alert_at=last_alert_at,
    )
    if services:  # a new incident has none yet: add, not set (which reads the current ones)
        incident.services.add(*services)
    if customers:
        incident.customers.add(*customers)
    timeline_record(
        incident=incident,
        kind=EventKind.CREATED,
        actor=actor,
        to_state=incident.state,
        data={
            "title": title,
            "source": source,
            "dedup_key": dedup_key,
            "services": sorted(s.slug for s in services),
            "customers": sorted(c.slug for c in customers),
        },
        at=incident.detected_at if detected_at else None,
    )
    return incident


DESCRIPTIVE_FIELDS = ("title", "description", "commander")
RELATION_FIELDS = ("services", "customers")


def _as_data(value):
    return value.username if isinstance(value, User) else value


@transaction.atomic
def incident_update_details(*, incident: Incident, actor: User | None, **changes) -> Incident:
    """Change descriptive fields and affected services/customers (never the state).

    The timeline records old and new values of whatever changed; nothing changed, nothing recorded.
    """
    unknown = set(changes) - set(DESCRIPTIVE_FIELDS) - set(RELATION_FIELDS)
    if unknown:
        raise InvalidInput(_("Cannot change: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if "title" in changes and not (changes["title"] or "").strip():
        raise InvalidInput(_("A title is required."), field="title")
    locked = incident_lock(incident)
    diff = {}
    for field in DESCRIPTIVE_FIELDS:
        if field in changes and getattr(locked, field) != changes[field]:
            diff[field] = {"old": _as_data(getattr(locked, field)), "new": _as_data(changes[field])}
            setattr(locked, field, changes[field])
    if diff:
        locked.save(update_fields=[*diff, "updated_at"])
    for field in RELATION_FIELDS:
        if field not in changes:
            continue
        old = sorted(obj.slug for obj in getattr(locked, field).all())
        new = sorted(obj.slug for obj in changes[field])
        if old != new:
            getattr(locked, field).set(changes[field])
            diff[field] = {"old": old, "new": new}
    if diff:
        Incident.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        timeline_record(
            incident=locked, kind=EventKind.CHANGED, actor=actor, data={"changes": diff}
        )
    return locked


@transaction.atomic
def update_post(*, incident: Incident, actor: User | None, audience: str, body: str) -> Update:
    """Write an update for one audience (internal, executive, customer) and record it."""
    if audience not in Audience.values:
        raise InvalidInput(
            _("Unknown audience: %(value)s.") % {"value": audience}, field="audience"
        )
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("The update needs a text."), field="body")
    locked = incident_lock(incident)
    update = Update.objects.create(incident=locked, audience=audience, body=body, author=actor)
    Incident.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
    timeline_record(
        incident=locked,
        kind=EventKind.UPDATE_POSTED,
        actor=actor,
        data={"update": update.pk, "audience": audience, "body": body},
    )
    return update


def api_token_create(*, user: User, scope: str = "read", name: str = "") -> tuple[ApiToken, str]:
    """Create a token; the clear key is returned once and never stored."""
    if scope not in ApiToken.Scope.values:
        raise InvalidInput(_("Unknown scope: %(value)s.") % {"value": scope}, field="scope")
    key = "em_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, scope=scope, name=name, prefix=key[:10], key_hash=ApiToken.hash(key)
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    from .auth import tokens_changed

    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    tokens_changed()  # a token kept in the shared cache stops at once


def user_preferences_set(*, user: User, language: str, time_zone: str) -> User:
    """A person's own settings: the language of their pages and messages, and the time zone every
    time is shown in (the middleware activates it per request)."""
    user.language, user.time_zone = language, time_zone
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["language", "time_zone"])
    return user
