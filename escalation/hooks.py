"""Hooks through which the core tells nested apps (escalation/<domain>/) something, or asks them.

The core never imports a nested app: each app registers its callables here in its
`AppConfig.ready`, and the core calls whatever is registered (docs/architecture.md, "Growing
without a god app"). A reader finds every caller of a hook by grepping its name.
"""

from collections.abc import Callable

# Sections of the console's incident page: panel(request, incident) -> HTML (a SafeString), or
# "" for nothing. Rendered below the SLA section, in registration order.
incident_panels: list[Callable] = []

# Asked before an incident is escalated automatically (a rule decided so on classification):
# silencer(incident, at) -> a short reason (str) when paging must not start now (e.g. an active
# maintenance window that silences the incident's services), else None.
escalation_silencers: list[Callable] = []


def incident_panels_render(request, incident) -> list[str]:
    return [html for panel in incident_panels if (html := panel(request, incident))]


def escalation_silenced_by(incident, at) -> str | None:
    for silencer in escalation_silencers:
        reason = silencer(incident, at)
        if reason:
            return reason
    return None
