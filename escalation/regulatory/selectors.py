"""Reads of regulatory reporting: which regimes cover an incident, the facts an assessment shows,
and the reports (clocks) per incident and across incidents. Console, API and dashboard are for
the team and executives only; customers never read any of it (checked by the callers)."""

from datetime import datetime, timedelta

from django.db.models import Q

from incidents.models import Incident

from .models import Assessment, Awareness, Regime, Report


def regimes_for(incident: Incident):
    """Regimes in force that cover the incident: every incident, or one of its customers or
    services is named in the regime."""
    return (
        Regime.objects.filter(is_active=True)
        .filter(
            Q(applies_to_all=True)
            | Q(customers__in=incident.customers.all())
            | Q(services__in=incident.services.all())
        )
        .distinct()
        .prefetch_related("report_types")
        .order_by("position", "name")
    )


def aware_at(incident: Incident) -> datetime:
    """When we became aware: as recorded, else when the incident was detected."""
    row = Awareness.objects.filter(incident=incident).only("aware_at").first()
    return row.aware_at if row else incident.detected_at


def awareness_recorded(incident: Incident) -> bool:
    return Awareness.objects.filter(incident=incident).exists()


def facts_for(incident: Incident, *, now: datetime) -> dict:
    """What the product knows for the checklist: customers, services, duration so far."""
    since = aware_at(incident)
    until = incident.resolved_at or now
    return {
        "customers": [c.name for c in incident.customers.all()],
        "services": [s.name for s in incident.services.all()],
        "duration": max(until - min(since, incident.detected_at), timedelta(0)),
        "resolved": incident.resolved_at is not None,
    }


def assessments_for(incident: Incident):
    return Assessment.objects.filter(incident=incident).select_related("regime", "decided_by")


def reports_for(incident: Incident):
    return (
        Report.objects.filter(assessment__incident=incident)
        .exclude(state=Report.State.CANCELLED)
        .select_related("assessment__regime", "report_type", "submitted_by")
        .order_by("assessment__regime__position", "assessment__regime__name", "position")
    )


def reports_due(*, incidents=None, limit: int = 20):
    """Reports still to submit (running), soonest deadline first, across all incidents (or the
    given queryset of incidents)."""
    reports = Report.objects.filter(state=Report.State.RUNNING)
    if incidents is not None:
        reports = reports.filter(assessment__incident__in=incidents)
    return reports.select_related(
        "assessment__regime", "assessment__incident", "report_type"
    ).order_by("due_at")[:limit]


def report_for_console(pk: int) -> Report:
    return Report.objects.select_related(
        "assessment__regime", "assessment__incident", "report_type", "submitted_by"
    ).get(pk=pk)
