"""REST API v1: tokens and roles, every endpoint, the one error shape, idempotency, ingestion."""

import io
import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from escalation.models import Integration
from escalation.services.clocks import clocks_tick
from escalation.services.integrations import integration_create
from incidents.models import ApiToken, Incident, IncidentEvent, State
from incidents.services import api_token_create, api_token_revoke, update_post
from tests.factories import IncidentFactory, ServiceFactory, drive, review_approved

pytestmark = pytest.mark.django_db


def api(user=None, scope="write"):
    client = APIClient()
    if user is not None:
        _, key = api_token_create(user=user, scope=scope)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def error_shape(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"code", "detail", "errors"}
    if code:
        assert body["code"] == code
    return body


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


# --- tokens -------------------------------------------------------------------------------------


def test_create_api_token_prints_it_once_and_stores_only_a_hash(manager):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_token",
        "mara.manager",
        "--scope",
        "write",
        "--name",
        "CI",
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert (
        key.startswith("em_") and token.key_hash == ApiToken.hash(key) and key not in err.getvalue()
    )
    assert not ApiToken.objects.filter(key_hash=key).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/incidents/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_unknown_and_revoked_tokens_are_401(manager):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer em_nope")
    error_shape(client.get("/api/v1/incidents/"), 401)
    token, key = api_token_create(user=manager, scope="read")
    api_token_revoke(token=token)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    error_shape(client.get("/api/v1/incidents/"), 401)
    error_shape(APIClient().get("/api/v1/incidents/"), 401)


def test_read_token_cannot_write(manager):
    error_shape(api(manager, "read").post("/api/v1/incidents/", {"title": "x"}, format="json"), 403)


def test_executive_is_read_only_even_with_a_write_token(executive, manager):
    incident = IncidentFactory()
    client = api(executive, "write")
    assert client.get(f"/api/v1/incidents/{incident.pk}/").status_code == 200
    error_shape(client.post("/api/v1/incidents/", {"title": "x"}, format="json"), 403)
    error_shape(
        client.post(f"/api/v1/incidents/{incident.pk}/acknowledge/", {}, format="json"), 403
    )
    error_shape(
        client.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "y"}, format="json"), 403
    )


def test_ingest_token_only_ingests(manager):
    error_shape(api(manager, "ingest").get("/api/v1/incidents/"), 403)


def test_customer_sees_only_its_organisation(customer_contact, customer, other_customer):
    from escalation.services.public import public_incident_publish

    mine = IncidentFactory(customers=[customer], title="INTERN Logistik Süd meldet Portal")
    IncidentFactory(customers=[customer], title="Unveröffentlicht")
    theirs = IncidentFactory(customers=[other_customer], title="Fremdes Portal")
    update_post(incident=mine, actor=None, audience="internal", body="intern: DB failover")
    public_incident_publish(
        actor=None, incidents=[mine], title="Unser Portal", body="Wir arbeiten daran"
    )
    public_incident_publish(actor=None, incidents=[theirs], title="Fremd")
    client = api(customer_contact, "read")
    listed = client.get("/api/v1/incidents/").json()["results"]
    assert [i["title"] for i in listed] == ["Unser Portal"]  # the public face only
    assert listed[0]["status"] == "investigating" and "state" not in listed[0]
    for internal in ("state=detected", "priority=1"):  # not even as a filter
        error_shape(client.get(f"/api/v1/incidents/?{internal}"), 400)
    assert "dedup_key" not in listed[0] and "description" not in listed[0]
    error_shape(client.get(f"/api/v1/incidents/{theirs.pk}/"), 404)
    error_shape(client.get(f"/api/v1/incidents/{theirs.pk}/updates/"), 404)
    error_shape(client.get(f"/api/v1/incidents/{mine.pk}/timeline/"), 404)
    updates = client.get(f"/api/v1/incidents/{mine.pk}/updates/").json()
    assert [u["body"] for u in updates] == ["Wir arbeiten daran"]
    assert [c["slug"] for c in client.get("/api/v1/customers/").json()] == [customer.slug]
    error_shape(client.post("/api/v1/incidents/", {"title": "x"}, format="json"), 403)


