"""Reads of change events, for the team (console and API)."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from incidents.models import Incident

from .models import ChangeEvent

# "What changed?": changes on the incident's services from this long before it was detected
# until it was resolved (or now).
LOOKBACK = timedelta(hours=24)
LIMIT = 50


def changes_for_incident(incident: Incident) -> QuerySet[ChangeEvent]:
    """The recent changes of an incident the caller may already read (scoping is the caller's
    incident selector's job), newest first, at most LIMIT."""
    until = incident.resolved_at or timezone.now()
    return (
        ChangeEvent.objects.filter(
            service__in=incident.services.all(),
            occurred_at__gte=incident.detected_at - LOOKBACK,
            occurred_at__lte=until,
        )
        .select_related("service")
        .order_by("-occurred_at", "-pk")[:LIMIT]
    )
