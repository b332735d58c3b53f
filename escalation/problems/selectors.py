"""Reads of problems, per audience: the team and executives read problems (customers none of
them); the known errors matching an incident; recurring disruptions without a problem."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from escalation.models import IncidentAlert
from escalation.selectors import incidents_readable_by
from incidents.models import Incident, Service, User
from incidents.selectors import role_of

from .models import OPEN_PROBLEM_STATES, Problem, ProblemState


def problems_for(user: User) -> QuerySet[Problem]:
    """Staff and executives read every problem; customer contacts and anybody else none."""
    problems = Problem.objects.select_related("owner").prefetch_related("services")
    if role_of(user) in ("staff", "executive"):
        return problems.annotate(incident_count=Count("links", distinct=True))
    return problems.none()


def problem_incidents_for(user: User, problem: Problem) -> QuerySet[Incident]:
    """The problem's incidents the user may read (responders: those they are pulled into)."""
    return (
        incidents_readable_by(user, prefetch=False)
        .filter(problem_link__problem=problem)
        .prefetch_related("services")
        .order_by("-detected_at")
    )


def problem_linked_to(incident: Incident) -> Problem | None:
    problems = Problem.objects.select_related("owner").prefetch_related("services", "links")
    return problems.filter(links__incident=incident).first()


def _labels_match(wanted: dict, labels: dict) -> bool:
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def known_errors_for_incident(incident: Incident) -> list[dict]:
    """The known errors matching an incident, each with why: its services overlap the incident's,
    the incident's dedup key is one of its keys, or one of the incident's alerts carries all of
    its alert labels. A handful of queries whatever the number of known errors (the known-error
    database is small: matching runs in Python, portable to SQLite)."""
    services = {s.pk: s for s in incident.services.all()}
    alerts = [
        a.labels or {} for a in IncidentAlert.objects.filter(incident=incident).only("labels")
    ]
    found = []
    known = (
        Problem.objects.filter(state=ProblemState.KNOWN_ERROR)
        .select_related("owner")
        .prefetch_related("services", "links")
    )
    for problem in known.order_by("-known_error_at", "-pk"):
        reasons = []
        shared = [s.name for s in problem.services.all() if s.pk in services]
        if shared:
            reasons.append({"kind": "service", "services": shared})
        if incident.dedup_key and incident.dedup_key in (problem.dedup_keys or []):
            reasons.append({"kind": "dedup_key", "dedup_key": incident.dedup_key})
        if any(_labels_match(problem.alert_labels or {}, labels) for labels in alerts):
            reasons.append({"kind": "alert_labels", "labels": problem.alert_labels})
        if reasons:
            found.append({"problem": problem, "reasons": reasons})
    return found


def recurring_disruptions(now: datetime) -> list[dict]:
    """Services with at least PROBLEMS_RECURRENCE_COUNT incidents detected within the last
    PROBLEMS_RECURRENCE_DAYS that are linked to no problem: each with those incidents, newest
    first. Two queries."""
    since = now - timedelta(days=settings.PROBLEMS_RECURRENCE_DAYS)
    unlinked = Q(incidents__detected_at__gte=since, incidents__problem_link__isnull=True)
    recent = Incident.objects.filter(detected_at__gte=since, problem_link__isnull=True).order_by(
        "-detected_at"
    )
    services = (
        Service.objects.annotate(recurring=Count("incidents", filter=unlinked, distinct=True))
        .filter(recurring__gte=settings.PROBLEMS_RECURRENCE_COUNT)
        .prefetch_related(Prefetch("incidents", queryset=recent, to_attr="recurring_incidents"))
        .order_by("-recurring", "position", "name")
    )
    return [
        {"service": s, "count": s.recurring, "incidents": s.recurring_incidents} for s in services
    ]


def problem_summary() -> dict:
    """Counts for the dashboard: open problems per state, and flagged ones."""
    rows = Problem.objects.filter(state__in=OPEN_PROBLEM_STATES).values("state")
    counts = {row["state"]: row["n"] for row in rows.annotate(n=Count("pk"))}
    return {
        "by_state": [
            (s.label, counts.get(s.value, 0)) for s in ProblemState if s in OPEN_PROBLEM_STATES
        ],
        "open": sum(counts.values()),
        "flagged": Problem.objects.filter(flagged_at__isnull=False).count(),
    }
