"""Business continuity's console pages, incident panel and API: who may read and write what, the
runbook applied from the incident page and through the API, and every 4xx clear."""

import pytest
from django.urls import reverse

from escalation.continuity.models import BusinessProcess, IncidentLevel, Runbook, Workaround
from incidents.models import State
from tests.factories import IncidentFactory, ServiceFactory, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(service, customer, manager, process, runbook):
    incident = IncidentFactory(actor=manager, services=[service], customers=[customer])
    return drive(incident, State.ESCALATED, actor=manager)


def test_manager_creates_and_edits_processes_and_runbooks_in_the_console(
    client, manager, service, customer
):
    client.force_login(manager)
    response = client.post(
        reverse("continuity:process_new"),
        {
            "name": "Zahlungsabwicklung",
            "slug": "zahlungsabwicklung",
            "services": [service.pk],
            "customers": [customer.pk],
            "rto_minutes": 30,
            "mtpd_minutes": 20,
            "objectives": "P1 15/60",
        },
    )
    assert response.status_code == 200 and "MTPD" in response.content.decode()  # form error
    response = client.post(
        reverse("continuity:process_new"),
        {
            "name": "Zahlungsabwicklung",
            "slug": "zahlungsabwicklung",
            "services": [service.pk],
            "customers": [customer.pk],
            "rto_minutes": 30,
            "mtpd_minutes": 120,
            "objectives": "P1 15/60",
            "is_active": "on",
        },
    )
    process = BusinessProcess.objects.get(slug="zahlungsabwicklung")
    assert response.status_code == 302 and process.objectives == {"1": {"rto": 15, "mtpd": 60}}
    body = {
        "title": "Zahlungen manuell freigeben",
        "process": process.pk,
        "steps": "Buchhaltung | Zahlungsliste exportieren\nZahlungen einzeln freigeben",
        "performer": "Treasury",
        "customer_text_de": "Zahlungen werden verzögert ausgeführt.",
        "customer_text_en": "Payments are executed with a delay.",
        "expected_status": "degraded_performance",
        "needs_concession": "on",
        "is_active": "on",
    }
    assert client.post(reverse("continuity:runbook_new"), body).status_code == 302
    runbook = Runbook.objects.get()
    assert runbook.versions.get().steps[0] == {
        "text": "Zahlungsliste exportieren",
        "performer": "Buchhaltung",
    }
    edit = client.get(reverse("continuity:runbook_edit", args=[runbook.pk])).content.decode()
    assert "Buchhaltung | Zahlungsliste exportieren" in edit
    body["limitations"] = "Nur bis 10.000 EUR"
    client.post(reverse("continuity:runbook_edit", args=[runbook.pk]), body)
    runbook.refresh_from_db()
    assert runbook.version == 2
    page = client.get(reverse("continuity:runbook", args=[runbook.pk]) + "?version=1")
    assert "nicht die aktuelle" in page.content.decode()  # the manager reads German
    listing = client.get(reverse("continuity:processes")).content.decode()
    assert "Zahlungsabwicklung" in listing


def test_responders_read_but_do_not_edit_executives_and_customers_stay_out(
    client, responder, executive, customer_contact, process
):
    client.force_login(responder)
    assert client.get(reverse("continuity:processes")).status_code == 200
    assert client.get(reverse("continuity:process_new")).status_code == 403
    for person in (executive, customer_contact):
        client.force_login(person)
        assert client.get(reverse("continuity:processes")).status_code == 403


def test_the_incident_page_offers_the_runbook_and_records_workaround_and_concession(
    client, manager, incident, runbook, customer
):
    client.force_login(manager)
    page = client.get(reverse("console:incident", args=[incident.pk])).content.decode()
    assert "Zählerstandserfassung" in page and "Zählerstände per Telefon" in page
    url = reverse("continuity:workaround", args=[incident.pk])
    client.post(url, {"runbook": runbook.pk})
    record = Workaround.objects.get()
    assert record.runbook_version.number == 1 and record.decided_by == manager
    client.post(
        reverse("continuity:concession", args=[incident.pk]),
        {"customer": customer.pk, "accepted_by": "Frau Berg", "conditions": "bis Freitag"},
    )
    assert record.concessions.get().accepted_by == "Frau Berg"
    client.post(reverse("continuity:level", args=[incident.pk]), {"level": "crisis", "reason": ""})
    assert not IncidentLevel.objects.filter(incident=incident, manual=True).exists()
    client.post(
        reverse("continuity:level", args=[incident.pk]), {"level": "crisis", "reason": "Presse"}
    )
    assert IncidentLevel.objects.get(incident=incident).level == "crisis"
    page = client.get(reverse("console:incident", args=[incident.pk])).content.decode()
    assert "Frau Berg" in page and 'data-level="crisis"' in page


