"""What the problems app contributes to the core's pages through escalation.hooks: a section on
the console's incident page, on the executive dashboard, in the evidence dossier and in the
handbook."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .models import OPEN_PROBLEM_STATES, Problem, ProblemLink
from .selectors import (
    known_errors_for_incident,
    problem_linked_to,
    problem_summary,
    recurring_disruptions,
)


def incident_panel(request, incident) -> str:
    """The console's incident page: its problem (or the open problems on its services to link it
    to, and a link to open one), and the known errors matching it, with their workarounds."""
    problem = problem_linked_to(incident)
    linkable = []
    if problem is None:
        linkable = list(
            Problem.objects.filter(
                state__in=OPEN_PROBLEM_STATES, services__in=incident.services.all()
            )
            .distinct()
            .order_by("-created_at")[:10]
        )
    return render_to_string(
        "problems/_incident_panel.html",
        {
            "incident": incident,
            "problem": problem,
            "known_errors": known_errors_for_incident(incident),
            "linkable": linkable,
        },
        request=request,
    )


def dashboard_section(request, now) -> str:
    """The executive dashboard: open problems, flagged ones, recurring disruptions (read-only;
    escalation managers get a link to open a problem from them)."""
    return render_to_string(
        "problems/_dashboard.html",
        {
            "summary": problem_summary(),
            "recurring": recurring_disruptions(now),
            "days": settings.PROBLEMS_RECURRENCE_DAYS,
            # The dashboard's readers are executives and escalation managers: team members get
            # the offer (is_staff costs no query; the console checks the role again).
            "may_open": request.user.is_staff,
        },
        request=request,
    )


def dossier_section(incident) -> dict | None:
    """The evidence dossier: the incident's problem, its root cause and its fix."""
    link = ProblemLink.objects.filter(incident=incident).select_related("problem").first()
    if link is None:
        return None
    p = link.problem
    return {
        "key": "problems",
        "title": _("Problem and root cause"),
        "items": [
            {
                "reference": p.reference,
                "statement": p.statement,
                "state": p.state,
                "root_cause": p.root_cause,
                "root_cause_method": p.root_cause_method,
                "root_cause_analysis": p.root_cause_analysis,
                "workaround": p.workaround,
                "fix_change_ref": p.fix_change_ref,
                "fixed_at": p.fixed_at.isoformat() if p.fixed_at else None,
                "linked_at": link.linked_at.isoformat(),
            }
        ],
    }


def handbook_section(as_of) -> dict:
    """The process handbook: the problem-management rules in force."""
    html = render_to_string(
        "problems/_handbook.html",
        {
            "count": settings.PROBLEMS_RECURRENCE_COUNT,
            "days": settings.PROBLEMS_RECURRENCE_DAYS,
        },
    )
    return {
        "key": "problems",
        "title": _("Problem management"),
        "where": _(
            "Console: Problems; settings PROBLEMS_RECURRENCE_COUNT and PROBLEMS_RECURRENCE_DAYS"
        ),
        "html": html,  # render_to_string's output is safe already (autoescaped template)
    }
