from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    """Post-incident reviews (four-eyes approved, then frozen) and the corrective and preventive
    actions that come from them (CAPA), with reminders and effectiveness checks."""

    name = "escalation.reviews"
    label = "reviews"
    verbose_name = _("Reviews and corrective actions")

    def ready(self) -> None:
        from escalation import hooks

        from . import sections, sentences
        from .services import close_blocker, review_draft_on_resolve

        sentences.register()  # how the timeline says this app's entries
        hooks.close_blockers.append(close_blocker)
        hooks.transition_listeners.append(review_draft_on_resolve)
        hooks.incident_panels.append(sections.incident_panel)
        hooks.dashboard_sections.append(sections.dashboard_section)
        hooks.dossier_sections.append(sections.dossier_section)
        hooks.handbook_sections.append(sections.handbook_section)
