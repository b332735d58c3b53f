"""The console's "recent changes" section on an incident page (a hook: escalation.hooks)."""

from django.template.loader import render_to_string

from .selectors import changes_for_incident


def incident_changes_panel(request, incident) -> str:
    return render_to_string(
        "changes/_incident_changes.html",
        {"changes": list(changes_for_incident(incident)), "incident": incident},
        request=request,
    )
