"""The console's business continuity section on an incident page (a hook:
escalation.hooks.incident_panels): affected processes with RTO/MTPD countdowns from detection,
the disruption level, the runbooks offered, the workaround record and the concessions."""

from django.template.loader import render_to_string
from django.utils import timezone

from escalation.dashboard.selectors import viewer_role

from . import selectors
from .forms import ConcessionForm, LevelForm
from .models import Level


def continuity_context(incident) -> dict:
    """What the panel and the API show of one incident (one reading for both)."""
    now = timezone.now()
    processes = selectors.affected_processes(incident)
    found = selectors.deadlines(incident, processes)
    recovered = selectors.recovered(incident)
    level = selectors.level_of(incident)
    return {
        "now": now,
        "deadlines": [
            {
                "d": d,
                "state": "recovered" if recovered else d.state(now),
                "rto_left": (d.rto_at - now).total_seconds(),
                "mtpd_left": (d.mtpd_at - now).total_seconds(),
            }
            for d in found
        ],
        "recovered": recovered,
        "runbooks": selectors.runbooks_offered(incident, processes),
        "workaround": selectors.workaround_current(incident),
        "level": level,
        "level_derived": selectors.level_derived(incident, found, now),
    }


def incident_continuity_panel(request, incident) -> str:
    context = continuity_context(incident)
    if not context["deadlines"] and not context["runbooks"] and not context["workaround"]:
        return ""
    workaround = context["workaround"]
    accepted = {c.customer_id for c in workaround.concessions.all()} if workaround else set()
    concession_form = ConcessionForm()
    concession_form.fields["customer"].queryset = incident.customers.exclude(pk__in=accepted)
    context.update(
        {
            "incident": incident,
            "may_manage": viewer_role(request.user) == "manager",
            "may_apply": incident.state == "escalated",
            "concession_form": concession_form,
            "level_form": LevelForm(
                initial={"level": context["level"].level if context["level"] else Level.DISRUPTION}
            ),
        }
    )
    return render_to_string("continuity/_incident_panel.html", context, request=request)
