"""Alert ingestion: Events API v2 (PagerDuty-compatible) and Alertmanager webhooks become incidents.

A trigger with the dedup key of an open incident adds to it (a counter, one statement: see
count_repeat); a new key opens an incident, classified with the integration's severity rules: in
the same transaction if that pages nobody, else right after by a worker (a clock due at once, its
tick queued at commit), so escalation starts on arrival. Acknowledge and resolve act on the
incident of that key.

Dedup keys belong to the integration that sent them (Incident.dedup_scope, as PagerDuty scopes
keys per service): integration B can neither count onto, acknowledge nor resolve integration A's
incident, whatever key it sends. An integration opens incidents on its own service, or on one of
the services an administrator lets it route to (Integration.routable_services) when an
Alertmanager label names one; a label naming any other service opens the incident on the
integration's own service, with a note in its description (an alert is never dropped).

Grouping rules (Integration.group_labels, group_window, flap_window): alerts with equal values
of the group's labels (Alertmanager) or payload fields (Events API v2) share one incident, whose
dedup key is the group's; each alert is an IncidentAlert row (its fingerprint or the sender's dedup
key), so a repeat, acknowledge or resolve finds its incident through the alert, and the incident
resolves with its last firing alert. A group's incident takes new alerts for `group_window`
minutes after it opened (0: while open); after that its key is retired (suffixed with its id) and
the next alert of the group opens a new incident. An alert firing again within `flap_window`
minutes after it resolved reopens its incident if that was escalated (reopening escalates: an
incident that never paged is not made to page by flapping; a new one opens instead).
"""

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from incidents.exceptions import TransitionNotAllowed
from incidents.models import OPEN_STATES, Incident, Service, Source, State
from incidents.services import incident_lock

from .. import selectors
from ..classification import UnknownCell, derive_priority
from ..models import IncidentAlert, Integration
from .workflow import (
    incident_acknowledge,
    incident_classify,
    incident_open,
    incident_reopen,
    incident_resolve,
)

SOURCES = {
    Integration.Kind.EVENTS_V2: Source.EVENTS_V2,
    Integration.Kind.ALERTMANAGER: Source.ALERTMANAGER,
}


def integration_create(*, kind: str, service: Service, name: str) -> Integration:
    return Integration.objects.create(kind=kind, service=service, name=name or service.name)


RULE_FIELDS = ("group_labels", "group_window", "flap_window", "resolve_on_resolved")


@transaction.atomic
def integration_rules_set(*, integration: Integration, actor, **rules) -> Integration:
    """Change an integration's grouping rules (any of RULE_FIELDS). Open incidents keep their
    alerts: a group's incident goes on counting them whatever the new rules say. The change is
    in the configuration history as `actor`'s (None: the system, e.g. the demo data)."""
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    locked._history_user = actor  # django-simple-history: who, also outside a request
    for name in RULE_FIELDS:
        if name in rules:
            setattr(locked, name, rules[name])
    locked.clean()
    changed = [name for name in RULE_FIELDS if name in rules]
    if changed:
        locked.save(update_fields=changed)
    return locked


@dataclass(frozen=True)
class Event:
    action: str  # trigger, acknowledge, resolve
    dedup_key: str
    summary: str = ""
    source: str = ""
    severity: str = ""
    details: dict | None = None
    service: Service | None = None
    note: str = ""
    fingerprint: str = ""  # Alertmanager: the alert, of possibly several sharing a dedup key


def _open_incident(integration: Integration, dedup_key: str) -> Incident | None:
    return Incident.objects.filter(
        dedup_scope=integration.pk, dedup_key=dedup_key, state__in=OPEN_STATES
    ).first()


_touched: dict[str, float] = {}  # integration key -> when this process last set last_event_at


def _touch(key: str, now) -> None:
    """Keep the integration's "last event" current, at most once a minute per process: every
    event updating one hot row would serialise all workers on its row lock."""
    if time.monotonic() - _touched.get(key, -120.0) > 60:
        _touched[key] = time.monotonic()
        Integration.objects.filter(key=key).update(last_event_at=now)


