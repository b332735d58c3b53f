from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    """Change events (deploys, configuration changes) per service, PagerDuty-compatible."""

    name = "escalation.changes"
    label = "changes"
    verbose_name = _("Change events")

    def ready(self) -> None:
        from escalation import hooks

        from .views import incident_changes_panel

        hooks.incident_panels.append(incident_changes_panel)