# --- incidents ----------------------------------------------------------------------------------


def test_create_classify_and_drive_through_the_lifecycle(manager):
    service = ServiceFactory(slug="portal")
    client = api(manager)
    created = client.post(
        "/api/v1/incidents/",
        {"title": "Portal langsam", "services": ["portal"], "impact": "low", "urgency": "low"},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (
        body["state"] == "classified" and body["priority"] == 5 and body["services"] == ["portal"]
    )
    assert "escalate" in body["allowed_actions"]
    pk = body["id"]
    steps = [
        ("escalate", {"reason": "Großkunde"}, "escalated"),
        ("acknowledge", {}, "escalated"),
        ("workaround", {"workaround": "Zweitsystem"}, "workaround"),
        ("resolve", {"resolution": "Fix deployed"}, "resolved"),
        ("close", {"review": "Review done"}, "closed"),
    ]
    for action, data, state in steps:
        if action == "close":
            review_approved(Incident.objects.get(pk=pk))
        response = client.post(f"/api/v1/incidents/{pk}/{action}/", data, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["state"] == state
    ack = IncidentEvent.objects.get(incident_id=pk, kind="acknowledged")
    assert ack.data == {"via": "api"} and ack.actor == manager
    assert Incident.objects.get(pk=pk).source == "api" and service.incidents.count() == 1


def test_illegal_transition_is_409_naming_state_and_allowed(manager):
    incident = IncidentFactory()
    response = api(manager).post(f"/api/v1/incidents/{incident.pk}/close/", {}, format="json")
    body = error_shape(response, 409, "transition_not_allowed")
    assert body["current_state"] == "detected"
    assert body["allowed_transitions"] == ["acknowledge", "classify", "resolve"]
    assert Incident.objects.get(pk=incident.pk).state == State.DETECTED


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("classify", {"impact": "huge", "urgency": "high"}, "impact"),
        ("escalate", {}, "reason"),
        ("resolve", {"resolution": ""}, "resolution"),
        ("reopen", {"reason": ""}, "reason"),
    ],
)
def test_bad_action_input_is_400_with_field_errors(manager, action, data, field):
    incident = drive(IncidentFactory(), State.CLASSIFIED)
    body = error_shape(
        api(manager).post(f"/api/v1/incidents/{incident.pk}/{action}/", data, format="json"),
        400,
        "invalid",
    )
    assert field in body["errors"]


def test_patch_changes_descriptive_fields_only(manager):
    incident = IncidentFactory(title="Alt")
    client = api(manager)
    body = error_shape(
        client.patch(f"/api/v1/incidents/{incident.pk}/", {"state": "closed"}, format="json"),
        400,
        "invalid",
    )
    assert "action endpoints" in body["errors"]["state"][0]
    response = client.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "Neu"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Neu"
    assert IncidentEvent.objects.filter(incident=incident, kind="changed").count() == 1


