from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    """Proof for auditors: the evidence dossier per incident, the configuration history and the
    process handbook drawn from the live (or a past) configuration."""

    name = "escalation.evidence"
    label = "evidence"
    verbose_name = _("Evidence and handbook")
