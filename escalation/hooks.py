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


# --- Hooks for the nested domains (continuity, problems, reviews, evidence, regulatory) ---

# Sections of the executive dashboard: section(request, now) -> HTML (a SafeString), or "" for
# nothing. Rendered below the core's figures, in registration order. Read-only: no forms.
dashboard_sections: list[Callable] = []

# Sections of an incident's evidence dossier: section(incident) -> dict or None, JSON-serialisable:
# {"key": "reviews", "title": "<translated>", "items": [ {...}, ... ]}.
dossier_sections: list[Callable] = []

# Sections of the process handbook: section(as_of: datetime) -> dict or None:
# {"key": "continuity", "title": "<translated>", "where": "<where it is configured>",
#  "html": SafeString}.
handbook_sections: list[Callable] = []

# Asked by incident_close before closing: blocker(incident) -> a short reason (str) why the incident
# may not be closed yet (e.g. "the post-incident review is not approved"), else None.
close_blockers: list[Callable] = []

# Told after every lifecycle step, inside its transaction:
# listener(incident, action: str, actor, from_state: str), action e.g. "reopen", "resolve".
transition_listeners: list[Callable] = []


def dashboard_sections_render(request, now) -> list[str]:
    return [html for section in dashboard_sections if (html := section(request, now))]


def close_blocked_by(incident) -> str | None:
    for blocker in close_blockers:
        reason = blocker(incident)
        if reason:
            return reason
    return None


def transition_tell(incident, action: str, actor, from_state: str) -> None:
    for listener in transition_listeners:
        listener(incident, action, actor, from_state)
