from datetime import UTC, datetime

import pytest

from escalation.regulatory.models import Regime
from tests.factories import CustomerFactory, IncidentFactory, ServiceFactory

AWARE = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
def bank(db):
    """A financial entity under DORA (through the regime's customers)."""
    bank = CustomerFactory(name="Nordbank AG", slug="nordbank")
    Regime.objects.get(code="dora").customers.add(bank)
    return bank


@pytest.fixture
def incident(db, manager, bank):
    service = ServiceFactory(name="Online-Banking", slug="online-banking")
    incident = IncidentFactory(
        actor=manager, title="Online-Banking down", services=[service], customers=[bank]
    )
    incident.detected_at = AWARE
    incident.save(update_fields=["detected_at"])
    return incident


@pytest.fixture
def regimes(db):
    return {r.code: r for r in Regime.objects.all()}
