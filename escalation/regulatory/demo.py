"""Demo data of regulatory reporting (called at the end of load_demo): the insurer among the demo
customers is a financial entity under DORA, and the most severe open incident is assessed as
NIS2-significant, so its deadlines show on the console, the board and the dashboard."""

from django.contrib.auth import get_user_model

from escalation import roles
from incidents.models import OPEN_STATES, Customer, Incident

from .models import Assessment, Regime
from .services import assessment_decide


def regulatory_demo() -> None:
    insurer = Customer.objects.filter(slug="meridian-assurance").first()
    dora = Regime.objects.filter(code="dora").first()
    if insurer and dora:
        dora.customers.add(insurer)
    nis2 = Regime.objects.filter(code="nis2").first()
    manager = (
        get_user_model()
        .objects.filter(groups__name=roles.ESCALATION_MANAGER)
        .order_by("pk")
        .first()
    )
    incident = (
        Incident.objects.filter(state__in=OPEN_STATES, priority__isnull=False)
        .order_by("priority", "-detected_at")
        .first()
    )
    if not (nis2 and manager and incident) or Assessment.objects.filter(incident=incident).exists():
        return
    assessment_decide(
        incident=incident,
        regime=nis2,
        actor=manager,
        decision=Assessment.Decision.REPORTABLE,
        reason="Dienst für mehrere Kunden über 30 Minuten vollständig nicht verfügbar.",
        checks={"severe_disruption": True, "unavailable_30min": True},
    )
