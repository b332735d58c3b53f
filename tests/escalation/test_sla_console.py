"""The console shows SLA clocks and the live penalty exposure (incident page and board) and lets
staff pause and resume the clocks."""

from datetime import timedelta

import pytest
import time_machine

from escalation.models import SlaPause
from tests.escalation.test_sla import T0, contract, open_p1, service  # noqa: F401

pytestmark = pytest.mark.django_db


def test_incident_page_shows_targets_and_money(client, contract, service, customer, manager):  # noqa: F811
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(manager)
    with time_machine.travel(T0 + timedelta(hours=4, minutes=30), tick=False):
        page = client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "SLA clocks and penalty exposure" in page
    assert "Betrieb Kundenportal" in page
    assert "Penalty accrued: 500.00 EUR" in page
    assert "if restored in 1 h: 1,000.00 EUR" in page
    assert "missed" in page


def test_pause_and_resume_from_the_console(client, contract, service, customer, manager):  # noqa: F811
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(manager)
    url = f"/console/incidents/{incident.pk}/sla/"
    assert client.post(url + "pause/", {"reason": ""}).status_code == 400
    response = client.post(url + "pause/", {"reason": "Warten auf den Kunden"})
    assert response.status_code == 302
    assert SlaPause.objects.get(incident=incident).ended_at is None
    page = client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "The clocks are paused" in page and "Warten auf den Kunden" in page
    assert client.post(url + "resume/").status_code == 302
    assert SlaPause.objects.get(incident=incident).ended_at is not None


def test_executives_and_customers_cannot_pause(
    client,
    contract,
    service,
    customer,
    manager,
    executive,
    customer_contact,  # noqa: F811
):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    for person in (executive, customer_contact):
        client.force_login(person)
        response = client.post(f"/console/incidents/{incident.pk}/sla/pause/", {"reason": "x"})
        assert response.status_code in (403, 404)
    assert not SlaPause.objects.exists()


def test_board_shows_exposure_in_a_bounded_number_of_queries(
    client,
    contract,
    service,
    customer,
    manager,
    django_assert_num_queries,  # noqa: F811
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(manager)

    def board_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            page = client.get("/console/").content.decode()
        return len(captured), page

    with time_machine.travel(T0, tick=False):
        for _ in range(2):
            open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        few, page = board_queries()
    assert "500.00 EUR" in page and "target missed" in page
    with time_machine.travel(T0, tick=False):
        for _ in range(8):
            open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        many, _ = board_queries()
    assert many == few


def test_executive_dashboard_shows_the_exposure(
    client,
    contract,
    service,
    customer,
    manager,
    executive,  # noqa: F811
):
    with time_machine.travel(T0, tick=False):
        open_p1(service, customer, manager)  # P1: escalated automatically
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(executive)
    with time_machine.travel(T0 + timedelta(hours=4, minutes=30), tick=False):
        page = client.get("/dashboard/").content.decode()
    assert "SLA target missed" in page
    assert "Penalty: <strong>500.00 EUR</strong>" in page
    headline = page[page.index("h-headline") : page.index("h-escalations")]
    assert "500.00 EUR" in headline  # the total exposure leads the page
    assert "if restored in 1 h: 1,000.00" in page
