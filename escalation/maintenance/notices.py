"""Advance notices of maintenance windows to subscribers: 72 hours and 1 hour before, at the
start and at the end (NOTICE_OFFSETS). Planned as MaintenanceNotice rows when a window is saved
(re-planned when it moves); the tick (tasks.maintenance_notices_tick, every minute from beat)
claims due rows and queues one outbox message per subscriber of a covered service or of a
customer using one, in the subscriber's language."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from escalation import hooks
from escalation.services import incident_escalate
from escalation.services.workflow import EV_SILENCED
from incidents.exceptions import ApplicationError
from incidents.models import Incident, State
from notifications.services import notification_enqueue, subscribers_for, subscription_links

from .models import Maintenance, MaintenanceNotice
from .selectors import covered_services

Kind = MaintenanceNotice.Kind
NOTICE_OFFSETS = {
    Kind.BEFORE_72H: ("starts_at", -timedelta(hours=72)),
    Kind.BEFORE_1H: ("starts_at", -timedelta(hours=1)),
    Kind.STARTED: ("starts_at", timedelta(0)),
    Kind.ENDED: ("ends_at", timedelta(0)),
}
# A notice found more than this late (e.g. the window was planned 30 minutes ahead, so the 72 h
# and 1 h notices are already past) is not sent: the next one says it all.
STALE_AFTER = timedelta(minutes=30)


def notices_plan(*, window: Maintenance, now: datetime) -> list[MaintenanceNotice]:
    """(Re)plan a window's notices not yet sent; caller holds the transaction."""
    window.notices.filter(status=MaintenanceNotice.Status.PENDING).delete()
    sent = set(window.notices.values_list("kind", flat=True))
    planned = []
    for kind, (field, offset) in NOTICE_OFFSETS.items():
        due = getattr(window, field) + offset
        if kind in sent or due < now - STALE_AFTER:
            continue
        planned.append(MaintenanceNotice(maintenance=window, kind=kind, due_at=due))
    return MaintenanceNotice.objects.bulk_create(planned)


def _scopes(window: Maintenance) -> list[str]:
    services = covered_services(window)
    scopes = {f"service:{s.slug}" for s in services}
    for service in services:
        scopes |= {f"customer:{c.slug}" for c in service.customers.all()}
    return sorted(scopes)


def notice_send(*, notice: MaintenanceNotice, now: datetime) -> int:
    """Queue the notice for every subscriber (in the caller's transaction); returns how many."""
    window = notice.maintenance
    names = [s.name for s in covered_services(window)]
    count = 0
    for subscription in subscribers_for(_scopes(window)):
        context = {
            "kind": notice.kind,
            "title": window.title,
            "body": window.body,
            "services": names,
            "starts_at": window.starts_at.isoformat(),
            "ends_at": window.ends_at.isoformat(),
            "unsubscribe_url": subscription_links(subscription)["unsubscribe_url"],
        }
        notification_enqueue(
            dedup_key=f"maint:{window.pk}:{notice.kind}:{int(notice.due_at.timestamp())}"
            f":sub{subscription.pk}",
            channel=subscription.channel,
            address=subscription.address,
            template="maintenance_notice",
            language=subscription.language,
            context=context,
            subject=f"maintenance:{window.pk}",
        )
        count += 1
    return count


def notices_fire(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send every due notice (claimed with skip_locked on PostgreSQL, so two ticks never send one
    twice; each in its own transaction); returns how many notices were sent."""
    now = now or timezone.now()
    fired = 0
    while fired < limit:
        with transaction.atomic():
            due = MaintenanceNotice.objects.filter(
                status=MaintenanceNotice.Status.PENDING, due_at__lte=now
            ).order_by("due_at", "pk")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            notice = due.select_related("maintenance").first()
            if notice is None:
                break
            late = now - notice.due_at > STALE_AFTER
            notice.recipients = 0 if late else notice_send(notice=notice, now=now)
            if notice.kind == Kind.ENDED:
                silenced_release(window=notice.maintenance, now=now)
            notice.status, notice.sent_at = MaintenanceNotice.Status.SENT, now
            notice.save(update_fields=["recipients", "status", "sent_at"])
            fired += 1
    return fired


def silenced_release(*, window: Maintenance, now: datetime) -> list[Incident]:
    """The window is over: escalate its services' incidents whose automatic escalation a window
    held back and that are still open and unescalated (the alert outlived the maintenance), unless
    another silencing window still covers them."""
    services = covered_services(window)
    held = (
        Incident.objects.filter(
            services__in=services,
            state=State.CLASSIFIED,
            escalation_required=True,
            events__kind=EV_SILENCED,
        )
        .distinct()
        .order_by("pk")
    )
    released = []
    for incident in held:
        if hooks.escalation_silenced_by(incident, now):
            continue
        try:
            released.append(
                incident_escalate(
                    incident=incident,
                    actor=None,
                    reason=f"Maintenance '{window.title}' ended and the incident is still open",
                )
            )
        except ApplicationError:  # changed meanwhile (e.g. resolved by hand): nothing to do
            continue
    return released