def test_api_processes_per_audience(
    client, manager, executive, customer_contact, other_customer_contact, process, other_customer
):
    theirs = ServiceFactory(slug="fremd")
    other = BusinessProcess.objects.create(
        name="Tourenplanung", slug="touren", rto_minutes=10, mtpd_minutes=20
    )
    other.services.add(theirs)
    other.customers.add(other_customer)
    client.force_login(customer_contact)
    body = client.get("/api/v1/processes/").json()
    assert [p["name"] for p in body] == ["Zählerstandserfassung"] and "owner" not in body[0]
    assert client.get(f"/api/v1/processes/{other.pk}/").status_code == 404
    assert client.get("/api/v1/runbooks/").status_code == 403
    client.force_login(executive)
    assert len(client.get("/api/v1/processes/").json()) == 2
    payload = {
        "name": "Neu",
        "slug": "neu",
        "services": ["ablesung"],
        "rto_minutes": 5,
        "mtpd_minutes": 10,
    }
    assert client.post("/api/v1/processes/", payload, "application/json").status_code == 403
    client.force_login(manager)
    bad = client.post("/api/v1/processes/", {**payload, "mtpd_minutes": 1}, "application/json")
    assert bad.status_code == 400 and "mtpd_minutes" in bad.json()["errors"]
    bad = client.post("/api/v1/processes/", {**payload, "objectives": {"7": 1}}, "application/json")
    assert bad.status_code == 400 and "objectives" in bad.json()["errors"]
    response = client.post("/api/v1/processes/", payload, "application/json")
    assert response.status_code == 201 and response.json()["services"] == ["ablesung"]


def test_api_runbooks_are_versioned(client, manager, runbook):
    client.force_login(manager)
    body = client.get(f"/api/v1/runbooks/{runbook.pk}/").json()
    assert body["version"] == 1 and body["steps"][0]["performer"] == "Service Desk"
    response = client.patch(
        f"/api/v1/runbooks/{runbook.pk}/", {"limitations": "keine"}, "application/json"
    )
    assert response.json()["version"] == 2 and response.json()["limitations"] == "keine"
    bad = client.patch(f"/api/v1/runbooks/{runbook.pk}/", {"steps": []}, "application/json")
    assert bad.status_code == 400 and "steps" in bad.json()["errors"]


def test_api_workaround_from_a_runbook_and_the_continuity_record(
    client, manager, executive, customer_contact, incident, runbook
):
    client.force_login(manager)
    url = f"/api/v1/incidents/{incident.pk}/workaround/"
    bad = client.post(url, {"runbook": 999999}, "application/json")
    assert bad.status_code == 400 and "runbook" in bad.json()["errors"]
    assert client.post(url, {}, "application/json").status_code == 400
    response = client.post(url, {"runbook": runbook.pk}, "application/json")
    assert response.status_code == 200 and response.json()["state"] == "workaround"
    again = client.post(url, {"runbook": runbook.pk}, "application/json")
    assert again.status_code == 409
    client.force_login(executive)
    body = client.get(f"/api/v1/incidents/{incident.pk}/continuity/").json()
    assert body["processes"][0]["name"] == "Zählerstandserfassung"
    assert body["processes"][0]["state"] == "recovered"
    assert body["workaround"]["runbook_version"] == 1 and body["workaround"]["ad_hoc"] is False
    assert body["runbooks"][0]["customer_text_en"].startswith("Please report")
    client.force_login(customer_contact)
    assert client.get(f"/api/v1/incidents/{incident.pk}/continuity/").status_code == 404


def test_api_ad_hoc_workaround_keeps_the_core_payload(client, manager, incident):
    client.force_login(manager)
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/workaround/",
        {"workaround": "Papierformular", "customer_text": "Bitte Papierformular nutzen"},
        "application/json",
    )
    assert response.status_code == 200
    record = Workaround.objects.get()
    assert record.ad_hoc and record.customer_text_de == "Bitte Papierformular nutzen"
