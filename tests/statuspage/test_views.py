"""Serving the stored bytes: no database on a read, ETag/Last-Modified with 304, short public
caching, the language, feeds that feed readers parse, and only GET/HEAD."""

import re
import time

import feedparser
import pytest
import time_machine
from django.utils.http import http_date

from escalation.services.matrix import update_publish
from incidents.statuspage import views
from incidents.statuspage.render import render_status_page

from .conftest import open_incident

pytestmark = pytest.mark.django_db

URLS = [
    "/status/",
    "/status/history/",
    "/status/feed.atom",
    "/status/feed.rss",
    "/status/api/v2/summary.json",
    "/status/api/v2/status.json",
    "/status/api/v2/components.json",
    "/status/api/v2/incidents.json",
    "/status/api/v2/incidents/unresolved.json",
    "/status/api/v2/scheduled-maintenances.json",
]


@pytest.fixture
def rendered(world, manager):
    incident = open_incident(manager, [world.portal], publish=True)
    update_publish(incident=incident, actor=manager, audience="customer", body="We are on it.")
    render_status_page()
    return incident


@pytest.mark.parametrize("url", URLS)
def test_a_read_runs_no_query(client, rendered, url, django_assert_num_queries):
    client.get(url)  # the process cache is warm after the first read, but even that is 0
    with django_assert_num_queries(0):
        response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=5"
    assert response["ETag"].startswith('"')
    assert "Set-Cookie" not in response
    assert not response.cookies


def test_the_first_read_of_a_fresh_process_runs_no_query(
    client, rendered, django_assert_num_queries
):
    views.store.__init__()  # as a new gunicorn worker starts
    with django_assert_num_queries(0):
        response = client.get("/status/api/v2/summary.json")
    assert response.status_code == 200


