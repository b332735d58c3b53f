"""Incident events to outbound webhooks, through the outbox (signed, retried, never lost)."""

from django.utils import timezone

from incidents.models import Incident
from notifications.services import notification_enqueue

from .. import selectors


def incident_event_emit(*, incident: Incident, event: str, data: dict | None = None) -> int:
    """Queue `incident.<event>` for every active webhook that wants it; in the caller's
    transaction, so the event goes out exactly when the change commits."""
    hooks = [hook for hook in selectors.active_webhooks() if event in hook.events]
    if not hooks:
        return 0
    service_ids = set(incident.services.values_list("pk", flat=True))
    occurred = timezone.now()
    body = {
        "event": f"incident.{event}",
        "occurred_at": occurred.isoformat(),
        "incident": {
            "id": incident.pk,
            "title": incident.title,
            "state": incident.state,
            "priority": incident.priority,
            "services": sorted(incident.services.values_list("slug", flat=True)),
            "acknowledged_at": incident.acknowledged_at.isoformat()
            if incident.acknowledged_at
            else None,
        },
        **(data or {}),
    }
    sent = 0
    for hook in hooks:
        wanted = {s.pk for s in hook.services.all()}
        if wanted and not wanted & service_ids:
            continue
        secret, previous = hook.secrets_to_sign()
        notification_enqueue(
            dedup_key=f"hook:{hook.pk}:{incident.pk}:{event}:{incident.timeline_length}",
            channel="webhook",
            address=hook.url,
            template=f"incident.{event}",
            context=body,
            subject=f"incident:{incident.pk}",
            signing_secret=secret,
            previous_signing_secret=previous,
        )
        sent += 1
    return sent
