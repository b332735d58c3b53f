"""The whole product under real outages: gunicorn serving the app on a PostgreSQL and a Redis of
the test's own. Redis is killed (SIGKILL): acknowledgement, ingest and the console go on.
PostgreSQL is then stopped as in a crash (`pg_ctl stop -m immediate`): every surface answers 503
with Retry-After (JSON for the API and ingest, a calm HTML page elsewhere) and never a bare 500,
and the status page keeps serving its last copy. PostgreSQL comes back: so does everything else,
without restarting the app (the figures are printed)."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
INGEST = "/api/v1/integrations/events/v2/enqueue"

SETUP = """
import json
from django.contrib.auth.models import Group
from escalation import roles
from escalation.models import Integration
from escalation.services import incident_classify
from escalation.services.integrations import integration_create
from incidents.models import Service, User
from incidents.services import api_token_create, incident_create
from incidents.statuspage.render import render_status_page
from notifications.models import Notification

manager = User.objects.create_user(
    "mara", email="mara@example.org", password="pw-mara-1234", is_staff=True
)
manager.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
service = Service.objects.create(name="Mail", slug="mail")
integration = integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Zabbix")
incidents = []
for n in range(3):
    incident = incident_create(actor=manager, title=f"Mail slow {n}")
    incident = incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
    incidents.append(incident.pk)
page = Notification.objects.filter(template="page", context__incident_id=incidents[2]).first()
render_status_page()
print(json.dumps({
    "token": api_token_create(user=manager, scope="write")[1],
    "key": integration.key,
    "incidents": incidents,
    "ack": "/ack/" + page.context["ack_url"].split("/ack/", 1)[1],
}))
"""


def event(key: str, dedup_key: str) -> dict:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {"summary": "Queue full", "source": "mx1", "severity": "warning"},
    }


def assert_503(response: httpx.Response, *, json_body: bool) -> None:
    assert response.status_code == 503, (response.request.url, response.status_code)
    assert int(response.headers["Retry-After"]) > 0
    if json_body:
        body = response.json()
        assert body["code"] == "service_unavailable" and body["errors"] == {}
    else:
        assert response.headers["Content-Type"].startswith("text/html")
        assert "Briefly unavailable" in response.text or "Kurz nicht erreichbar" in response.text


@pytest.fixture
def once():
    if connection.vendor != "sqlite":
        pytest.skip("runs once, in the SQLite run: it starts its own PostgreSQL and Redis")


@pytest.fixture
def app_server(once, own_postgres, own_redis, tmp_path):
    database = own_postgres.create_database("em")
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": own_redis.url,
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "outage-test-secret-key-" + "x" * 30,
        "STATUS_PAGE_RENDER_ASYNC": "false",
        "CLOCK_TICK_KICK": "true",
        "LOG_LEVEL": "WARNING",
        "CI": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    setup = subprocess.run([*manage, "shell", "-c", SETUP], env=env, cwd=ROOT, capture_output=True)
    assert setup.returncode == 0, setup.stderr.decode()[-3000:]
    facts = json.loads(setup.stdout.decode().strip().splitlines()[-1])
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--threads", "4", "--timeout", "60", "--error-logfile", "-"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/status/", timeout=2)
            break
        except httpx.TransportError:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    yield base, facts
    server.terminate()
    server.wait(10)
    log.close()


def post_form(client: httpx.Client, path: str, **data) -> httpx.Response:
    """POST the form on `path` as a browser does (with its CSRF token)."""
    page = client.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return client.post(
        path,
        data={**data, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{client.base_url}{path}"},
    )


def login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=15, headers={"Accept-Language": "en"})
    response = post_form(client, "/accounts/login/", username="mara", password="pw-mara-1234")
    assert response.status_code == 302, response.text[:500]
    return client


def test_outages_of_redis_and_postgresql_degrade_every_surface(app_server, own_postgres, own_redis):
    base, facts = app_server
    api = httpx.Client(
        base_url=base, timeout=15, headers={"Authorization": f"Bearer {facts['token']}"}
    )
    anonymous = httpx.Client(base_url=base, timeout=15, headers={"Accept-Language": "en"})
    console = login(base)
    first, second, third = facts["incidents"]
    assert console.get("/console/").status_code == 200
    assert api.get("/api/v1/incidents/").status_code == 200  # token and permissions cached
    assert anonymous.post(INGEST, json=event(facts["key"], "q-1")).status_code == 202

    # --- Redis (cache and broker) killed: slower at most -------------------------------------
    own_redis.kill()
    started = time.monotonic()
    response = api.post(f"/api/v1/incidents/{first}/acknowledge/", json={})
    took = time.monotonic() - started
    print(f"\nRedis down: API acknowledgement {response.status_code} in {took:.2f} s")
    assert response.status_code == 200, response.text
    assert response.json()["acknowledged_at"]
    for dedup_key in ("q-1", "q-2"):  # a repeat and a new incident
        response = anonymous.post(INGEST, json=event(facts["key"], dedup_key))
        assert response.status_code == 202, response.text
    assert console.get("/console/").status_code == 200
    assert anonymous.get("/status/").status_code == 200

    # --- PostgreSQL stopped as in a crash: 503 with Retry-After everywhere ------------------
    status_before = anonymous.get("/status/").content
    own_postgres.stop()
    assert_503(api.post(f"/api/v1/incidents/{second}/acknowledge/", json={}), json_body=True)
    assert_503(api.get("/api/v1/incidents/"), json_body=True)
    assert_503(anonymous.post(INGEST, json=event(facts["key"], "q-1")), json_body=True)  # repeat
    assert_503(anonymous.post(INGEST, json=event(facts["key"], "q-3")), json_body=True)  # new
    assert_503(
        anonymous.post(f"/api/v1/integrations/alertmanager/{facts['key']}/", json={}),
        json_body=True,
    )
    for path in ("/console/", f"/console/incidents/{second}/", "/dashboard/", "/portal/"):
        assert_503(console.get(path), json_body=False)
    assert_503(anonymous.get(facts["ack"]), json_body=False)
    german = anonymous.get(facts["ack"], headers={"Accept-Language": "de"})
    assert_503(german, json_body=False)
    assert "Kurz nicht erreichbar" in german.text and 'http-equiv="refresh"' in german.text
    posted = post_form(anonymous, "/accounts/login/", username="mara", password="x")
    assert_503(posted, json_body=False)
    assert "may not have been saved" in posted.text and "refresh" not in posted.text
    healthz = anonymous.get("/healthz")
    assert healthz.status_code == 503 and healthz.json()["database"] == "unreachable"
    metrics = anonymous.get("/metrics")  # Prometheus still scrapes, and hears of the outage
    assert metrics.status_code == 200 and "escalation_database_up 0.0" in metrics.text
    status = anonymous.get("/status/")  # the last rendered copy
    assert status.status_code == 200 and status.content == status_before
    assert anonymous.get("/status/api/v2/summary.json").status_code == 200

    # --- PostgreSQL back: the same process serves again ---------------------------------------
    own_postgres.start()
    started = time.monotonic()
    while (
        response := api.post(f"/api/v1/incidents/{second}/acknowledge/", json={})
    ).status_code == 503:
        assert time.monotonic() - started < 30, "no recovery within 30 s"
        time.sleep(0.2)
    print(f"PostgreSQL back: first acknowledgement after {time.monotonic() - started:.2f} s")
    assert response.status_code == 200, response.text
    assert console.get("/console/").status_code == 200
    assert post_form(console, facts["ack"]).status_code == 200  # the one-click link
    assert anonymous.post(INGEST, json=event(facts["key"], "q-1")).status_code == 202