def test_nothing_rendered_yet_the_first_read_renders(client, world, status_dir):
    assert not status_dir.exists()
    response = client.get("/status/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"All systems operational" in response.content
    assert (status_dir / "manifest.json").exists()


def test_etag_and_last_modified_give_304(client, rendered, settings):
    settings.STATUS_PAGE_MAX_AGE = 7
    response = client.get("/status/api/v2/summary.json")
    etag, modified = response["ETag"], response["Last-Modified"]
    assert response["Cache-Control"] == "public, max-age=7"
    again = client.get("/status/api/v2/summary.json", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    since = client.get("/status/api/v2/summary.json", HTTP_IF_MODIFIED_SINCE=modified)
    assert since.status_code == 304
    other = client.get("/status/api/v2/summary.json", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200
    older = client.get(
        "/status/api/v2/summary.json", HTTP_IF_MODIFIED_SINCE=http_date(time.time() - 86400)
    )
    assert older.status_code == 200


def test_a_change_gives_a_new_etag_and_last_modified(client, rendered, manager):
    before = client.get("/status/api/v2/summary.json")
    with time_machine.travel(time.time() + 60):
        update_publish(incident=rendered, actor=manager, audience="customer", body="Fixed soon.")
        render_status_page()
    after = client.get("/status/api/v2/summary.json", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after["Last-Modified"] != before["Last-Modified"]
    assert b"Fixed soon." in after.content


def test_head_answers_headers_only(client, rendered):
    get = client.get("/status/")
    head = client.head("/status/")
    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == get["ETag"]
    assert head["Content-Length"] == str(len(get.content))


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_and_head(client, rendered, method):
    assert getattr(client, method)("/status/").status_code == 405


@pytest.mark.parametrize(
    "url", ["/status/nope", "/status/api/v2/unknown.json", "/status/api/v1/summary.json"]
)
def test_unknown_artefacts_are_404(client, rendered, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("query", "headers", "cookie", "expected"),
    [
        ("?lang=en", {"HTTP_ACCEPT_LANGUAGE": "de"}, "de", "en"),
        ("?lang=de", {"HTTP_ACCEPT_LANGUAGE": "en"}, "en", "de"),
        ("?lang=fr", {"HTTP_ACCEPT_LANGUAGE": "en"}, None, "en"),
        ("", {"HTTP_ACCEPT_LANGUAGE": "de"}, "en", "en"),
        ("", {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}, None, "en"),
        ("", {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}, None, "de"),
        ("", {}, None, "de"),  # LANGUAGE_CODE
    ],
)
def test_language_by_query_cookie_header(client, rendered, query, headers, cookie, expected):
    if cookie:
        client.cookies["django_language"] = cookie
    response = client.get("/status/" + query, **headers)
    assert response["Content-Language"] == expected
    assert f'<html lang="{expected}">'.encode() in response.content
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]


def test_german_and_english_pages_differ(client, world, manager):
    with time_machine.travel("2026-03-15 10:00 +0000", tick=False):
        open_incident(manager, [world.portal])
    with time_machine.travel("2026-03-15 12:00 +0000", tick=False):
        render_status_page()
        de = client.get("/status/?lang=de").content.decode()
        en = client.get("/status/?lang=en").content.decode()
    assert "März 2026" in de and "March 2026" in en
    # The portal has been down since 11:00 CET: today's uptime is below 100 %, in each locale.
    assert re.search(r"\d,\d\d %", de) and not re.search(r"\d\.\d\d %", de)
    assert re.search(r"\d\.\d\d %", en) and not re.search(r"\d,\d\d %", en)
    assert "Januar 2026" in de and "January 2026" in en
    assert 'href="?lang=en"' in de and 'href="?lang=de"' in en


def test_next_update_by_in_berlin_time(client, world, manager):
    with time_machine.travel("2026-07-01 10:00 +0000", tick=False):
        incident = open_incident(manager, [world.portal], publish=True)
        type(incident).objects.filter(pk=incident.pk).update(
            next_customer_update_at="2026-07-01T12:30:00+00:00"
        )
        render_status_page()
        page = client.get("/status/?lang=en").content.decode()
    assert "Next update by 14:30 CEST" in page


def test_feeds_parse_and_list_the_incidents(client, rendered):
    for lang, url in (("en", "/status/feed.atom?lang=en"), ("de", "/status/feed.rss?lang=de")):
        response = client.get(url)
        assert response.status_code == 200
        feed = feedparser.parse(response.content)
        assert not feed.bozo, (url, feed.bozo_exception)
        [entry] = feed.entries
        title = {"en": "Disruption", "de": "Störung"}[lang]  # the standard title, in its language
        assert entry.title.startswith(f"{title}: Customer portal")
        assert "We are on it." in entry.summary
        assert entry.link.startswith("https://status.example.org/status/history/")
    atom = client.get("/status/feed.atom?lang=en")
    assert atom["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert feedparser.parse(atom.content).feed.language == "en"


def test_json_is_cors_readable_and_english(client, rendered):
    response = client.get("/status/api/v2/status.json", HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["status"]["description"] == "Major Service Outage"


def test_a_file_deleted_behind_our_back_is_rendered_again(client, rendered, status_dir):
    client.get("/status/api/v2/status.json")
    views.store.__init__()
    (status_dir / "api/v2/status.json").unlink()
    response = client.get("/status/api/v2/status.json")
    assert response.status_code == 200
    assert response.json()["status"]["indicator"] == "critical"


MIDDLEWARE_FIRST = "incidents.statuspage.middleware.StatusPageMiddleware"
STALE_SESSION = "0123456789abcdefghijklmnopqrstuv"  # well-formed, unknown to the database


@pytest.fixture
def without_short_circuit(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE_FIRST]


@pytest.fixture
def short_circuit(settings):
    """The default stack (config/settings.py): the status page middleware right after security."""
    stack = list(settings.MIDDLEWARE)
    assert (
        stack.index(MIDDLEWARE_FIRST)
        == stack.index("django.middleware.security.SecurityMiddleware") + 1
    )


def test_without_the_middleware_a_stale_session_cookie_costs_one_query(
    client, rendered, without_short_circuit, django_assert_num_queries
):
    """Why the middleware comes first: without it, UserTimeZoneMiddleware reads request.user,
    one session lookup. Cookie-less visitors, the crowd, would cost none either way."""
    client.cookies["sessionid"] = STALE_SESSION
    with django_assert_num_queries(1):
        assert client.get("/status/").status_code == 200


def test_the_middleware_answers_what_the_view_answers(client, rendered, settings):
    fast = client.get("/status/?lang=en")
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE_FIRST]
    plain = client.get("/status/?lang=en")
    assert fast.status_code == 200
    assert fast.content == plain.content
    for header in ("ETag", "Last-Modified", "Cache-Control", "Content-Language", "Vary"):
        assert fast[header] == plain[header], header
    assert fast["X-Frame-Options"] == "DENY"
    assert fast["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware ran before it


def test_with_the_middleware_a_stale_session_cookie_costs_no_query(
    client, rendered, short_circuit, django_assert_num_queries
):
    client.cookies["sessionid"] = STALE_SESSION
    client.cookies["django_language"] = "en"
    with django_assert_num_queries(0):
        response = client.get("/status/")
    assert response["Content-Language"] == "en"
    with django_assert_num_queries(0):
        assert client.get("/status/api/v2/summary.json").status_code == 200


def test_with_the_middleware_other_urls_and_methods_pass_through(client, rendered, short_circuit):
    assert client.post("/status/").status_code == 405
    assert client.get("/status/nope").status_code == 404
    assert client.get("/console/").status_code == 302  # to the login, as without it


def test_names_are_escaped(client, world, manager):
    world.shop.name = '<script>alert("x")</script> & Co'
    world.shop.save()
    open_incident(manager, [world.shop])
    render_status_page()
    page = client.get("/status/?lang=en").content.decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
