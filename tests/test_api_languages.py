"""Every API error message follows the client's language: English without Accept-Language,
German with `Accept-Language: de` (escalation.api.middleware.ApiLanguageMiddleware), in the one
JSON shape ({"code", "detail", "errors"}) either way. One representative request per message the
API code raises itself; DRF's own messages come translated from DRF.

Two exceptions keep their English on purpose: the PagerDuty-compatible bodies of the Events API
v2 and the Change Events API ("Event object is invalid", ...), and "JSON parse error - ...",
which DRF does not translate for a normal parse error either."""

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import pytest
from django.utils import translation
from rest_framework import serializers
from rest_framework.test import APIClient

from escalation.api.serializers import Text
from escalation.models import Integration
from escalation.reviews.services import action_create
from escalation.services.integrations import integration_create
from incidents.services import api_token_create
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

INVALID = {"en": "The input is not valid.", "de": "Die Eingabe ist ungültig."}


@dataclass
class Case:
    id: str
    status: int
    code: str
    where: str  # "detail", or the field in "errors" (then detail is INVALID)
    en: str
    de: str
    call: object  # (world, client) -> response; client(user=None, **credentials) -> APIClient


@pytest.fixture
def world(db, manager, responder, executive, customer_contact, settings, monkeypatch):
    service = ServiceFactory(slug="portal")
    return SimpleNamespace(
        manager=manager,
        responder=responder,
        executive=executive,
        customer_contact=customer_contact,
        service=service,
        incident=IncidentFactory(actor=manager, services=[service]),
        settings=settings,
        monkeypatch=monkeypatch,
    )


def _token(user, scope: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user, scope=scope)[1]}"}


