from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    """Scheduled maintenance windows: announced on the status page, and (if the window says so)
    silencing the paging of alerts on the services it covers."""

    name = "escalation.maintenance"
    label = "maintenance"
    verbose_name = _("Scheduled maintenance")

    def ready(self) -> None:
        from escalation import hooks
        from incidents.portal import contributors as portal
        from incidents.statuspage import contributors

        from . import sentences
        from .portal import portal_maintenance_section
        from .selectors import silencing_reason
        from .statuspage import contribute

        sentences.register()  # how the timeline says this app's entries
        hooks.escalation_silencers.append(silencing_reason)
        contributors.status_page_contributors.append(contribute)
        portal.portal_home_sections.append(portal_maintenance_section)
