"""Reads of maintenance windows: per audience, and the silencing rule for the escalation core."""

from datetime import datetime

from django.db.models import Q, QuerySet

from incidents.models import Incident, Service
from incidents.selectors import role_of, services_for

from .models import Maintenance


def maintenances_for(user) -> QuerySet[Maintenance]:
    """Staff and executives see every window; a customer contact those touching a service of
    their organisation (directly or through its group); anybody else none."""
    windows = Maintenance.objects.prefetch_related("services", "groups__services").order_by(
        "starts_at", "pk"
    )
    role = role_of(user)
    if role in ("staff", "executive"):
        return windows
    if role == "customer":
        own = services_for(user)
        return windows.filter(Q(services__in=own) | Q(groups__services__in=own)).distinct()
    return windows.none()


def covered_services(window: Maintenance) -> list[Service]:
    """The services a window covers: its own and those of its groups."""
    found = {s.pk: s for s in window.services.all()}
    for service in Service.objects.filter(group__in=window.groups.all()):
        found.setdefault(service.pk, service)
    return sorted(found.values(), key=lambda s: (s.position, s.name))


def silencing_window(incident: Incident, at: datetime) -> Maintenance | None:
    """The active silencing window covering one of the incident's services, if any."""
    services = incident.services.all()
    return (
        Maintenance.objects.filter(silence=True, starts_at__lte=at, ends_at__gt=at)
        .filter(Q(services__in=services) | Q(groups__services__in=services))
        .order_by("starts_at", "pk")
        .first()
    )


def silencing_reason(incident: Incident, at: datetime) -> str | None:
    """escalation.hooks.escalation_silencers: why paging must not start now."""
    window = silencing_window(incident, at)
    if window is None:
        return None
    return f"maintenance #{window.pk}: {window.title}"