def count_repeat(*, key: str, kind: str, dedup_key: str, now=None) -> bool:
    """Count a repeated trigger on the open incident that this integration opened with the dedup
    key, if the integration key is an active integration of this kind: one statement, the hot
    path of an alert storm (nine of ten events repeat a key). False if it counted nothing (a new
    key, or no such integration): the caller takes the full path, which says which. Raw SQL
    because the ORM's compilation of this UPDATE costs more than the database's work."""
    if not dedup_key:  # incidents opened by hand have an empty key: never count onto those
        return False
    now = now or timezone.now()
    quote = connection.ops.quote_name
    states = [str(state) for state in OPEN_STATES]
    placeholders = ", ".join(["%s"] * len(states))
    # Only table and column names are formatted in (from the models); every value is a parameter.
    sql = (
        f"UPDATE {quote(Incident._meta.db_table)} SET alert_count = alert_count + 1, "  # noqa: S608 # nosec B608
        f"last_alert_at = %s WHERE dedup_key = %s AND state IN ({placeholders}) AND dedup_scope = "
        f"(SELECT id FROM {quote(Integration._meta.db_table)} WHERE {quote('key')} = %s "
        "AND kind = %s AND is_active)"
    )
    params = [connection.ops.adapt_datetimefield_value(now), dedup_key, *states, key, str(kind)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counted = cursor.rowcount > 0
    if counted:
        _touch(key, now)
    return counted


def event_ingest(
    *, integration: Integration, event: Event, known_new: bool = False
) -> Incident | None:
    """Apply one event; returns the incident it landed on (None for ack/resolve of no incident,
    and for a repeated trigger or an alert joining its group's incident, which are only counted:
    the hot path stays one UPDATE). `known_new`: the caller's count_repeat has just found no open
    incident with this key."""
    now = timezone.now()
    _touch(integration.key, now)
    if event.action == "trigger":
        if integration.group_labels and event.fingerprint:
            return _group_trigger(integration, event, now)
        held = _incident_holding(integration, event)
        if held is not None and held.dedup_key != event.dedup_key:
            # Its group's incident, opened under grouping rules since removed: the alert goes on
            # counting there until it resolves (not a second incident beside the open group's).
            _count(held, now)
            _alert_fires(held, event, now)
            return None
        incident = _trigger(integration, event, now, known_new=known_new)
        if event.fingerprint:
            _alert_fires(incident or _open_incident(integration, event.dedup_key), event, now)
        return incident
    incident = _incident_of_alert(integration, event)
    if incident is None:
        return None
    others_firing = event.action == "resolve" and _alert_resolves(incident, event, now)
    try:
        if event.action == "acknowledge":
            return incident_acknowledge(incident=incident, actor=None, via=integration.kind)
        if event.action == "resolve" and integration.resolve_on_resolved and not others_firing:
            return incident_resolve(
                incident=incident,
                actor=None,
                resolution=f"Resolved by {integration.name}: {event.summary or event.dedup_key}",
            )
    except TransitionNotAllowed:
        pass  # already acknowledged or resolved: nothing to do, and no error for the sender
    return incident


def _incident_of_alert(integration: Integration, event: Event) -> Incident | None:
    """The open incident an acknowledge or resolve is about: the one holding its alert (grouped
    alerts: the event's key is the alert's, not the incident's), else the one with its key."""
    return _incident_holding(integration, event) or _open_incident(integration, event.dedup_key)


def _incident_holding(integration: Integration, event: Event) -> Incident | None:
    """The open incident of this integration that holds the event's alert."""
    if not event.fingerprint:
        return None
    alert = (
        IncidentAlert.objects.filter(
            fingerprint=event.fingerprint,
            incident__dedup_scope=integration.pk,
            incident__state__in=OPEN_STATES,
        )
        .select_related("incident")
        .order_by("-pk")
        .first()
    )
    return alert.incident if alert is not None else None


def _group_trigger(integration: Integration, event: Event, now) -> Incident | None:
    """A firing alert of a grouping integration: counted on the open incident that holds it, or
    on its group's open incident (within the group window), or it reopens the incident it
    flapped out of, or it opens its group's incident. Returns the incident only if it opened or
    reopened one."""
    held = _incident_holding(integration, event)
    if held is None:
        held = _open_incident(integration, event.dedup_key)
        window = timedelta(minutes=integration.group_window)
        if held is not None and integration.group_window and now - held.detected_at > window:
            _retire_key(held)  # its window is over: the group's next incident takes the key
            held = None
    if held is not None:
        # The raise first: if it fails (the database away), nothing is counted yet, and the
        # sender's retry counts the alert once. (Usually it costs no statement at all.)
        _raise_if_more_severe(integration, held, event)
        _count(held, now)
        _alert_fires(held, event, now)
        return None
    incident = _flap_reopen(integration, event, now) or _trigger(
        integration, event, now, known_new=True
    )
    _alert_fires(incident or _open_incident(integration, event.dedup_key), event, now)
    return incident


def _raise_if_more_severe(integration: Integration, incident: Incident, event: Event) -> None:
    """An alert joining its group's incident with a severity that maps to a higher priority than
    the incident's raises it (reclassified, and escalated if a rule says so): a warning that
    opened the group must not swallow the critical alert that follows. Never lowers it. An
    incident whose first classification is still to come (its clock) is left to that one."""
    levels = integration.severity_map.get(event.severity) or ("", "")
    if incident.priority is None or [incident.impact, incident.urgency] == list(levels):
        return  # the usual case, and the storm's: no statement
    try:
        impact, urgency = levels
        priority = derive_priority(selectors.priority_matrix(), impact, urgency)
    except (UnknownCell, ValueError, TypeError):
        return  # no levels, or a severity map edited wrongly: the classification stands
    if priority >= incident.priority:
        return
    with transaction.atomic():
        locked = incident_lock(incident)
        if locked.state not in OPEN_STATES or priority >= (locked.priority or priority):
            return  # resolved, or raised by a concurrent alert meanwhile
        name = event.fingerprint or event.dedup_key
        incident_classify(
            incident=locked,
            actor=None,
            impact=impact,
            urgency=urgency,
            held=True,
            label=f"system (alert {name[:60]}: {event.severity})",
        )


def _count(incident: Incident, now) -> None:
    Incident.objects.filter(pk=incident.pk).update(
        alert_count=F("alert_count") + 1, last_alert_at=now
    )


def _retire_key(incident: Incident) -> None:
    """Give an open group incident whose window is over a key of its own (still unique: its id),
    so the group's next alert opens a new incident under the group key. Its alerts still find it
    through their IncidentAlert rows."""
    Incident.objects.filter(pk=incident.pk, dedup_key=incident.dedup_key).update(
        dedup_key=f"{incident.dedup_key[:230]}#{incident.pk}"
    )


def _flapped(integration: Integration, event: Event, now) -> Incident | None:
    """The escalated incident this alert resolved out of at most flap_window minutes ago."""
    if not integration.flap_window:
        return None
    since = now - timedelta(minutes=integration.flap_window)
    resolved = Incident.objects.filter(
        dedup_scope=integration.pk,
        state=State.RESOLVED,
        resolved_at__gte=since,
        escalated_at__isnull=False,
    )
    if integration.group_labels and event.fingerprint:
        resolved = resolved.filter(
            alerts__fingerprint=event.fingerprint, alerts__resolved_at__gte=since
        )
    else:
        resolved = resolved.filter(dedup_key=event.dedup_key)
    return resolved.order_by("-resolved_at").first()


def _flap_reopen(integration: Integration, event: Event, now) -> Incident | None:
    """Reopen the incident a flapping alert resolved out of (None: not flapping, or someone
    else reopened or closed it meanwhile: then a new incident opens)."""
    incident = _flapped(integration, event, now)
    if incident is None:
        return None
    minutes = max(1, round((now - incident.resolved_at).total_seconds() / 60))
    name = event.fingerprint or event.dedup_key
    try:
        incident = incident_reopen(
            incident=incident,
            actor=None,
            reason=(
                f"Flapping: alert {name} fired again {minutes} min after it resolved "
                f"({integration.name})."
            ),
        )
    except (TransitionNotAllowed, IntegrityError):
        return None
    _count(incident, now)
    return incident


def _trigger(integration: Integration, event: Event, now, *, known_new: bool) -> Incident:
    repeat = {"key": integration.key, "kind": integration.kind, "dedup_key": event.dedup_key}
    if not known_new and count_repeat(**repeat, now=now):
        return None  # a repeat: counted on the open incident, nothing new
    if not integration.group_labels and (reopened := _flap_reopen(integration, event, now)):
        return reopened
    levels = integration.severity_map.get(event.severity) or ("", "")
    try:
        # Stored in one short transaction (incident_open's): the incident with its alert. The
        # classification its severity maps to (and so escalation) follows at once in a worker:
        # in a storm every alert is stored and answered quickly, and none is turned away.
        return incident_open(
            actor=None,
            title=event.summary[:300] or event.dedup_key,
            description=_description(event),
            services=[event.service or integration.service],
            source=SOURCES[integration.kind],
            dedup_key=event.dedup_key,
            dedup_scope=integration.pk,
            detected_at=now,
            alert_count=1,
            last_alert_at=now,
            impact=levels[0],
            urgency=levels[1],
            classify_later=True,
        )
    except IntegrityError:
        # A concurrent trigger with the same key opened it first: count this one there.
        count_repeat(**repeat, now=now)
        return _open_incident(integration, event.dedup_key)


def _alert_fires(incident: Incident | None, event: Event, now) -> None:
    """Remember a firing alert of the incident (again firing, if it had resolved)."""
    if incident is None:
        return
    labels = (event.details or {}).get("labels") or {}
    IncidentAlert.objects.update_or_create(
        incident=incident,
        fingerprint=event.fingerprint,
        defaults={"labels": labels, "last_seen_at": now, "resolved_at": None},
        create_defaults={"labels": labels, "first_seen_at": now, "last_seen_at": now},
    )


def _alert_resolves(incident: Incident, event: Event, now) -> bool:
    """Mark the event's alert resolved; True while another alert of the incident still fires
    (a group of alerts resolves its incident only with its last alert)."""
    if not event.fingerprint:
        return False
    firing = IncidentAlert.objects.filter(incident=incident, resolved_at__isnull=True)
    firing.filter(fingerprint=event.fingerprint).update(resolved_at=now, last_seen_at=now)
    return firing.exists()


def _description(event: Event) -> str:
    parts = [f"Source: {event.source}" if event.source else "", f"Severity: {event.severity}"]
    if event.note:
        parts.append(event.note)
    if event.details:
        parts.append(json.dumps(event.details, indent=2, ensure_ascii=False, sort_keys=True)[:5000])
    return "\n".join(p for p in parts if p)


def group_key(integration: Integration, fields: dict, *, prefix: str) -> str:
    """The dedup key of the group an alert with these labels or payload fields belongs to."""
    values = [fields.get(name, "") for name in integration.group_labels]
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode())
    return prefix + digest.hexdigest()[:32]


