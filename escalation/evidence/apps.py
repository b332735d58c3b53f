from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """Proof for auditors: the evidence dossier per incident, the configuration history and the
    process handbook drawn from the live (or a past) configuration."""

    name = "escalation.evidence"
    label = "evidence"
    verbose_name = _("Evidence and handbook")

    def ready(self) -> None:
        from escalation import hooks

        from .views import incident_dossier_panel

        hooks.incident_panels.append(incident_dossier_panel)
