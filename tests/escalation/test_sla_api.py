"""API for SLA clocks and live penalty exposure: GET /incidents/{id}/sla/, GET
/customers/{id}/exposure/, pause and resume; money as decimal strings; who may see it."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache

from escalation.models import SlaPause
from tests.escalation.test_api import api, error_shape
from tests.escalation.test_sla import T0, contract, open_p1, service  # noqa: F401
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def incident(contract, service, customer, manager):  # noqa: F811
    with time_machine.travel(T0, tick=False):
        return open_p1(service, customer, manager)


def test_incident_sla_shows_clocks_accrued_and_projected_penalty(incident, manager):
    with time_machine.travel(T0 + timedelta(hours=4, minutes=30), tick=False):
        response = api(manager).get(f"/api/v1/incidents/{incident.pk}/sla/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["incident"] == incident.pk and body["priority"] == 1 and body["paused"] is False
    (contract_body,) = body["contracts"]
    assert contract_body["currency"] == "EUR"
    assert contract_body["customer"]["name"] == "Stadtwerke Nord"
    targets = {t["target"]: t for t in contract_body["targets"]}
    assert targets["restore"]["target_minutes"] == 240
    assert targets["restore"]["missed"] is True
    assert targets["restore"]["elapsed_seconds"] == 4.5 * 3600
    # money is a decimal string, never a float
    assert contract_body["accrued"]["amount"] == "500.00"
    assert contract_body["if_restored_in_1h"]["amount"] == "1000.00"
    assert contract_body["if_restored_in_4h"]["amount"] == "2500.00"
    (charge,) = contract_body["accrued"]["charges"]
    assert charge["units"] == 1 and charge["target"] == "restore"
    assert "500.00 per started 60 min" in charge["description"]


def test_customer_exposure_sums_open_incidents_and_the_month(
    incident,
    contract,
    service,
    customer,
    manager,  # noqa: F811
):
    with time_machine.travel(T0, tick=False):
        second = open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(hours=5, minutes=1), tick=False):
        response = api(manager).get(f"/api/v1/customers/{customer.pk}/exposure/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {i["id"] for i in body["open_incidents"]} == {incident.pk, second.pk}
    # each incident: 1 h 1 min beyond the 4 h target -> two started hours = EUR 1,000
    (totals,) = body["totals"]
    assert totals == {
        "currency": "EUR",
        "accrued": "2000.00",
        "if_restored_in_1h": "3000.00",
        "if_restored_in_4h": "6000.00",
    }
    (month,) = body["month_to_date"]
    assert month["incidents"] == 2 and Decimal(month["credits"]) == Decimal("2000")


def test_the_months_credits_agree_with_the_monthly_report(incident, customer, manager):
    """The exposure's month-to-date credits are the SLA report's for the month so far (one
    month boundary, in the customer's zone, or ours when theirs is unknown: no 500)."""
    from escalation.reports import sla_month_report
    from incidents.models import Customer

    Customer.objects.filter(pk=customer.pk).update(time_zone="Mars/Olympus_Mons")  # as of old
    customer.refresh_from_db()
    at = T0 + timedelta(hours=5, minutes=1)
    with time_machine.travel(at, tick=False):
        response = api(manager).get(f"/api/v1/customers/{customer.pk}/exposure/")
        report = sla_month_report(customer=customer, year=at.year, month=at.month, at=at)
    assert response.status_code == 200, response.content
    (month,) = response.json()["month_to_date"]
    (section,) = report.contracts
    assert Decimal(month["credits"]) == section.credits_owed == Decimal("1000")


def test_executives_read_but_never_pause(incident, executive):
    client = api(executive, scope="write")
    assert client.get(f"/api/v1/incidents/{incident.pk}/sla/").status_code == 200
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/sla/pause/", {"reason": "x"}, format="json"
    )
    error_shape(response, 403)
    assert not SlaPause.objects.exists()


def test_customers_and_responders_outside_see_no_money(
    incident, customer, customer_contact, other_customer_contact
):
    for person in (customer_contact, other_customer_contact):
        client = api(person, scope="read")
        error_shape(client.get(f"/api/v1/incidents/{incident.pk}/sla/"), 404)
        error_shape(client.get(f"/api/v1/customers/{customer.pk}/exposure/"), 404)


def test_pause_and_resume_through_the_api(incident, manager):
    client = api(manager)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        response = client.post(
            f"/api/v1/incidents/{incident.pk}/sla/pause/",
            {"reason": "Warten auf Rückmeldung des Kunden"},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["paused"] is True
        again = client.post(
            f"/api/v1/incidents/{incident.pk}/sla/pause/", {"reason": "zweimal"}, format="json"
        )
        error_shape(again, 400)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        response = client.post(f"/api/v1/incidents/{incident.pk}/sla/resume/")
    assert response.status_code == 200, response.content
    restore = next(
        t for t in response.json()["contracts"][0]["targets"] if t["target"] == "restore"
    )
    deadline = datetime.fromisoformat(restore["deadline_at"])
    assert deadline == T0 + timedelta(hours=5)  # 4 h + 1 h paused


def test_bad_pause_input_is_a_clear_400(incident, manager):
    client = api(manager)
    url = f"/api/v1/incidents/{incident.pk}/sla/pause/"
    error_shape(client.post(url, {}, format="json"), 400)
    error_shape(client.post(url, {"reason": "x", "contract": 999999}, format="json"), 400)
    error_shape(client.post(url, {"reason": "x", "contract": "abc"}, format="json"), 400)
    missing = "/api/v1/incidents/999999/sla/pause/"
    error_shape(client.post(missing, {"reason": "x"}, format="json"), 404)
    assert not SlaPause.objects.exists()


def test_incidents_without_contracts_have_no_clocks(manager):
    from escalation.services import incident_open

    incident = incident_open(
        actor=manager, title="Drucker", services=[ServiceFactory()], impact="low", urgency="low"
    )
    body = api(manager).get(f"/api/v1/incidents/{incident.pk}/sla/").json()
    assert body["contracts"] == []


def test_a_reason_must_be_text(incident, manager):
    response = api(manager).post(
        f"/api/v1/incidents/{incident.pk}/sla/pause/", {"reason": 0}, format="json"
    )
    error_shape(response, 400)
    assert not SlaPause.objects.exists()
