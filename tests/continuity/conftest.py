import pytest

from escalation.continuity.models import BusinessProcess
from escalation.continuity.services import process_create, runbook_create
from tests.factories import ServiceFactory

STEPS = [
    {"text": "Hotline auf Ansage 'Zählerstand telefonisch' umstellen", "performer": "Service Desk"},
    {"text": "Zählerstände telefonisch aufnehmen und nachtragen", "performer": ""},
]


@pytest.fixture
def service(db):
    return ServiceFactory(slug="ablesung", name="Ablesung")


@pytest.fixture
def process(service, customer, manager) -> BusinessProcess:
    return process_create(
        actor=manager,
        name="Zählerstandserfassung",
        slug="zaehlerstandserfassung",
        owner=manager,
        rto_minutes=60,
        mtpd_minutes=240,
        objectives={"1": {"rto": 30, "mtpd": 120}},
        services=[service],
        customers=[customer],
    )


@pytest.fixture
def runbook(process, manager):
    return runbook_create(
        actor=manager,
        title="Zählerstände per Telefon",
        process=process,
        preconditions="Telefonie verfügbar",
        steps=STEPS,
        performer="Kundenservice",
        customer_text_de="Bitte geben Sie Zählerstände vorübergehend telefonisch durch.",
        customer_text_en="Please report meter readings by phone for the time being.",
        limitations="Nur werktags 8-18 Uhr",
        expected_status="degraded_performance",
        needs_concession=True,
    )
