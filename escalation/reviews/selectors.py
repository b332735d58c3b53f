"""Reads of reviews and actions: the figures of an incident for its review, the key moments, the
lists for the console, the API and the dashboard. Who may read at all is the caller's check
(`may_read`); incidents come through the core's scoped incident selectors."""

from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from escalation import selectors as core
from escalation.dashboard.selectors import viewer_role
from incidents.models import EventKind, Incident, IncidentEvent
from incidents.selectors import role_of
from notifications.models import Notification

from .models import Action, Review

# The timeline entries a fresh draft proposes as key moments.
KEY_KINDS = (
    EventKind.CREATED,
    EventKind.CLASSIFIED,
    EventKind.RECLASSIFIED,
    EventKind.ESCALATED,
    EventKind.ACKNOWLEDGED,
    EventKind.WORKAROUND,
    EventKind.SLA_BREACHED,
    EventKind.PUBLIC_PUBLISHED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
)

# Which audience a message template speaks to (messages sent per audience).
TEMPLATE_AUDIENCES = {
    "page": "pages",
    "incident_escalated": "team",
    "internal_update": "team",
    "digest_internal": "team",
    "update_due": "team",
    "executive_update": "executives",
    "digest_executive": "executives",
    "customer_update": "customers",
    "customer_all_clear": "customers",
    "digest_customer": "customers",
}
AUDIENCES = ("pages", "team", "executives", "customers")


def may_read(user) -> bool:
    """Escalation managers, responders (the team) and executives read reviews and actions;
    customers and everybody else never."""
    return role_of(user) == "staff" or viewer_role(user) == "executive"


def may_write(user) -> bool:
    return viewer_role(user) == "manager"


def review_of(incident: Incident) -> Review | None:
    return (
        Review.objects.filter(incident=incident)
        .select_related("author", "submitted_by", "approved_by")
        .first()
    )


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return int((end - start).total_seconds()) if start and end else None


def _messages(incident: Incident) -> dict:
    faces = list(incident.public_incidents.values_list("pk", flat=True))
    pattern = rf"^(page|comm|due):{incident.pk}:"
    if faces:
        pattern = rf"^((page|comm|due):{incident.pk}|pub:({'|'.join(map(str, faces))})):"
    counts = {audience: {"sent": 0, "queued": 0} for audience in AUDIENCES}
    rows = Notification.objects.filter(dedup_key__regex=pattern).values_list(
        "dedup_key", "template", "status"
    )
    for key, template, status in rows:
        audience = "customers" if key.startswith("pub:") else TEMPLATE_AUDIENCES.get(template)
        if audience is None or status == Notification.Status.CANCELLED:
            continue
        counts[audience]["queued"] += 1
        if status == Notification.Status.SENT:
            counts[audience]["sent"] += 1
    return counts


def review_figures(incident: Incident, *, at: datetime | None = None) -> dict:
    """The figures of an incident for its review, JSON-serialisable (they are kept on approval):
    times from detection to acknowledgement, workaround and restore (seconds); per contract the
    SLA targets met or missed and the penalty; the messages per audience."""
    at = at or incident.resolved_at or timezone.now()
    loaded = core.with_sla(Incident.objects.filter(pk=incident.pk)).get()
    sla = []
    for e in core.sla_exposure(loaded, at):
        sla.append(
            {
                "customer": e.customer_name,
                "contract": e.contract_name,
                "currency": e.currency,
                "targets": [
                    {
                        "target": t.target,
                        "target_minutes": t.target_minutes,
                        "used_minutes": round(t.elapsed_seconds / 60),
                        "missed": t.missed,
                    }
                    for t in e.targets
                ],
                "penalty": str(e.accrued.amount),
                "capped": e.accrued.capped,
            }
        )
    return {
        "at": at.isoformat(),
        "priority": incident.priority,
        "time_to_acknowledge": _seconds(incident.detected_at, incident.acknowledged_at),
        "time_to_workaround": _seconds(incident.detected_at, incident.workaround_at),
        "time_to_restore": _seconds(incident.detected_at, incident.resolved_at),
        "sla": sla,
        "messages": _messages(incident),
    }


def figures_of(review: Review) -> dict:
    """The figures kept at approval, else computed now from the record."""
    return review.figures or review_figures(review.incident)


def timeline_of(incident: Incident) -> list[IncidentEvent]:
    return list(incident.events.select_related("actor").order_by("seq"))


def key_moments_of(review: Review) -> list[IncidentEvent]:
    return list(review.incident.events.filter(seq__in=review.key_moments or []).order_by("seq"))


def proposed_moments(incident: Incident) -> list[int]:
    return list(
        incident.events.filter(kind__in=KEY_KINDS).order_by("seq").values_list("seq", flat=True)
    )


def actions_for_team(*, state: str = "", owner=None) -> QuerySet[Action]:
    """Every action, for the console's list and the API (the team and executives)."""
    actions = Action.objects.select_related("owner", "review__incident").order_by("due_on", "pk")
    if state == "overdue":
        actions = actions.filter(state=Action.State.OPEN, due_on__lt=timezone.localdate())
    elif state == "active":
        actions = actions.filter(state__in=[Action.State.OPEN, Action.State.DONE])
    elif state:
        actions = actions.filter(state=state)
    if owner is not None:
        actions = actions.filter(owner=owner)
    return actions


def actions_of(review: Review) -> list[Action]:
    return list(review.actions.select_related("owner").order_by("due_on", "pk"))


def overdue_actions(today: date) -> QuerySet[Action]:
    return actions_for_team().filter(state=Action.State.OPEN, due_on__lt=today)


def recurrences(action: Action, *, until: datetime) -> list[Incident]:
    """Incidents on the services of the action's incident detected after the action was done
    (up to `until`): what the "no recurrence" criterion looks for."""
    incident = action.review.incident if action.review_id else None
    if incident is None or action.done_at is None:
        return []
    return list(
        Incident.objects.filter(
            services__in=incident.services.all(),
            detected_at__gt=action.done_at,
            detected_at__lte=until,
        )
        .exclude(pk=incident.pk)
        .distinct()
        .order_by("detected_at")
    )


def recent_reviews(*, since: datetime, limit: int = 5) -> list[Review]:
    """Approved reviews since a moment, newest first (the dashboard's executive summary)."""
    return list(
        Review.objects.filter(state=Review.State.APPROVED, approved_at__gte=since)
        .select_related("incident")
        .order_by("-approved_at")[:limit]
    )


def reviews_pending() -> QuerySet[Review]:
    """Escalated incidents' reviews not yet approved (drafts and submitted)."""
    return Review.objects.filter(~Q(state=Review.State.APPROVED)).select_related("incident")
