"""/api/v1/incidents/{id}/reporting/: executives read, escalation managers act, customers see
nothing; every refusal in the one JSON error shape."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalation.regulatory.models import Report

pytestmark = pytest.mark.django_db


def _url(name, incident, report=None):
    kwargs = {"pk": incident.pk} | ({"report_pk": report.pk} if report else {})
    return reverse(name, kwargs=kwargs)


def _assess(client, incident, regime="nis2", decision="reportable"):
    return client.post(
        _url("api_reporting_assess", incident),
        {"regime": regime, "decision": decision, "reason": "significant", "checks": {"x": True}},
        content_type="application/json",
    )


def test_manager_assesses_drafts_submits_and_attaches_the_reference(client, manager, incident):
    client.force_login(manager)
    response = _assess(client, incident)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["assessments"][0]["decision"] == "reportable"
    early = next(r for r in body["reports"] if r["code"] == "early_warning")
    assert early["state"] == "running" and early["frozen"] is False

    report = Report.objects.get(pk=early["id"])
    response = client.post(
        _url("api_reporting_draft", incident, report),
        {"text": "Frühwarnung", "text_en": "Early warning"},
        content_type="application/json",
    )
    assert response.status_code == 200
    response = client.post(
        _url("api_reporting_submit", incident, report), {}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["frozen"] is True

    again = client.post(
        _url("api_reporting_draft", incident, report),
        {"text": "x", "text_en": "y"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "report_frozen"
    response = client.post(
        _url("api_reporting_reference", incident, report),
        {"reference": "BSI-1"},
        content_type="application/json",
    )
    assert response.json()["reference"] == "BSI-1"
    assert Report.objects.get(pk=report.pk).text == "Frühwarnung"


def test_bad_input_gets_a_clear_400(client, manager, incident):
    client.force_login(manager)
    response = _assess(client, incident, regime="nope")
    assert response.status_code == 400 and "regime" in response.json()["errors"]
    response = client.post(
        _url("api_reporting_aware", incident),
        {"aware_at": (timezone.now() + timedelta(days=1)).isoformat(), "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = client.post(
        _url("api_reporting_aware", incident), {"aware_at": "soon"}, content_type="application/json"
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"aware_at", "reason"}


def test_executives_read_only(client, manager, executive, incident, django_assert_max_num_queries):
    client.force_login(manager)
    _assess(client, incident)
    _assess(client, incident, regime="dora")
    client.force_login(executive)
    with django_assert_max_num_queries(16):
        response = client.get(_url("api_incident_reporting", incident))
    assert response.status_code == 200
    assert len(response.json()["reports"]) == 6
    assert _assess(client, incident, regime="gdpr").status_code == 403


def test_customers_see_none_of_it(client, customer_contact, incident):
    client.force_login(customer_contact)
    assert client.get(_url("api_incident_reporting", incident)).status_code == 403
    assert _assess(client, incident).status_code == 403


def test_documented_in_openapi(client, manager):
    client.force_login(manager)
    schema = client.get(reverse("api_schema"), {"format": "json"}).json()
    paths = [p for p in schema["paths"] if "/reporting/" in p]
    assert len(paths) == 6
