from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProblemsConfig(AppConfig):
    """Problem management: problems from incidents, root causes, known errors and their
    workarounds shown on matching new incidents, recurring disruptions, permanent fixes."""

    name = "escalation.problems"
    label = "problems"
    verbose_name = _("Problem management")

    def ready(self) -> None:
        from escalation import hooks

        from . import sentences
        from .sections import (
            dashboard_section,
            dossier_section,
            handbook_section,
            incident_panel,
        )
        from .services import problem_flag_on_reopen

        sentences.register()  # how the timeline says this app's entries
        hooks.incident_panels.append(incident_panel)
        hooks.dashboard_sections.append(dashboard_section)
        hooks.dossier_sections.append(dossier_section)
        hooks.handbook_sections.append(handbook_section)
        hooks.transition_listeners.append(problem_flag_on_reopen)