def test_filters_and_cursor_pagination(manager, django_assert_max_num_queries):
    for i in range(7):
        IncidentFactory(title=f"I{i}")
    drive(IncidentFactory(title="Eskaliert"), State.ESCALATED)
    client = api(manager)
    with django_assert_max_num_queries(12):
        page = client.get("/api/v1/incidents/?page_size=3").json()
    assert len(page["results"]) == 3 and page["next"]
    seen = [i["title"] for i in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [i["title"] for i in page["results"]]
    assert len(seen) == 8 and len(set(seen)) == 8
    escalated = client.get("/api/v1/incidents/?state=escalated").json()["results"]
    assert [i["title"] for i in escalated] == ["Eskaliert"]
    error_shape(client.get("/api/v1/incidents/?updated_since=yesterday"), 400)
    error_shape(client.get("/api/v1/incidents/?priority=high"), 400)


def test_timeline_and_updates(manager, customer, customer_contact):
    incident = drive(IncidentFactory(customers=[customer]), State.CLASSIFIED)
    client = api(manager)
    timeline = client.get(f"/api/v1/incidents/{incident.pk}/timeline/").json()
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    customer_update = {"audience": "customer", "body": "Update für Kunden"}
    refused = client.post(
        f"/api/v1/incidents/{incident.pk}/updates/", customer_update, format="json"
    )
    error_shape(refused, 409)
    assert refused.json()["code"] == "no_public_face"
    assert "/api/v1/public-incidents/" in refused.json()["detail"]
    assert not incident.updates.exists()
    from escalation.services.public import public_incident_publish

    public_incident_publish(actor=manager, incidents=[incident], title="Portal gestört")
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/updates/",
        {"audience": "customer", "body": "Update für Kunden"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["audience"] == "customer"
    error_shape(
        client.post(
            f"/api/v1/incidents/{incident.pk}/updates/",
            {"audience": "everyone", "body": "x"},
            format="json",
        ),
        400,
    )


def test_not_found_unsupported_media_type_and_too_large(manager, settings):
    client = api(manager)
    error_shape(client.get("/api/v1/incidents/999999/"), 404)
    error_shape(
        client.post(
            "/api/v1/incidents/", "title=x", content_type="application/x-www-form-urlencoded"
        ),
        415,
    )
    error_shape(
        client.post("/api/v1/incidents/", "{not json", content_type="application/json"), 400
    )
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = json.dumps({"title": "x", "description": "y" * 5000})
    error_shape(client.post("/api/v1/incidents/", big, content_type="application/json"), 413)


def test_rate_limit_is_429_with_retry_after_and_ratelimit_headers(manager, monkeypatch):
    from escalation.api.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    client = api(manager)
    for left in ("2", "1", "0"):
        response = client.get("/api/v1/services/")
        assert response.status_code == 200
        assert (response["RateLimit-Limit"], response["RateLimit-Remaining"]) == ("3", left)
        assert 1 <= int(response["RateLimit-Reset"]) <= 60
    response = client.get("/api/v1/services/")
    error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0 and response["RateLimit-Remaining"] == "0"
    assert response["RateLimit-Reset"] == response["Retry-After"]
    assert response["RateLimit-Limit"] == "3"
    # The limit is per token: the same user's other token has its own.
    assert api(manager).get("/api/v1/services/").status_code == 200


def test_idempotency_key_replays_the_first_answer(manager):
    client = api(manager)
    first = client.post(
        "/api/v1/incidents/", {"title": "Einmal"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    again = client.post(
        "/api/v1/incidents/", {"title": "Einmal"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert Incident.objects.filter(title="Einmal").count() == 1
    other = client.post(
        "/api/v1/incidents/", {"title": "Anders"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_reference_lists_and_schema(manager):
    ServiceFactory(slug="portal")
    client = api(manager)
    assert [s["slug"] for s in client.get("/api/v1/services/").json()] == ["portal"]
    schema = APIClient().get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/incidents/{id}/escalate/" in paths
    assert "409" in paths["/api/v1/incidents/{id}/escalate/"]["post"]["responses"]
    assert "/api/v1/integrations/events/v2/enqueue" in paths
    assert APIClient().get("/api/v1/docs/").status_code == 200


# --- ingestion ----------------------------------------------------------------------------------


@pytest.fixture
def events_key(db):
    service = ServiceFactory(slug="zahlungen")
    return integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Zabbix").key


def enqueue(body):
    return APIClient().post("/api/v1/integrations/events/v2/enqueue", body, format="json")


def test_events_v2_trigger_repeat_ack_resolve(events_key, manager):
    trigger = {
        "routing_key": events_key,
        "event_action": "trigger",
        "dedup_key": "db-1",
        "payload": {"summary": "DB down", "source": "db01", "severity": "critical"},
    }
    response = enqueue(trigger)
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "db-1",
    }
    incident = Incident.objects.get(dedup_key="db-1")
    assert incident.source == "events_v2" and incident.state == "detected"  # stored at once
    clocks_tick()  # the worker's tick, queued at commit, classifies it
    incident.refresh_from_db()
    assert incident.priority == 1 and incident.state == "escalated"  # the P1 rule escalated it
    assert enqueue(trigger).status_code == 202
    incident.refresh_from_db()
    assert incident.alert_count == 2 and Incident.objects.filter(dedup_key="db-1").count() == 1
    assert (
        enqueue(
            {"routing_key": events_key, "event_action": "acknowledge", "dedup_key": "db-1"}
        ).status_code
        == 202
    )
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
    # the timeline says where the acknowledgement came from
    assert incident.events.get(kind="acknowledged").data == {"via": "events_v2"}
    assert (
        enqueue(
            {"routing_key": events_key, "event_action": "resolve", "dedup_key": "db-1"}
        ).status_code
        == 202
    )
    incident.refresh_from_db()
    assert incident.state == "resolved"
    # A new trigger with the same key after resolution opens a new incident.
    enqueue(trigger)
    assert Incident.objects.filter(dedup_key="db-1").count() == 2


def test_events_v2_generates_a_dedup_key(events_key):
    response = enqueue(
        {
            "routing_key": events_key,
            "event_action": "trigger",
            "payload": {"summary": "x", "source": "y", "severity": "info"},
        }
    )
    key = response.json()["dedup_key"]
    clocks_tick()
    assert len(key) == 32 and Incident.objects.get(dedup_key=key).priority == 5


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"event_action": "trigger"},
        [1, 2],
        {
            "routing_key": "x" * 32,
            "event_action": "trigger",
            "payload": {"summary": "s", "source": "s", "severity": "critical"},
        },
        {"event_action": "explode"},
    ],
)
def test_events_v2_invalid_event(events_key, body):
    if isinstance(body, dict) and "routing_key" not in body and body:
        body = {**body, "routing_key": events_key}
    response = enqueue(body)
    assert response.status_code == 400
    data = response.json()
    assert data["status"] == "invalid event" and data["errors"] and data["message"]
    assert not Incident.objects.exists()


def test_create_integration_command_prints_the_key(db):
    ServiceFactory(slug="portal")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_integration",
        "--kind",
        "alertmanager",
        "--service",
        "portal",
        stdout=out,
        stderr=err,
    )
    key = out.getvalue().strip()
    assert Integration.objects.get(key=key).kind == "alertmanager"
    assert f"/api/v1/integrations/alertmanager/{key}/" in err.getvalue()


def test_unmatched_api_paths_answer_json(manager):
    body = error_shape(api(manager).get("/api/v1/incidents/not-a-number/"), 404, "not_found")
    assert body["detail"]


@pytest.mark.parametrize("title", [0, True, ["x"], "   ", ""])
def test_title_must_be_real_text(manager, title):
    error_shape(api(manager).post("/api/v1/incidents/", {"title": title}, format="json"), 400)


def test_events_v2_not_json_keeps_pagerdutys_shape(events_key):
    response = APIClient().post(
        "/api/v1/integrations/events/v2/enqueue", "{oops", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["status"] == "invalid event"


def test_empty_updated_since_is_an_error(manager):
    error_shape(api(manager).get("/api/v1/incidents/?updated_since="), 400)


def test_hand_built_incident_representation_equals_drfs(manager):
    """The fast to_representation must say exactly what the declared fields would."""
    from rest_framework import serializers as drf
    from rest_framework.test import APIRequestFactory

    from escalation.api.serializers import IncidentSerializer

    service = ServiceFactory(slug="portal")
    incident = drive(IncidentFactory(services=[service], commander=manager), State.WORKAROUND)
    request = APIRequestFactory().get("/")
    request.user = manager
    serializer = IncidentSerializer(incident, context={"request": request})
    generic = drf.ModelSerializer.to_representation(serializer, incident)
    assert serializer.data == generic


@pytest.mark.parametrize("who", ["manager", "customer_contact"])
def test_a_list_page_says_what_each_incidents_own_page_says(request, who, customer):
    """The list is built from rows (values()), the detail from the incident: the same answer,
    allowed actions included, in every state and acknowledgement."""
    from django.utils import timezone

    from escalation.services import incident_acknowledge

    person = request.getfixturevalue(who)
    manager = request.getfixturevalue("manager")
    service = ServiceFactory(slug="portal")
    incidents = [
        drive(IncidentFactory(services=[service], customers=[customer]), state, actor=manager)
        for state in (State.DETECTED, State.CLASSIFIED, State.ESCALATED, State.WORKAROUND)
    ]
    incident_acknowledge(incident=incidents[2], actor=manager)
    paging = drive(IncidentFactory(services=[service], customers=[customer]), State.ESCALATED)
    Incident.objects.filter(pk=paging.pk).update(
        acknowledged_at=timezone.now(), paging_since=timezone.now(), commander=manager
    )
    from escalation.services.public import public_incident_publish

    for n, incident in enumerate([*incidents, paging]):  # customers read published ones
        public_incident_publish(actor=manager, incidents=[incident], title=f"Störung {n}")
    client = api(person, "read")
    listed = client.get("/api/v1/incidents/").json()["results"]
    assert len(listed) == 5
    if who == "manager":  # several sets of actions among them
        assert len({tuple(item["allowed_actions"]) for item in listed}) >= 4
    else:  # customers are told no actions
        assert not any("allowed_actions" in item for item in listed)
    for item in listed:
        assert item == client.get(f"/api/v1/incidents/{item['id']}/").json()
    # Both pages compute the actions from workflow.ACTION_FIELDS alone: the full incident must
    # allow exactly the same (a transition condition reading another field would break this).
    from escalation.api.serializers import IncidentSerializer
    from escalation.services.workflow import ACTION_FIELDS, allowed_actions

    assert set(ACTION_FIELDS) <= set(IncidentSerializer.COLUMNS)
    for full in Incident.objects.all():
        reduced = Incident(**{name: getattr(full, name) for name in ACTION_FIELDS})
        assert allowed_actions(full, manager) == allowed_actions(reduced, manager), full.state


@pytest.mark.parametrize("who", ["manager", "customer_contact"])
def test_list_query_count_does_not_grow_with_the_page(
    request, who, customer, django_assert_max_num_queries
):
    person = request.getfixturevalue(who)
    service = ServiceFactory(slug="portal")
    from escalation.services.public import public_incident_publish

    for i in range(30):
        incident = IncidentFactory(title=f"I{i}", services=[service], customers=[customer])
        public_incident_publish(actor=None, incidents=[incident])
    client = api(person, "read")
    # token + its user's groups (+ its first use), the page, its slugs, (staff) permissions;
    # customers: the page and its public faces (their updates, services, incidents), names
    with django_assert_max_num_queries(7 if who == "manager" else 14):
        page = client.get("/api/v1/incidents/?page_size=30").json()
    assert len(page["results"]) == 30
    assert page["results"][0]["services"] == ["portal" if who == "manager" else service.name]


def test_alertmanager_with_the_key_as_bearer_token(db):
    service = ServiceFactory(slug="netz")
    key = integration_create(kind=Integration.Kind.ALERTMANAGER, service=service, name="AM").key
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "LinkDown", "severity": "critical"},
                "annotations": {"summary": "Uplink down"},
                "fingerprint": "abc123",
            }
        ],
    }
    url = "/api/v1/integrations/alertmanager/"
    assert APIClient().post(url, payload, format="json").status_code == 404
    wrong = APIClient().post(url, payload, format="json", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    ok = APIClient().post(url, payload, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert ok.status_code == 200
    assert Incident.objects.get(dedup_key="am:abc123").title == "Uplink down"


def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3")


def test_api_create_with_a_refused_classification_creates_nothing(manager):
    from escalation.models import PriorityMatrixEntry

    PriorityMatrixEntry.objects.filter(impact="high", urgency="high").delete()
    response = api(manager).post(
        "/api/v1/incidents/", {"title": "Halb", "impact": "high", "urgency": "high"}, format="json"
    )
    error_shape(response, 400)
    assert not Incident.objects.filter(title="Halb").exists()


def test_an_unknown_slug_in_a_list_is_a_plain_message(manager):
    client = api(manager)
    response = client.post(
        "/api/v1/incidents/",
        {"title": "Zahlungen", "services": ["gibt-es-nicht"]},
        format="json",
    )
    body = error_shape(response, 400)
    (message,) = body["errors"]["services"]
    assert "gibt-es-nicht" in message and "ErrorDetail" not in message and "{" not in message
