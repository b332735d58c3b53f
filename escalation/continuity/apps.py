from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContinuityConfig(AppConfig):
    """Business continuity: business processes with recovery objectives (RTO, MTPD), versioned
    workaround runbooks, and per incident the workaround record, the customer's concession, the
    disruption level (BSI 200-4) and RTO/MTPD warning clocks."""

    name = "escalation.continuity"
    label = "continuity"
    verbose_name = _("Business continuity")

    def ready(self) -> None:
        from escalation import hooks
        from escalation.services.clocks import clock_handler_register
        from incidents.portal import contributors as portal

        from . import sentences, services
        from .dashboard import dashboard_continuity_section
        from .evidence import dossier_section, handbook_section
        from .panel import incident_continuity_panel
        from .portal import portal_processes_section

        sentences.register()  # how the timeline says this app's entries
        clock_handler_register(services.CLOCK_KIND, services.clock_fire)
        hooks.transition_listeners.append(services.on_transition)
        hooks.incident_panels.append(incident_continuity_panel)
        hooks.dashboard_sections.append(dashboard_continuity_section)
        hooks.dossier_sections.append(dossier_section)
        hooks.handbook_sections.append(handbook_section)
        portal.portal_home_sections.append(portal_processes_section)
