"""The API's contract as a generated client sees it: the Idempotency-Key header and its 422 are
declared where the API takes them, and the API (messages and schema) speaks English unless the
client asks for German."""

import json

import pytest
from django.test import Client

from incidents.services import api_token_create

pytestmark = pytest.mark.django_db
REQUIRED_DE = "Dieses Feld ist zwingend erforderlich."

IDEMPOTENT_POSTS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/{id}/updates/",
    "/api/v1/incidents/{id}/escalate/",
    "/api/v1/incidents/{id}/resolve/",
]


def _schema(headers=None) -> dict:
    response = Client(headers=headers or {}).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.parametrize("path", IDEMPOTENT_POSTS)
def test_idempotency_key_header_and_its_422_are_declared(path):
    operation = _schema()["paths"][path]["post"]
    headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
    assert [(p["name"], p.get("required", False)) for p in headers] == [("Idempotency-Key", False)]
    assert "422" in operation["responses"]
    body = operation["responses"]["422"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Error"}


def test_a_reused_key_gets_the_declared_422(manager):
    token = api_token_create(user=manager, scope="write")[1]
    client = Client(headers={"authorization": f"Bearer {token}", "idempotency-key": "k-1"})
    first = client.post("/api/v1/incidents/", {"title": "A"}, content_type="application/json")
    again = client.post("/api/v1/incidents/", {"title": "A"}, content_type="application/json")
    other = client.post("/api/v1/incidents/", {"title": "B"}, content_type="application/json")
    assert first.status_code == 201 and again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert other.status_code == 422
    assert set(other.json()) == {"code", "detail", "errors"}
    assert other.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("headers", "cookie", "language", "message"),
    [
        ({}, None, "en", "This field is required."),
        ({}, "de", "en", "This field is required."),  # a browser's cookie is not the API's
        ({"accept-language": "de-DE,de;q=0.9"}, None, "de", REQUIRED_DE),
        ({"accept-language": "fr, de;q=0.5"}, None, "de", REQUIRED_DE),
        ({"accept-language": "fr"}, "de", "en", "This field is required."),
        ({"accept-language": "en"}, None, "en", "This field is required."),
    ],
)
def test_api_messages_are_english_unless_the_client_asks_for_german(
    settings, manager, headers, cookie, language, message
):
    settings.LANGUAGE_CODE = "de"  # the site's default, as shipped
    token = api_token_create(user=manager, scope="write")[1]
    client = Client(headers={"authorization": f"Bearer {token}", **headers})
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.post("/api/v1/incidents/", {}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]["title"] == [message]
    assert response["Content-Language"] == language


def test_schema_is_english_unless_german_is_asked_for(settings):
    settings.LANGUAGE_CODE = "de"
    english = _schema()
    assert english == _schema({"accept-language": "en"})
    german = json.dumps(_schema({"accept-language": "de"}), ensure_ascii=False)
    assert json.dumps(english, ensure_ascii=False) != german


def test_pages_outside_the_api_keep_the_site_language(settings, client):
    settings.LANGUAGE_CODE = "de"
    assert client.get("/accounts/login/")["Content-Language"] == "de"


def test_field_descriptions_are_written_for_clients():
    """No internal docstring and no "Required." for the optional commander (it was Django's help
    text of User.username)."""
    schemas = _schema()["components"]["schemas"]
    for name in ("Incident", "IncidentCreate", "PatchedIncidentPatch"):
        commander = schemas[name]["properties"]["commander"]
        assert commander["description"].startswith("Username of the incident commander; optional")
        if name != "Incident":  # the answer always carries it (null for none)
            assert "commander" not in schemas[name].get("required", [])
    description = schemas["Incident"]["properties"]["allowed_actions"]["description"]
    assert "to_representation" not in description and "caller may take now" in description


API_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After",
               "Idempotent-Replayed")  # fmt: skip


def test_every_operation_declares_the_outage_the_rate_limit_and_the_replay():
    for path, operations in _schema()["paths"].items():
        if path == "/api/v1/schema/":
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert "Retry-After" in responses["503"]["headers"], where
            if "429" in responses:
                assert set(API_HEADERS[:4]) <= set(responses["429"]["headers"]), where
                assert "RateLimit-Limit" in responses[min(responses)]["headers"], where
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            for code in (c for c in responses if c.startswith("2")):
                replay = "Idempotent-Replayed" in responses[code].get("headers", {})
                assert replay == ("Idempotency-Key" in names), where
            assert "<" not in operation.get("description", ""), where  # no docstring of ours


def test_what_the_api_really_answers_is_declared(manager, monkeypatch):
    from escalation.api.throttling import TokenRateThrottle

    """Real answers (created, replayed, refused, not allowed now, unknown, unauthenticated,
    throttled): each status code, and each of our headers it carries, is in the schema."""
    operations = _schema()["paths"]
    token = api_token_create(user=manager, scope="write")[1]
    auth = {"authorization": f"Bearer {token}"}
    seen = []

    def call(method, path, template, headers=None, body=None):
        client = Client(headers={**auth, **(headers or {})})
        response = getattr(client, method)(path, body or {}, content_type="application/json")
        seen.append((method, template, response))
        return response

    created = call("post", "/api/v1/incidents/", "/api/v1/incidents/", {"idempotency-key": "a"},
                   {"title": "A"})  # fmt: skip
    call(
        "post", "/api/v1/incidents/", "/api/v1/incidents/", {"idempotency-key": "a"}, {"title": "A"}
    )
    call(
        "post", "/api/v1/incidents/", "/api/v1/incidents/", {"idempotency-key": "a"}, {"title": "B"}
    )
    call("post", "/api/v1/incidents/", "/api/v1/incidents/", body={})
    pk = created.json()["id"]
    call("post", f"/api/v1/incidents/{pk}/close/", "/api/v1/incidents/{id}/close/")
    call("get", "/api/v1/incidents/999999/", "/api/v1/incidents/{id}/")
    call("get", "/api/v1/incidents/", "/api/v1/incidents/", {"authorization": "Bearer nope"})
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"user": "1/min"})
    fresh = {"authorization": f"Bearer {api_token_create(user=manager, scope='read')[1]}"}
    for _ in range(2):  # a new token's one request in this window, then 429
        call("get", "/api/v1/oncall/", "/api/v1/oncall/", fresh)
    statuses = sorted({response.status_code for *_, response in seen})
    assert statuses == [200, 201, 400, 401, 404, 409, 422, 429]
    for method, template, response in seen:
        declared = operations[template][method]["responses"][str(response.status_code)]
        ours = {h for h in API_HEADERS if h in response}
        assert ours <= set(declared.get("headers", {})), (method, template, response.status_code)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/incidents/", {"title": "Portal down", "servcies": ["portal"]}),
        ("/api/v1/problems/", {"statement": "Disk fills up", "errors": {"services": "0"}}),
    ],
)
def test_a_field_the_schema_does_not_name_is_refused_not_dropped(manager, url, body):
    """A typo ("servcies") would otherwise create an incident on no service, silently."""
    from rest_framework.test import APIClient

    from incidents.models import Incident

    client = APIClient()
    client.force_authenticate(manager)
    answer = client.post(url, body, format="json")
    assert answer.status_code == 400
    unknown = next(name for name in body if name not in ("title", "statement"))
    assert answer.json()["code"] == "invalid"
    assert answer.json()["errors"] == {unknown: ["Unknown field."]}
    assert not Incident.objects.exists()