def events_v2_event(integration: Integration, *, action: str, dedup_key: str, v: dict) -> Event:
    """One validated Events API v2 event. With grouping rules a trigger's key is its group's
    (from the payload's fields, or a key of its custom_details), and the sender's dedup key names
    the alert in the group (its fingerprint); acknowledge and resolve name only the alert."""
    payload = v.get("payload") or {}
    details = (
        {k: payload[k] for k in ("custom_details", "component", "group", "class") if k in payload}
        | ({"links": v["links"]} if v.get("links") else {})
        | ({"images": v["images"]} if v.get("images") else {})
    )
    if not integration.group_labels:
        fingerprint, key = "", dedup_key
    else:
        fingerprint, key = dedup_key, dedup_key
        fields = {k: payload[k] for k in EVENTS_V2_FIELDS if k in payload}
        details["labels"] = fields
        if action == "trigger":
            custom = payload.get("custom_details")
            key = group_key(
                integration, (custom if isinstance(custom, dict) else {}) | fields, prefix="grp:"
            )
    return Event(
        action=action,
        dedup_key=key,
        summary=payload.get("summary", ""),
        source=payload.get("source", ""),
        severity=payload.get("severity", ""),
        details=details,
        fingerprint=fingerprint,
    )


EVENTS_V2_FIELDS = ("summary", "source", "severity", "component", "group", "class")


