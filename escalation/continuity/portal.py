"""The customer portal's section of business processes (a hook:
incidents.portal.contributors.portal_home_sections): the organisation's own processes, whether a
published disruption touches them, and the active workaround in customer words. Only incidents
with an open public face count: customers never learn of the team's internal record here."""

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import translation

from incidents.models import Incident, PublicIncident, PublicStatus, State

from .models import BusinessProcess, Workaround

DISRUPTED = (State.DETECTED, State.CLASSIFIED, State.ESCALATED)


def portal_processes_section(request) -> str:
    """One query when the organisation has no process (the portal's count stays bounded),
    five otherwise, whatever the number of processes and incidents."""
    customer_id = request.user.customer_id
    processes = list(
        BusinessProcess.objects.filter(customers=customer_id, is_active=True)
        .prefetch_related("services")
        .order_by("name", "pk")
    )
    if not processes:
        return ""
    incidents = list(
        Incident.objects.filter(
            customers=customer_id,
            state__in=[*DISRUPTED, State.WORKAROUND],
            public_incidents__in=PublicIncident.objects.exclude(status=PublicStatus.RESOLVED),
        )
        .distinct()
        .prefetch_related(
            "services",
            Prefetch("continuity_workarounds", queryset=Workaround.objects.order_by("-decided_at")),
        )
        .order_by("detected_at", "pk")
    )
    language = translation.get_language() or "de"
    rows = []
    for process in processes:
        own = {s.pk for s in process.services.all()}
        touching = [i for i in incidents if own & {s.pk for s in i.services.all()}]
        workarounds = [
            i.continuity_workarounds.all()[0]
            for i in touching
            if i.state == State.WORKAROUND and i.continuity_workarounds.all()
        ]
        status = "operational"
        if any(i.state in DISRUPTED for i in touching):
            status = "disrupted"
        elif touching:
            status = "workaround"
        rows.append(
            {
                "process": process,
                "status": status,
                "incidents": touching,
                "workarounds": [w.customer_text(language[:2]) for w in workarounds],
            }
        )
    return render_to_string("continuity/_portal_section.html", {"rows": rows}, request=request)
