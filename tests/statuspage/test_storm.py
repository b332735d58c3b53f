"""An alert storm on a public service: every alert is an internal incident, none is a public entry.

The issue: 2,000 new Events v2 keys on a public service put ~400 "Degraded performance: ..." entries
on /status/ (471 KB). Per-incident entries now come only from public incidents: the storm moves
the component's status, nothing more, and one public incident covering the storm shows once.
The storm here is STORM keys through the real ingest endpoint: 150 in the suite, as many as you
like with STORM_KEYS (STORM_KEYS=2000 passes too, in 25 s here); the page's size does not
grow with the number of alerts, which the two sizes below show.
"""

import json
import os

import pytest
from rest_framework.test import APIClient

from escalation.models import Integration
from escalation.services.clocks import clocks_tick
from escalation.services.integrations import integration_create
from escalation.services.public import public_incident_publish
from incidents.models import Incident

from .conftest import open_incident

pytestmark = pytest.mark.django_db

STORM = int(os.environ.get("STORM_KEYS", "150"))
LIMIT = 100 * 1024


def storm(key: str, count: int, start: int = 0) -> None:
    client = APIClient()
    for n in range(start, start + count):
        response = client.post(
            "/api/v1/integrations/events/v2/enqueue",
            {
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": f"storm-{n}",
                "payload": {
                    "summary": f"Stadtwerke Nord: probe {n} slow",
                    "source": f"probe{n}",
                    "severity": "warning",
                },
            },
            format="json",
        )
        assert response.status_code == 202
    clocks_tick()  # the worker classifies what arrived


def test_an_alert_storm_leaves_no_entries_and_a_small_page(world, manager, render, customer):
    key = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=world.portal, name="Probes"
    ).key
    storm(key, 20)
    small = render()
    storm(key, STORM - 20, start=20)
    assert Incident.objects.filter(priority=3, state="classified").count() == STORM
    files = render()
    summary = json.loads(files["api/v2/summary.json"])
    assert summary["incidents"] == []
    assert json.loads(files["api/v2/incidents.json"])["incidents"] == []
    portal = next(c for c in summary["components"] if c["name"] == "Customer portal")
    assert portal["status"] == "degraded_performance"  # the component still follows the storm
    for name, body in files.items():
        assert len(body) < LIMIT, (name, len(body))
        assert b"probe" not in body and customer.name.encode() not in body, name
        if name.endswith(".html"):
            assert b'class="card incident"' not in body, name
    # The page does not grow with the storm: 20 alerts or STORM, the same size.
    assert len(files["index.de.html"]) == len(small["index.de.html"])

    # One disruption, one public incident covering the storm: it shows once.
    face = public_incident_publish(
        actor=manager,
        incidents=list(Incident.objects.filter(dedup_key__startswith="storm-")),
        title="Kundenportal langsam",
        title_en="Customer portal slow",
    )
    assert face.incidents.count() == STORM
    files = render()
    summary = json.loads(files["api/v2/summary.json"])
    assert [i["name"] for i in summary["incidents"]] == ["Customer portal slow"]
    index = files["index.en.html"].decode()
    assert index.count('class="card incident"') == 1 and index.count("Customer portal slow") >= 1
    assert len(files["index.en.html"]) < LIMIT


def test_a_published_incident_of_several_services_lists_each_once(world, manager, render):
    first = open_incident(manager, [world.portal])
    second = open_incident(manager, [world.portal, world.shop])
    public_incident_publish(actor=manager, incidents=[first, second], title="Portale gestört")
    [entry] = json.loads(render()["api/v2/summary.json"])["incidents"]
    assert [c["name"] for c in entry["components"]] == ["Customer portal", "Web shop"]