def alertmanager_events(integration: Integration, payload: dict) -> list[Event]:
    """Alertmanager webhook (version 4) -> one event per alert, keyed by fingerprint (or by the
    integration's group labels), routed by the service label when it names a service this
    integration may route to (its own, or one of its routable services). Each event names its
    alert (fingerprint), and firing alerts come first: a group notification that resolves one
    alert while another fires keeps the incident open."""
    services = {integration.service.slug: integration.service}
    services.update((s.slug, s) for s in integration.routable_services.all())
    events = []
    for alert in payload.get("alerts", []):
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        labels_hash = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()
        fingerprint = alert.get("fingerprint") or labels_hash[:16]
        if integration.group_labels:
            key = group_key(integration, labels, prefix="am:")
        else:
            key = f"am:{fingerprint}"
        slug = labels.get(integration.service_label)
        note = ""
        if slug and slug not in services:
            note = (
                f"The {integration.service_label} label names {slug!r}, a service this "
                "integration may not route to: opened on its own service."
            )
        summary = annotations.get("summary") or labels.get("alertname") or key
        events.append(
            Event(
                action="resolve" if alert.get("status") == "resolved" else "trigger",
                dedup_key=key,
                summary=summary,
                source=alert.get("generatorURL", "") or "alertmanager",
                severity=labels.get("severity", ""),
                details={"labels": labels, "annotations": annotations},
                service=services.get(slug) if slug else None,
                note=note,
                fingerprint=fingerprint[:64],
            )
        )
    return sorted(events, key=lambda event: event.action == "resolve")
