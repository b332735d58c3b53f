"""Alert ingestion: Events API v2 (PagerDuty-compatible) and Alertmanager webhooks become incidents.

A trigger with the dedup key of an open incident adds to it (a counter, one statement: see
count_repeat); a new key opens an incident, stored first and classified right after by a worker
(a clock due at once, its tick queued at commit) with the integration's severity rules, so
escalation starts on arrival. Acknowledge and resolve act on the incident of that key.

Dedup keys belong to the integration that sent them (Incident.dedup_scope, as PagerDuty scopes
keys per service): integration B can neither count onto, acknowledge nor resolve integration A's
incident, whatever key it sends. An integration opens incidents on its own service, or on one of
the services an administrator lets it route to (Integration.routable_services) when an
Alertmanager label names one; a label naming any other service opens the incident on the
integration's own service, with a note in its description (an alert is never dropped).
"""

import hashlib
import json
import time
from dataclasses import dataclass

from django.db import IntegrityError, connection
from django.utils import timezone

from incidents.exceptions import TransitionNotAllowed
from incidents.models import OPEN_STATES, Incident, Service, Source

from ..models import IncidentAlert, Integration
from .workflow import incident_acknowledge, incident_open, incident_resolve

SOURCES = {
    Integration.Kind.EVENTS_V2: Source.EVENTS_V2,
    Integration.Kind.ALERTMANAGER: Source.ALERTMANAGER,
}


def integration_create(*, kind: str, service: Service, name: str) -> Integration:
    return Integration.objects.create(kind=kind, service=service, name=name or service.name)


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
    and for a repeated trigger, which is only counted: the hot path stays one UPDATE).
    `known_new`: the caller's count_repeat has just found no open incident with this key."""
    now = timezone.now()
    _touch(integration.key, now)
    if event.action == "trigger":
        incident = _trigger(integration, event, now, known_new=known_new)
        if event.fingerprint:
            _alert_fires(incident or _open_incident(integration, event.dedup_key), event, now)
        return incident
    incident = _open_incident(integration, event.dedup_key)
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


def _trigger(integration: Integration, event: Event, now, *, known_new: bool) -> Incident:
    repeat = {"key": integration.key, "kind": integration.kind, "dedup_key": event.dedup_key}
    if not known_new and count_repeat(**repeat, now=now):
        return None  # a repeat: counted on the open incident, nothing new
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
            values = json.dumps([labels.get(k, "") for k in integration.group_labels])
            key = "am:" + hashlib.sha256(values.encode()).hexdigest()[:32]
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
