"""The executive dashboard's business continuity section (a hook:
escalation.hooks.dashboard_sections): open incidents that disrupt business processes, their
disruption level, and which processes are beyond their RTO or MTPD. Read-only; three queries
whatever the number of incidents."""

from django.db.models import Prefetch
from django.template.loader import render_to_string

from incidents.models import OPEN_STATES, Incident, Service

from . import selectors
from .models import BusinessProcess, IncidentLevel

LIMIT = 20


def dashboard_continuity_section(request, now) -> str:
    processes = Prefetch(
        "services",
        queryset=Service.objects.prefetch_related(
            Prefetch(
                "business_processes",
                queryset=BusinessProcess.objects.filter(is_active=True),
                to_attr="active_processes",
            )
        ),
    )
    incidents = list(
        Incident.objects.filter(state__in=OPEN_STATES, services__business_processes__is_active=True)
        .distinct()
        .prefetch_related(processes)
        .order_by("priority", "detected_at", "pk")[:LIMIT]
    )
    if not incidents:
        return ""
    levels = dict(
        IncidentLevel.objects.filter(incident__in=incidents).values_list("incident_id", "level")
    )
    rows = []
    for incident in incidents:
        found = {p.pk: p for s in incident.services.all() for p in s.active_processes}
        deadlines = selectors.deadlines(incident, sorted(found.values(), key=lambda p: p.name))
        recovered = selectors.recovered(incident)
        rows.append(
            {
                "incident": incident,
                "level": levels.get(incident.pk, "disruption"),
                "processes": [
                    {"d": d, "state": "recovered" if recovered else d.state(now)} for d in deadlines
                ],
            }
        )
    return render_to_string("continuity/_dashboard_section.html", {"rows": rows}, request=request)
