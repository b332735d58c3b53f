"""Bad input to the nested apps' API (what schemathesis found): each gets the one JSON error shape
and a 400, never a 500 or a database overflow, and nothing is written."""

from datetime import timedelta

import pytest

from escalation.continuity.models import BusinessProcess, Runbook
from escalation.problems.models import Problem
from incidents.models import State
from tests.factories import IncidentFactory, ServiceFactory, drive

pytestmark = pytest.mark.django_db

HUGE = 2**70  # beyond any database's integer


def _refused(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}
    assert field in str(body["errors"]), body


@pytest.fixture
def api(client, manager):
    client.force_login(manager)
    return client


def test_a_review_with_a_key_moment_beyond_any_id(api, manager):
    incident = drive(IncidentFactory(actor=manager), State.ESCALATED, actor=manager)
    url = f"/api/v1/incidents/{incident.pk}/review/"
    assert api.post(url, content_type="application/json").status_code == 201
    _refused(
        api.patch(url, {"key_moments": [HUGE]}, content_type="application/json"), "key_moments"
    )
    _refused(api.patch(url, {"summary": 0}, content_type="application/json"), "summary")


def test_a_problem_with_an_object_for_its_services(api):
    body = {"statement": "Wiederkehrend", "services": {}}
    _refused(api.post("/api/v1/problems/", body, content_type="application/json"), "services")
    assert not Problem.objects.exists()


def test_a_process_with_an_object_for_its_services_and_a_runbook_of_no_process(api):
    ServiceFactory(slug="portal")
    body = {"name": "Zählerstände", "slug": "zaehler", "services": {"portal": 1}}
    body |= {"rto_minutes": 60, "mtpd_minutes": 240}
    _refused(api.post("/api/v1/processes/", body, content_type="application/json"), "services")
    assert not BusinessProcess.objects.exists()
    runbook = {"title": "Umschalten", "process": HUGE, "steps": [{"text": "x"}]}
    _refused(api.post("/api/v1/runbooks/", runbook, content_type="application/json"), "process")
    _refused(
        api.post("/api/v1/runbooks/", {**runbook, "process": str(HUGE)}, "application/json"),
        "process",
    )
    assert not Runbook.objects.exists()


def test_a_workaround_with_a_runbook_beyond_any_id(api, manager):
    incident = drive(IncidentFactory(actor=manager), State.ESCALATED, actor=manager)
    url = f"/api/v1/incidents/{incident.pk}/workaround/"
    _refused(api.post(url, {"runbook": HUGE}, content_type="application/json"), "runbook")
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED


def test_regulatory_numbers_and_strings(api, manager):
    incident = drive(IncidentFactory(actor=manager), State.ESCALATED, actor=manager)
    base = f"/api/v1/incidents/{incident.pk}/reporting/"
    aware = {"aware_at": "2026-12-07T08:00:00Z", "reason": 0}
    _refused(api.post(base + "aware/", aware, content_type="application/json"), "reason")
    assess = {"regime": "gdpr", "decision": "reportable", "reason": "x", "users_affected": HUGE}
    _refused(api.post(base + "assess/", assess, content_type="application/json"), "users_affected")


def test_becoming_aware_long_before_detection_is_refused(api, manager):
    incident = drive(IncidentFactory(actor=manager), State.ESCALATED, actor=manager)
    url = f"/api/v1/incidents/{incident.pk}/reporting/aware/"
    body = {"aware_at": "0061-04-04T08:00:00Z", "reason": "Tippfehler"}
    _refused(api.post(url, body, content_type="application/json"), "aware_at")
    body["aware_at"] = (incident.detected_at - timedelta(days=2)).isoformat()
    assert api.post(url, body, content_type="application/json").status_code == 200
