"""The console's regulatory reporting pages, the incident panel, the PDF and the hook sections."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalation import hooks
from escalation.regulatory.models import Regime, Report
from escalation.regulatory.services import EV_ASSESSED, EV_SUBMITTED

pytestmark = pytest.mark.django_db


def _assess(client, incident, code="nis2", **extra):
    regime = Regime.objects.get(code=code)
    prefix = f"r{regime.pk}"
    data = {
        f"{prefix}-decision": "reportable",
        f"{prefix}-reason": "Online-Banking 3 h down",
        f"{prefix}-personal_data": "yes",
        f"{prefix}-checks": ["unavailable_30min", "severe_disruption"],
        **extra,
    }
    return client.post(reverse("regulatory:assess", args=[incident.pk, regime.pk]), data)


@pytest.fixture(autouse=True)
def _english_pages(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_manager_assesses_drafts_and_submits_in_the_console(client, manager, incident):
    client.force_login(manager)
    page = client.get(reverse("console:incident", args=[incident.pk]))
    assert "Regulatory reporting" in page.content.decode()  # the panel (hook)

    response = _assess(client, incident)
    assert response.status_code == 302
    assessment = incident.regulatory_assessments.get()
    assert {k for k, v in assessment.checks.items() if v} == {
        "unavailable_30min",
        "severe_disruption",
    }
    assert len(assessment.checks) == 6  # every criterion answered
    assert assessment.personal_data is True
    assert incident.events.filter(kind=EV_ASSESSED).exists()

    page = client.get(reverse("regulatory:incident", args=[incident.pk])).content.decode()
    assert "Early warning" in page and "overdue by" in page  # detected in June 2026
    assert "submits nothing" in page

    report = Report.objects.get(report_type__code="early_warning")
    detail = client.get(reverse("regulatory:report", args=[report.pk]))
    assert "Online-Banking" in detail.content.decode()
    client.post(reverse("regulatory:report", args=[report.pk]), {"text": "FW", "text_en": "EW"})
    pdf = client.get(reverse("regulatory:pdf", args=[report.pk]) + "?lang=en")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    at = timezone.localtime(timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("regulatory:submit", args=[report.pk]),
        {"submitted_at": at, "reference": "BSI-7"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.text, report.reference) == ("submitted", "FW", "BSI-7")
    assert incident.events.filter(kind=EV_SUBMITTED).exists()
    frozen = client.post(
        reverse("regulatory:report", args=[report.pk]), {"text": "changed", "text_en": "x"}
    )
    assert frozen.status_code == 302
    report.refresh_from_db()
    assert report.text == "FW"


def test_awareness_change_needs_a_reason(client, manager, incident):
    client.force_login(manager)
    url = reverse("regulatory:aware", args=[incident.pk])
    client.post(url, {"aware_at": "2026-06-10T11:00", "reason": ""})
    assert not hasattr(incident, "regulatory_awareness") or incident.regulatory_awareness is None
    client.post(url, {"aware_at": "2026-06-10T11:00", "reason": "Ticket erst um 11 Uhr gelesen"})
    incident.refresh_from_db()
    assert timezone.localtime(incident.regulatory_awareness.aware_at).hour == 11


def test_responders_read_but_do_not_write(client, manager, responder, incident):
    incident.commander = responder
    incident.save(update_fields=["commander"])
    client.force_login(responder)
    assert client.get(reverse("regulatory:incident", args=[incident.pk])).status_code == 200
    assert _assess(client, incident).status_code == 403
    assert not incident.regulatory_assessments.exists()


def test_customers_and_executives_are_refused(client, customer_contact, executive, incident):
    for user in (customer_contact, executive):
        client.force_login(user)
        assert client.get(reverse("regulatory:incident", args=[incident.pk])).status_code == 403
        assert client.get(reverse("regulatory:list")).status_code == 403


def test_dashboard_dossier_and_handbook_sections(rf, client, manager, executive, incident):
    client.force_login(manager)
    _assess(client, incident)
    _assess(client, incident, code="gdpr")
    client.force_login(executive)
    dashboard = client.get(reverse("dashboard:index")).content.decode()
    assert "NIS2 / BSIG §32 Early warning</strong> overdue by" in dashboard
    dossier = [s(incident) for s in hooks.dossier_sections]
    section = next(s for s in dossier if s and s["key"] == "regulatory")
    assert {i["regime"] for i in section["items"]} == {"nis2", "gdpr"}
    handbook = next(
        s
        for s in (h(timezone.now()) for h in hooks.handbook_sections)
        if s and s["key"] == "regulatory"
    )
    assert "at the latest 24 h after becoming aware" in handbook["html"]


def test_the_list_shows_due_reports_a_responder_works_on(client, manager, responder, incident):
    client.force_login(manager)
    _assess(client, incident)
    page = client.get(reverse("regulatory:list")).content.decode()
    assert page.count('href="/console/reporting/incidents/') == 2  # early warning, notification
    client.force_login(responder)  # not pulled into this incident
    page = client.get(reverse("regulatory:list")).content.decode()
    assert "No report is due." in page