def _idempotency_reused(w, client):
    api = client(w.manager)
    first = api.post("/api/v1/incidents/", {"title": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201, first.content
    return api.post("/api/v1/incidents/", {"title": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="k")


def _too_large(w, client):
    w.settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"title": "x", "description": "y" * 5000}
    return client(w.manager).post("/api/v1/incidents/", body, format="json")


def _public_update_without_text(w, client):
    api = client(w.manager)
    face = api.post("/api/v1/public-incidents/", {"services": ["portal"]}, format="json")
    assert face.status_code == 201, face.content
    url = f"/api/v1/public-incidents/{face.json()['id']}/updates/"
    return api.post(url, {"status": "identified"}, format="json")


def _integration(kind=Integration.Kind.EVENTS_V2) -> Integration:
    return integration_create(kind=kind, service=ServiceFactory(slug=f"{kind}-svc"), name="Mon")


def _process(services, **fields) -> dict:
    process = {"name": "Abrechnung", "slug": "abrechnung", "rto_minutes": 30, "mtpd_minutes": 60}
    return {**process, "services": services, **fields}


def _process_slug_taken(w, client):
    api = client(w.manager)
    assert api.post("/api/v1/processes/", _process(["portal"]), format="json").status_code == 201
    return api.post("/api/v1/processes/", _process(["portal"]), format="json")


RUNBOOK = {
    "title": "Umschalten",
    "steps": [{"text": "Umschalten"}],
    "performer": "Betrieb",
    "customer_text_de": "Bitte nutzen Sie B.",
    "customer_text_en": "Please use B.",
}


def _action(w):
    return action_create(
        actor=w.manager,
        title="Netzteile",
        kind="corrective",
        owner=w.manager,
        due_on=date(2030, 1, 10),
        check_on=date(2030, 4, 10),
    )


def _problem(w, client):
    api = client(w.manager)
    problem = api.post("/api/v1/problems/", {"statement": "Speicher läuft voll"}, format="json")
    assert problem.status_code == 201, problem.content
    url = f"/api/v1/problems/{problem.json()['id']}/"
    return api.patch(url, {"incidents": [w.incident.pk]}, format="json")


def _server_error(w, client):
    from escalation.api import views

    def boom(self):
        raise RuntimeError("a bug")

    w.monkeypatch.setattr(views.ServiceListView, "get_queryset", boom)
    api = client(w.manager)
    api.raise_request_exception = False
    return api.get("/api/v1/services/")


def _maintenance(**fields) -> dict:
    window = {"starts_at": "2030-01-01T10:00Z", "ends_at": "2030-01-01T12:00Z"}
    return {"title": "Wartung", **window, **fields}


def _incident_url(w, tail: str = "") -> str:
    return f"/api/v1/incidents/{w.incident.pk}/{tail}"


CASES = [
    # --- escalation/api/serializers.py
    Case(
        "unknown field",
        400,
        "invalid",
        "servcies",
        "Unknown field.",
        "Unbekanntes Feld.",
        lambda w, c: c(w.manager).post(
            "/api/v1/incidents/", {"title": "x", "servcies": []}, format="json"
        ),
    ),
    Case(
        "impact without urgency",
        400,
        "invalid",
        "non_field_errors",
        "Give impact and urgency together, or neither.",
        "Geben Sie Auswirkung und Dringlichkeit zusammen an oder keines von beiden.",
        lambda w, c: c(w.manager).post(
            "/api/v1/incidents/", {"title": "x", "impact": "high"}, format="json"
        ),
    ),
    Case(
        "state in a patch",
        400,
        "invalid",
        "state",
        "This field cannot be changed here (use the action endpoints).",
        "Dieses Feld kann hier nicht geändert werden (verwenden Sie die Aktions-Endpunkte).",
        lambda w, c: c(w.manager).patch(_incident_url(w), {"state": "closed"}, format="json"),
    ),
    Case(
        "other field in a patch",
        400,
        "invalid",
        "priority",
        "This field cannot be changed here.",
        "Dieses Feld kann hier nicht geändert werden.",
        lambda w, c: c(w.manager).patch(_incident_url(w), {"priority": 1}, format="json"),
    ),
    Case(
        "public incident covering nothing",
        400,
        "invalid",
        "non_field_errors",
        "Name the incidents, services or groups it covers.",
        "Nennen Sie die Vorfälle, Dienste oder Dienstgruppen, die sie umfasst.",
        lambda w, c: c(w.manager).post("/api/v1/public-incidents/", {}, format="json"),
    ),
    Case(
        "public update without text",
        400,
        "invalid",
        "body",
        "The update needs a text.",
        "Die Statusmeldung benötigt einen Text.",
        _public_update_without_text,
    ),
    # --- escalation/api/views.py
    Case(
        "idempotency key too long",
        400,
        "invalid",
        "Idempotency-Key",
        "At most 200 characters.",
        "Höchstens 200 Zeichen.",
        lambda w, c: c(w.manager).post(
            "/api/v1/incidents/", {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
        ),
    ),
    Case(
        "idempotency key reused",
        422,
        "idempotency_key_reused",
        "detail",
        "This Idempotency-Key was used for a different request.",
        "Dieser Idempotency-Key wurde für eine andere Anfrage verwendet.",
        _idempotency_reused,
    ),
    Case(
        "page size",
        400,
        "invalid",
        "page_size",
        "A whole number from 1 to 200.",
        "Eine ganze Zahl von 1 bis 200.",
        lambda w, c: c(w.manager).get("/api/v1/incidents/?page_size=0"),
    ),
    Case(
        "customer filtering by state",
        400,
        "invalid",
        "state",
        "Customers filter by nothing but service and updated_since.",
        "Kunden filtern nur nach service und updated_since.",
        lambda w, c: c(w.customer_contact).get("/api/v1/incidents/?state=detected"),
    ),
    Case(
        "priority filter",
        400,
        "invalid",
        "priority",
        "Give numbers 1-5, e.g. 1,2.",
        "Geben Sie Zahlen von 1 bis 5 an, z. B. 1,2.",
        lambda w, c: c(w.manager).get("/api/v1/incidents/?priority=9"),
    ),
    Case(
        "updated_since filter",
        400,
        "invalid",
        "updated_since",
        "Give an ISO 8601 time with a time zone.",
        "Geben Sie eine Zeit nach ISO 8601 mit Zeitzone an.",
        lambda w, c: c(w.manager).get("/api/v1/incidents/?updated_since=gestern"),
    ),
    Case(
        "unknown contract",
        400,
        "invalid",
        "contract",
        "Unknown contract.",
        "Unbekannter Vertrag.",
        lambda w, c: c(w.manager).post(
            _incident_url(w, "sla/pause/"), {"reason": "Kunde", "contract": 99999}, format="json"
        ),
    ),
    # --- escalation/api/auth.py
    Case(
        "unknown token",
        401,
        "authentication_failed",
        "detail",
        "Invalid or revoked token.",
        "Ungültiges oder widerrufenes Token.",
        lambda w, c: c(HTTP_AUTHORIZATION="Bearer nonsense").get("/api/v1/incidents/"),
    ),
    Case(
        "ingest token reading",
        403,
        "permission_denied",
        "detail",
        "You may not do this.",
        "Das dürfen Sie nicht.",
        lambda w, c: c(**_token(w.manager, "ingest")).get("/api/v1/incidents/"),
    ),
    Case(
        "read token writing",
        403,
        "permission_denied",
        "detail",
        "This token is read-only.",
        "Dieses Token darf nur lesen.",
        lambda w, c: c(**_token(w.manager, "read")).post(
            "/api/v1/incidents/", {"title": "x"}, format="json"
        ),
    ),
    Case(
        "executive writing",
        403,
        "permission_denied",
        "detail",
        "Your role is read-only.",
        "Ihre Rolle darf nur lesen.",
        lambda w, c: c(w.executive).post("/api/v1/incidents/", {"title": "x"}, format="json"),
    ),
    # --- escalation/api/errors.py and config/urls.py
    Case(
        "body too large",
        413,
        "payload_too_large",
        "detail",
        "The request body is too large.",
        "Der Inhalt der Anfrage ist zu groß.",
        _too_large,
    ),
    Case(
        "unknown API path",
        404,
        "not_found",
        "detail",
        "Not found.",
        "Nicht gefunden.",
        lambda w, c: c(w.manager).get("/api/v1/no-such-thing/"),
    ),
    Case(
        "server error",
        500,
        "server_error",
        "detail",
        "Server error.",
        "Serverfehler.",
        _server_error,
    ),
    # --- escalation/api/public.py
    Case(
        "unknown incident for a public incident",
        400,
        "invalid",
        "incidents",
        "Unknown incident: 99999.",
        "Unbekannter Vorfall: 99999.",
        lambda w, c: c(w.manager).post(
            "/api/v1/public-incidents/", {"incidents": [99999]}, format="json"
        ),
    ),
    # --- escalation/api/integrations.py
    Case(
        "group by a name twice",
        400,
        "invalid",
        "group_labels",
        "Each name at most once.",
        "Jeder Name höchstens einmal.",
        lambda w, c: c(w.manager).patch(
            f"/api/v1/integrations/{_integration().pk}/",
            {"group_labels": ["source", "source"]},
            format="json",
        ),
    ),
    Case(
        "executive reading integrations",
        403,
        "permission_denied",
        "detail",
        "Integrations are the team's configuration.",
        "Integrationen gehören zur Konfiguration des Teams.",
        lambda w, c: c(w.executive).get("/api/v1/integrations/"),
    ),
    Case(
        "responder changing grouping rules",
        403,
        "permission_denied",
        "detail",
        "Only escalation managers change grouping rules.",
        "Nur Eskalationsmanager ändern Gruppierungsregeln.",
        lambda w, c: c(w.responder).patch(
            f"/api/v1/integrations/{_integration().pk}/", {"group_window": 5}, format="json"
        ),
    ),
    # --- escalation/api/ingest.py (Alertmanager: the API's own shape)
    Case(
        "unknown Alertmanager key",
        404,
        "not_found",
        "detail",
        "Unknown integration key.",
        "Unbekannter Integrationsschlüssel.",
        lambda w, c: c().post("/api/v1/integrations/alertmanager/nope/", {}, format="json"),
    ),
    Case(
        "not an Alertmanager payload",
        400,
        "invalid",
        "detail",
        "Not an Alertmanager webhook payload.",
        "Das ist keine Alertmanager-Webhook-Nachricht.",
        lambda w, c: c().post(
            f"/api/v1/integrations/alertmanager/{_integration('alertmanager').key}/",
            {"alerts": "none"},
            format="json",
        ),
    ),
    # --- escalation/regulatory/api.py
    Case(
        "customer reading regulatory reporting",
        403,
        "permission_denied",
        "detail",
        "Regulatory reporting is internal.",
        "Meldepflichten sind intern.",
        lambda w, c: c(w.customer_contact).get(_incident_url(w, "reporting/")),
    ),
    Case(
        "responder assessing",
        403,
        "permission_denied",
        "detail",
        "Only escalation managers record regulatory reporting.",
        "Nur Eskalationsmanager bearbeiten die Meldepflichten.",
        lambda w, c: c(w.responder).post(_incident_url(w, "reporting/assess/"), {}, format="json"),
    ),
    # --- escalation/continuity/api.py
    Case(
        "responder creating a process",
        403,
        "permission_denied",
        "detail",
        "Only escalation managers change business continuity.",
        "Nur Eskalationsmanager ändern das Business-Continuity-Management.",
        lambda w, c: c(w.responder).post("/api/v1/processes/", _process(["portal"]), format="json"),
    ),
    Case(
        "customer reading runbooks",
        403,
        "permission_denied",
        "detail",
        "Runbooks are the team's instructions.",
        "Runbooks sind die Anleitungen des Teams.",
        lambda w, c: c(w.customer_contact).get("/api/v1/runbooks/"),
    ),
    Case(
        "objectives not an object",
        400,
        "invalid",
        "objectives",
        'An object: {"1": {"rto": 30, "mtpd": 120}}.',
        'Ein Objekt: {"1": {"rto": 30, "mtpd": 120}}.',
        lambda w, c: c(w.manager).post(
            "/api/v1/processes/", _process(["portal"], objectives=[1]), format="json"
        ),
    ),
    Case(
        "process slug taken",
        400,
        "invalid",
        "slug",
        "A process with this slug exists.",
        "Einen Geschäftsprozess mit diesem Kurznamen gibt es bereits.",
        _process_slug_taken,
    ),
    Case(
        "MTPD shorter than RTO",
        400,
        "invalid",
        "mtpd_minutes",
        "The MTPD cannot be shorter than the RTO.",
        "Die MTPD kann nicht kürzer sein als die RTO.",
        lambda w, c: c(w.manager).post(
            "/api/v1/processes/", _process(["portal"], mtpd_minutes=10), format="json"
        ),
    ),
    Case(
        "process on no service",
        400,
        "invalid",
        "services",
        "Name at least one service the process depends on.",
        "Nennen Sie mindestens einen Dienst, von dem der Prozess abhängt.",
        lambda w, c: c(w.manager).post("/api/v1/processes/", _process([]), format="json"),
    ),
    Case(
        "runbook for nothing",
        400,
        "invalid",
        "process",
        "Name the process or the service the runbook is for.",
        "Nennen Sie den Prozess oder den Dienst, für den das Runbook gilt.",
        lambda w, c: c(w.manager).post("/api/v1/runbooks/", RUNBOOK, format="json"),
    ),
    Case(
        "workaround without runbook or text",
        400,
        "invalid",
        "workaround",
        "Give a runbook id, or describe the workaround.",
        "Geben Sie eine Runbook-ID an oder beschreiben Sie den Workaround.",
        lambda w, c: c(w.manager).post(_incident_url(w, "workaround/"), {}, format="json"),
    ),
    Case(
        "workaround with an unknown runbook",
        400,
        "invalid",
        "runbook",
        "No such active runbook.",
        "Ein aktives Runbook mit dieser ID gibt es nicht.",
        lambda w, c: c(w.manager).post(
            _incident_url(w, "workaround/"), {"runbook": 99999}, format="json"
        ),
    ),
    # --- escalation/reviews/api.py
    Case(
        "no review yet",
        404,
        "not_found",
        "detail",
        "This incident has no review yet.",
        "Dieser Vorfall hat noch keine Nachbetrachtung.",
        lambda w, c: c(w.manager).get(_incident_url(w, "review/")),
    ),
    Case(
        "check before the due date",
        400,
        "invalid",
        "check_on",
        "The effectiveness check comes after the due date.",
        "Die Wirksamkeitsprüfung liegt nach dem Fälligkeitsdatum.",
        lambda w, c: c(w.manager).post(
            "/api/v1/actions/",
            {
                "incident": w.incident.pk,
                "title": "Netzteile",
                "kind": "corrective",
                "owner": w.manager.username,
                "due_on": "2030-01-10",
                "check_on": "2030-01-01",
            },
            format="json",
        ),
    ),
    Case(
        "unknown action state",
        400,
        "invalid",
        "state",
        "Unknown state.",
        "Unbekannter Status.",
        lambda w, c: c(w.manager).get("/api/v1/actions/?state=nonsense"),
    ),
    Case(
        "verdict without a verdict",
        400,
        "invalid",
        "effective",
        "This field is required.",
        "Dieses Feld ist zwingend erforderlich.",  # DRF's own translation
        lambda w, c: c(w.manager).post(
            f"/api/v1/actions/{_action(w).pk}/verdict/", {"note": "geprüft"}, format="json"
        ),
    ),
    # --- escalation/maintenance/api.py
    Case(
        "maintenance ending before it starts",
        400,
        "invalid",
        "ends_at",
        "The end must be after the start.",
        "Das Ende muss nach dem Beginn liegen.",
        lambda w, c: c(w.manager).post(
            "/api/v1/maintenances/",
            _maintenance(services=["portal"], ends_at="2030-01-01T09:00Z"),
            format="json",
        ),
    ),
    Case(
        "maintenance on no service",
        400,
        "invalid",
        "services",
        "Name at least one service or service group.",
        "Nennen Sie mindestens einen Dienst oder eine Dienstgruppe.",
        lambda w, c: c(w.manager).post("/api/v1/maintenances/", _maintenance(), format="json"),
    ),
    Case(
        "responder planning maintenance",
        403,
        "permission_denied",
        "detail",
        "Only escalation managers plan maintenance.",
        "Nur Eskalationsmanager planen Wartungen.",
        lambda w, c: c(w.responder).post(
            "/api/v1/maintenances/", _maintenance(services=["portal"]), format="json"
        ),
    ),
    # --- escalation/problems/api.py
    Case(
        "unknown fishbone category",
        400,
        "invalid",
        "root_cause",
        "Unknown categories: Wetter.",
        "Unbekannte Kategorien: Wetter.",
        lambda w, c: c(w.manager).post(
            "/api/v1/problems/",
            {"statement": "x", "root_cause": {"categories": {"Wetter": ["Regen"]}}},
            format="json",
        ),
    ),
    Case(
        "too many alert labels",
        400,
        "invalid",
        "alert_labels",
        "At most 30 labels.",
        "Höchstens 30 Labels.",
        lambda w, c: c(w.manager).post(
            "/api/v1/problems/",
            {"statement": "x", "alert_labels": {f"l{i}": "v" for i in range(31)}},
            format="json",
        ),
    ),
    Case(
        "customer reading problems",
        403,
        "permission_denied",
        "detail",
        "Problems are the team's and executives' to read.",
        "Probleme lesen nur das Team und die Geschäftsleitung.",
        lambda w, c: c(w.customer_contact).get("/api/v1/problems/"),
    ),
    Case(
        "problem from unknown incidents",
        400,
        "invalid",
        "incidents",
        "Unknown incidents, or incidents you do not work on.",
        "Unbekannte Störungen oder Störungen, an denen Sie nicht arbeiten.",
        lambda w, c: c(w.manager).post(
            "/api/v1/problems/", {"statement": "x", "incidents": [99999]}, format="json"
        ),
    ),
    Case(
        "incidents in a problem patch",
        400,
        "invalid",
        "incidents",
        "Link and unlink incidents through link/ and unlink/.",
        "Störungen verknüpfen Sie über link/ und lösen sie über unlink/.",
        _problem,
    ),
]


def _client_for(language: str | None):
    def client(user=None, **credentials) -> APIClient:
        api = APIClient(**({"HTTP_ACCEPT_LANGUAGE": language} if language else {}))
        if user is not None:
            api.force_authenticate(user)
        if credentials:
            api.credentials(**credentials)
        return api

    return client


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_error_message_in_the_clients_language(world, case, language):
    response = case.call(world, _client_for(None if language == "en" else language))
    assert response.status_code == case.status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}, body
    assert body["code"] == case.code
    expected = case.en if language == "en" else case.de
    if case.where == "detail":
        assert body["detail"] == expected
    else:
        assert body["detail"] == INVALID[language]
        assert body["errors"][case.where] == [expected]


def test_a_text_field_refuses_bare_whitespace_in_the_readers_language():
    """(Text trims by default, so through the API DRF's own "may not be blank" comes first.)"""
    field = Text(trim_whitespace=False)
    for language, text in (("en", "Must not be blank."), ("de", "Darf nicht leer sein.")):
        with translation.override(language), pytest.raises(serializers.ValidationError) as refused:
            field.run_validation(" \t")
        assert refused.value.detail == [text]


@pytest.mark.parametrize("language", [None, "de"])
def test_a_change_event_field_error_is_translated_but_pagerdutys_wording_is_not(language):
    integration = _integration()
    response = _client_for(language)().post(
        "/api/v1/integrations/events/v2/change/enqueue",
        {"routing_key": integration.key, "payload": {"summary": "Deploy", "timestamp": "gestern"}},
        format="json",
    )
    assert response.status_code == 400
    field_error = {None: "An ISO 8601 date and time.", "de": "Ein Datum mit Uhrzeit nach ISO 8601."}
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": [f"payload.timestamp: {field_error[language]}"],
    }


def test_events_api_v2_keeps_pagerdutys_english_for_a_german_client():
    client = _client_for("de")()
    url = "/api/v1/integrations/events/v2/enqueue"
    not_json = client.post(url, "{", content_type="application/json")
    assert not_json.json()["message"] == "Event object is invalid"
    unknown = client.post(
        url,
        {"routing_key": "nope", "event_action": "resolve", "dedup_key": "k"},
        format="json",
    )
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "Invalid routing key"
    assert unknown.json()["errors"] == ["routing_key: unknown or inactive integration key"]


@pytest.mark.parametrize("language", [None, "de"])
def test_json_parse_errors_read_as_drfs_own_in_every_language(manager, language):
    """DRF does not translate "JSON parse error - <Python's reason>" (German clients get it in
    English too); the too-deeply-nested refusal reads the same way."""
    client = _client_for(language)(manager)
    broken = client.post("/api/v1/incidents/", "{not json", content_type="application/json")
    deep = client.post("/api/v1/incidents/", b"[" * 100_000, content_type="application/json")
    for response in (broken, deep):
        assert response.status_code == 400
        body = response.json()
        assert set(body) == {"code", "detail", "errors"} and body["code"] == "parse_error"
        assert body["detail"].startswith("JSON parse error - ")
    assert deep.json()["detail"] == "JSON parse error - nested too deeply"
