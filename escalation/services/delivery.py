"""What the escalation process does when a message cannot be delivered: the incident's timeline
shows it (with the reason), and a dead message alerts the escalation manager on duty."""

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident
from incidents.services import incident_lock, timeline_record
from notifications.models import Notification
from notifications.services import notification_enqueue

from .. import selectors

EV_DELIVERY_FAILED = "delivery_failed"
EV_DELIVERY_DEAD = "delivery_dead"


def _incident_id(notification: Notification) -> int | None:
    kind, _, ident = notification.subject.partition(":")
    return int(ident) if kind == "incident" and ident.isascii() and ident.isdigit() else None


@transaction.atomic
def delivery_problem(*, notification: Notification) -> None:
    """Record a failed (first time) or dead message; alert the managers about a dead one."""
    dead = notification.status == Notification.Status.DEAD
    if not dead and notification.attempts > 1:
        return  # retries of an already recorded failure stay in the admin, not the timeline
    incident_id = _incident_id(notification)
    incident = incident_lock(incident_id) if incident_id else None
    if incident is not None:
        timeline_record(
            incident=incident,
            kind=EV_DELIVERY_DEAD if dead else EV_DELIVERY_FAILED,
            actor=None,
            label="system (delivery)",
            data={
                "to": notification.address,
                "channel": notification.channel,
                "message": notification.template,
                "attempts": notification.attempts,
                "error": notification.last_error[:500],
            },
        )
    if dead and notification.template != "notification_dead":
        _alert_managers(notification, incident)


def _alert_managers(notification: Notification, incident: Incident | None) -> None:
    for manager in selectors.managers_on_duty(timezone.now()):
        address = selectors.address_for(manager, "email")
        if not address or address == notification.address:
            continue
        base = selectors.message_context(incident, manager, audience="internal") if incident else {}
        notification_enqueue(
            dedup_key=f"dead:{notification.pk}:{manager.pk}",
            channel="email",
            address=address,
            template="notification_dead",
            recipient=manager,
            language=manager.language,
            subject=notification.subject,
            context={
                **base,
                "recipient_name": manager.display_name,
                "failed_channel": notification.channel,
                "failed_address": notification.address,
                "failed_template": notification.template,
                "last_error": notification.last_error[:500],
                "attempts": notification.attempts,
            },
        )
