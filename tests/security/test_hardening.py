"""Finding 8 (hardening) and the deployment check of the security suite."""

import io
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import caches
from django.test import Client

from config.cache import increment
from config.logmask import MaskSecrets
from incidents.services import api_token_create

from .compose_env import check_deploy

ROOT = Path(__file__).resolve().parents[2]


# --- check --deploy with the production settings of docker-compose.yml ----------------------


def test_check_deploy_is_clean_with_the_compose_environment():
    result = check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr


def test_https_mode_redirects_but_the_health_check_answers(settings, client, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.HEARTBEAT_STALE_SECONDS = 0  # no Celery here: only the redirect exemption counts
    assert client.get("/healthz").status_code == 200  # the container health check: plain HTTP
    response = client.get("/console/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


# --- The API rate limit counts across processes -----------------------------------------------


def test_the_rate_limit_counter_is_shared_by_processes():
    """Another process (as gunicorn's workers or the embedded default's processes are) counts
    into the same counter: on the embedded default, files under var/; with REDIS_URL, Redis."""
    key = "zq:shared-counter"
    caches["shared"].delete(key)
    code = (
        "import django; django.setup()\n"
        "from config.cache import increment\n"
        f"print([increment({key!r}, 60) for _ in range(3)][-1])\n"
    )
    other = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert other.stdout.strip() == "3", other.stderr
    assert increment(key, 60) == 4


# --- Headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/subscribe/", "/api/v1/docs/"])
def test_csp_and_permissions_policy_on_every_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]


def test_no_template_runs_inline_script():
    """The policy allows scripts from files only; a template with an inline script or an on*=
    handler would silently stop working."""
    inline_script = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I
    )
    handler = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if inline_script.search(text) or handler.search(text) or "javascript:" in text:
            found.append(str(path.relative_to(ROOT)))
    assert found == []


def test_signed_in_pages_are_never_stored(client, manager, customer_contact):
    client.force_login(manager)
    for path in ("/console/", "/admin/", "/api/v1/incidents/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    token = api_token_create(user=manager, scope="read")[1]
    response = Client().get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert "no-store" in response["Cache-Control"]
    portal = Client()
    portal.force_login(customer_contact)
    assert "no-store" in portal.get("/portal/")["Cache-Control"]


def test_the_public_status_page_stays_cacheable(client, manager):
    client.force_login(manager)  # even for a signed-in person: the same bytes for everybody
    response = client.get("/status/")
    assert "public" in response["Cache-Control"] and "no-store" not in response["Cache-Control"]


# --- Keys in URLs never reach the log ---------------------------------------------------------


@pytest.fixture
def app_log():
    """What the app's console handler (LOGGING) writes."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, MaskSecrets) for f in h.filters)
    )
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/integrations/alertmanager/am-ZQSECRETKEY/",
        "/ack/ZQSECRETKEY.sig/",
        "/subscriptions/ZQSECRETKEY/confirm/",
        "/oncall/1/ZQSECRETKEY.ics",
    ],
)
def test_keys_in_urls_are_masked_in_the_log(client, db, app_log, path):
    client.get(path)  # a 4xx: django.request logs the path
    client.post(path, data="{}", content_type="application/json")
    written = app_log.getvalue()
    assert written, "nothing was logged"
    assert "ZQSECRETKEY" not in written
    assert "***" in written


def test_runserver_request_lines_are_masked(app_log):
    """The embedded default serves through runserver, which logs every request line."""
    logging.getLogger("django.server").info(
        '"%s" %s %s', "POST /api/v1/integrations/alertmanager/am-ZQSECRETKEY/ HTTP/1.1", 202, 57
    )
    assert "alertmanager/***/" in app_log.getvalue()
    assert "ZQSECRETKEY" not in app_log.getvalue()


# --- Password reset is throttled --------------------------------------------------------------


def test_password_reset_mails_one_address_at_most_three_times_an_hour(db, manager, settings):
    manager.email = "mara@example.org"
    manager.save()
    client = Client()
    for n in range(5):
        response = client.post(
            "/accounts/password_reset/",
            {"email": "mara@example.org"},
            REMOTE_ADDR=f"192.0.2.{n}",
        )
        assert response.status_code == 302  # the same "sent" page every time
    assert len(mail.outbox) == settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR == 3


def test_password_reset_refuses_a_client_after_its_limit(db, settings):
    settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR = 4
    client = Client()
    answers = [
        client.post("/accounts/password_reset/", {"email": f"nobody{n}@example.org"}).status_code
        for n in range(6)
    ]
    assert answers == [302] * 4 + [429] * 2
