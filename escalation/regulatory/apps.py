from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegulatoryConfig(AppConfig):
    """Regulatory reporting (NIS2/BSIG, DORA, GDPR): the "reportable?" assessment of an incident,
    its deadlines as clocks that outlive the incident, and the report drafts."""

    name = "escalation.regulatory"
    label = "regulatory"
    verbose_name = _("Regulatory reporting")

    def ready(self) -> None:
        from escalation import hooks

        from . import sections, sentences, views

        sentences.register()  # how the timeline says this app's entries
        hooks.incident_panels.append(views.incident_reporting_panel)
        hooks.dashboard_sections.append(sections.dashboard_section)
        hooks.dossier_sections.append(sections.dossier_section)
        hooks.handbook_sections.append(sections.handbook_section)
