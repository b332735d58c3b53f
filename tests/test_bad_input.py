"""Bad input in URLs, query strings and forms of every surface gets a clear 4xx (or is ignored),
never a 500: ids beyond any integer column, NUL bytes (PostgreSQL refuses them in a string),
malformed months, windows and languages. CI runs it on both databases."""

import pytest

pytestmark = pytest.mark.django_db

BIG = "99999999999999999999999"
NUL = "%00"
AUDIENCES = ["manager", "executive", "customer_contact"]

BY_ID = [
    "/console/incidents/{}/",
    "/console/incidents/{}/communication/",
    "/portal/incidents/{}/",
    "/portal/incidents/{}/notice/",
    "/portal/incidents/{}/notice.pdf",
    "/api/v1/incidents/{}/",
    "/api/v1/incidents/{}/sla/",
    "/api/v1/customers/{}/exposure/",
    "/api/v1/incidents/{}/timeline/",
    "/console/reporting/incidents/{}/",
    "/console/reporting/reports/{}/",
    "/console/reporting/reports/{}/pdf/",
    "/api/v1/incidents/{}/reporting/",
    "/console/incidents/{}/review/",
    "/console/incidents/{}/review.pdf",
    "/api/v1/incidents/{}/review/",
    "/console/actions/{}/",
    "/api/v1/actions/{}/",
    "/api/v1/integrations/{}/",
    "/console/integrations/{}/",
]
MALFORMED = [
    "/console/reports/x/2026-13/",
    "/console/reports/x/abcd/",
    "/console/reports/?customer=zz&month=2026-99",
    "/console/reports/?customer=&month=",
    "/dashboard/?days=abc",
    "/dashboard/live/?days=-1",
    "/status/?lang=xx",
    "/api/v1/incidents/?priority=abc&updated_since=garbage&state=zzz",
    "/portal/incidents/1/notice/?lang=zz",
    "/console/?priority=\u00b2",  # a digit to str.isdigit, not to int()
    "/api/v1/incidents/?page_size=\u00b2",
]
WITH_NUL = [
    "/console/?priority=1{n}&service=a{n}",
    "/console/reports/?customer=a{n}&month=2026-01{n}",
    "/dashboard/?days=3{n}",
    "/dashboard/live/?days={n}",
    "/status/?lang=d{n}",
    "/status/feed.rss?lang={n}",
    "/api/v1/incidents/?service=a{n}&customer=b{n}&state=c{n}&priority=1{n}&updated_since={n}",
    "/api/v1/incidents/?cursor={n}",
    "/portal/incidents/1/notice/?lang={n}",
    "/subscribe/?service=a{n}",
    "/console/oncall/?at={n}",
    "/console/actions/?state=a{n}",
    "/api/v1/actions/?state={n}",
]
POSTS = [
    ("/dashboard/questions/", {"text": "x", "incident": "abc"}),
    ("/dashboard/questions/", {"text": "x" * 5000, "incident": BIG}),
    ("/dashboard/questions/", {"text": "a\x00b"}),
    (f"/console/incidents/{BIG}/sla/pause/", {"reason": "x"}),
    (f"/console/questions/{BIG}/answer/", {"answer": "x"}),
    ("/portal/subscriptions/", {"channel": "webhook", "address": "ftp://x", "scope": "zzz"}),
    ("/portal/subscriptions/", {"channel": "email", "address": "a\x00@x.de", "scope": "x\x00"}),
    (f"/portal/subscriptions/{BIG}/deactivate/", {}),
    ("/subscribe/", {"channel": "email", "address": "a\x00@x.de", "scope": "x\x00"}),
    ("/console/incidents/new/", {"title": "a\x00"}),
    (f"/console/integrations/{BIG}/", {"group_labels": "a", "group_window": "0"}),
    ("/accounts/login/", {"username": "a\x00", "password": "x"}),
]


@pytest.mark.parametrize("who", AUDIENCES)
def test_no_bad_input_reaches_a_server_error(client, request, who):
    client.force_login(request.getfixturevalue(who))
    urls = [u.format(BIG) for u in BY_ID] + MALFORMED + [u.format(n=NUL) for u in WITH_NUL]
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
    for url, data in POSTS:
        response = client.post(url, data)
        assert response.status_code < 500, (url, response.status_code)


DEEP = b"[" * 100_000  # json raises RecursionError, not ValueError, for this
JSON_POSTS = [
    "/api/v1/integrations/events/v2/enqueue",
    "/api/v1/integrations/alertmanager/{key}/",
    "/api/v1/incidents/",
]


def test_json_too_deep_or_a_nul_in_a_key_is_a_clear_error(client, manager):
    from rest_framework.test import APIClient

    from escalation.services.integrations import integration_create
    from incidents.services import api_token_create
    from tests.factories import ServiceFactory

    key = integration_create(kind="alertmanager", service=ServiceFactory(), name="AM").key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=manager, scope='write')[1]}")
    for url in JSON_POSTS:
        response = api.post(url.format(key=key), DEEP, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
    response = api.post("/api/v1/integrations/alertmanager/a%00b/", {"alerts": []}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
