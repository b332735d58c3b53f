from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = _("Escalation")

    def ready(self) -> None:
        # The hooks through which lower layers reach the escalation process without importing
        # it (the import graph stays acyclic; import-linter checks it, see pyproject.toml).
        from incidents.selectors import public_subscription_scopes
        from notifications import hooks

        from . import hooks as escalation_hooks
        from .models import Clock
        from .people_views import incident_people_panel
        from .services import clocks, delivery, workflow
        from .views import incident_alerts_panel

        clocks.clock_handler_register(Clock.Kind.CLASSIFY, workflow.incident_classify_from_clock)
        hooks.delivery_problem_register(delivery.delivery_problem)
        hooks.subscription_scopes_register(public_subscription_scopes)
        escalation_hooks.incident_panels.insert(0, incident_people_panel)  # first of the sections
        escalation_hooks.incident_panels.append(incident_alerts_panel)  # the incident's alerts
