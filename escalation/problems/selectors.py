"""Reads of problems, per audience: the team and executives read problems (customers none of
them); the known errors matching an incident; recurring disruptions without a problem."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from escalation.models import IncidentAlert
from escalation.selectors import incidents_readable_by
from incidents.models import Incident, User
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
    PROBLEMS_RECURRENCE_DAYS that are linked to no problem: each with those incidents' ids,
    newest first. One query over the window's incident-service pairs (indexed on detected_at;
    the dashboard's query budget has room for two)."""
    since = now - timedelta(days=settings.PROBLEMS_RECURRENCE_DAYS)
    pairs = (
        Incident.services.through.objects.filter(
            incident__detected_at__gte=since, incident__problem_link__isnull=True
        )
        .order_by("-incident__detected_at", "-incident_id")
        .values_list("service_id", "service__name", "service__slug", "incident_id")
    )
    found: dict[int, dict] = {}
    for service_id, name, slug, incident_id in pairs:
        row = found.setdefault(
            service_id, {"service": {"name": name, "slug": slug}, "incidents": []}
        )
        row["incidents"].append(incident_id)
    rows = [
        {**row, "count": len(row["incidents"])}
        for row in found.values()
        if len(row["incidents"]) >= settings.PROBLEMS_RECURRENCE_COUNT
    ]
    return sorted(rows, key=lambda r: (-r["count"], r["service"]["name"]))


def problem_summary() -> dict:
    """Counts for the dashboard, in one query: open problems per state, and flagged ones."""
    counts = Problem.objects.aggregate(
        flagged=Count("pk", filter=Q(flagged_at__isnull=False)),
        **{s.value: Count("pk", filter=Q(state=s)) for s in OPEN_PROBLEM_STATES},
    )
    return {
        "by_state": [(s.label, counts[s.value]) for s in OPEN_PROBLEM_STATES],
        "open": sum(counts[s.value] for s in OPEN_PROBLEM_STATES),
        "flagged": counts["flagged"],
    }
