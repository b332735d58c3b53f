"""The customer portal's section of maintenance windows (a hook: incidents.portal.contributors):
the organisation's current and upcoming windows, with only its own services named."""

from datetime import timedelta

from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.utils import timezone

from incidents.models import Service

from .models import Maintenance

UPCOMING_DAYS = 60


def portal_maintenance_section(request) -> str:
    """One query when the organisation has no window (the portal's query count stays bounded)."""
    now = timezone.now()
    own = Service.objects.filter(customers=request.user.customer_id)
    windows = (
        Maintenance.objects.filter(
            Q(services__in=own) | Q(groups__services__in=own),
            ends_at__gt=now,
            starts_at__lte=now + timedelta(days=UPCOMING_DAYS),
        )
        .distinct()
        .order_by("starts_at", "pk")
        .prefetch_related(
            Prefetch("services", queryset=own.order_by()),
            Prefetch("groups__services", queryset=own.order_by()),
        )
    )
    rows = []
    for window in windows:
        services = {s.pk: s.name for s in window.services.all()}
        for group in window.groups.all():
            services.update({s.pk: s.name for s in group.services.all()})
        rows.append(
            {"window": window, "phase": window.phase(now), "services": sorted(services.values())}
        )
    if not rows:
        return ""
    return render_to_string("maintenance/_portal_section.html", {"rows": rows}, request=request)
