"""The JSON in the shape of Statuspage's public API v2 (summary, status, components, incidents,
unresolved), with the field names its documentation gives, and nothing that is not public."""

import json
import re

import pytest

from escalation.services import incident_resolve
from escalation.services.matrix import update_publish
from escalation.services.public import public_incident_publish
from incidents.services import update_post

from .conftest import INTERNAL_DESCRIPTION, INTERNAL_TITLE, open_incident

pytestmark = pytest.mark.django_db

PAGE = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT = {
    "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
    "start_date", "group_id", "page_id", "group", "only_show_if_degraded",
}  # fmt: skip
INCIDENT = {
    "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
    "shortlink", "started_at", "page_id", "incident_updates", "components",
}  # fmt: skip
UPDATE = {
    "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
    "affected_components",
}  # fmt: skip
COMPONENT_STATUSES = {
    "operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage",
}  # fmt: skip
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def api(files, name):
    return json.loads(files[f"api/v2/{name}"])


def check_page(page):
    assert set(page) == PAGE
    assert page["url"] == "https://status.example.org/status/"
    assert page["time_zone"] == "Europe/Berlin"
    assert ISO.match(page["updated_at"])


def check_component(component, page_id):
    assert set(component) >= COMPONENT
    assert component["status"] in COMPONENT_STATUSES
    assert component["page_id"] == page_id
    assert isinstance(component["position"], int)
    assert isinstance(component["group"], bool)
    assert ISO.match(component["created_at"]) and ISO.match(component["updated_at"])
    if component["group"]:
        assert component["group_id"] is None
        assert component["components"]


def check_incident(incident, page_id):
    assert set(incident) == INCIDENT
    assert incident["status"] in {"investigating", "identified", "monitoring", "resolved"}
    assert incident["impact"] in {"none", "minor", "major", "critical"}
    assert incident["page_id"] == page_id
    assert ISO.match(incident["created_at"]) and ISO.match(incident["started_at"])
    assert incident["shortlink"].startswith("https://status.example.org/status/")
    for update in incident["incident_updates"]:
        assert set(update) == UPDATE
        assert update["incident_id"] == incident["id"]
        assert update["status"] in {"investigating", "identified", "monitoring", "resolved"}
        assert isinstance(update["body"], str) and update["body"]
    for component in incident["components"]:
        check_component(component, page_id)


def test_every_document_has_statuspages_fields(world, manager, render):
    incident = open_incident(manager, [world.portal, world.api], publish=True)
    update_publish(incident=incident, actor=manager, audience="customer", body="Looking into it.")
    done = open_incident(manager, [world.shop], impact="high", urgency="medium", publish=True)
    incident_resolve(incident=done, actor=manager, resolution="Fixed")
    files = render()

    summary = api(files, "summary.json")
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    check_page(summary["page"])
    page_id = summary["page"]["id"]
    for component in summary["components"]:
        check_component(component, page_id)
    assert [i["status"] for i in summary["incidents"]] == ["investigating"]
    for incident_json in summary["incidents"]:
        check_incident(incident_json, page_id)
    assert summary["scheduled_maintenances"] == []
    assert summary["status"] == {"indicator": "critical", "description": "Major Service Outage"}

    status = api(files, "status.json")
    assert set(status) == {"page", "status"}
    assert status["status"] == summary["status"]

    components = api(files, "components.json")
    assert set(components) == {"page", "components"}
    assert components["components"] == summary["components"]

    incidents = api(files, "incidents.json")
    assert set(incidents) == {"page", "incidents"}
    assert sorted(i["status"] for i in incidents["incidents"]) == ["investigating", "resolved"]
    for incident_json in incidents["incidents"]:
        check_incident(incident_json, page_id)
    [resolved] = [i for i in incidents["incidents"] if i["status"] == "resolved"]
    assert resolved["impact"] == "major"
    assert ISO.match(resolved["resolved_at"])
    assert resolved["incident_updates"][0]["status"] == "resolved"

    unresolved = api(files, "incidents/unresolved.json")
    assert unresolved == {"page": summary["page"], "incidents": summary["incidents"]}
    maintenances = api(files, "scheduled-maintenances.json")
    assert maintenances == {"page": summary["page"], "scheduled_maintenances": []}


def test_components_come_in_groups(world, manager, render):
    open_incident(manager, [world.payments])
    components = api(render(), "components.json")["components"]
    names = [(c["name"], c["group"]) for c in components]
    assert names == [
        ("Portals", True),
        ("Customer portal", False),
        ("Web shop", False),
        ("Payments", True),
        ("Card payments", False),
        ("Public API", False),
    ]
    by_name = {c["name"]: c for c in components}
    assert by_name["Portals"]["components"] == [
        by_name["Customer portal"]["id"],
        by_name["Web shop"]["id"],
    ]
    assert by_name["Web shop"]["group_id"] == by_name["Portals"]["id"]
    assert by_name["Public API"]["group_id"] is None
    assert by_name["Payments"]["status"] == "major_outage"
    assert by_name["Card payments"]["status"] == "major_outage"
    assert [c["position"] for c in components] == list(range(1, 7))


def test_the_incident_is_named_by_its_public_title_and_public_services(world, manager, render):
    open_incident(manager, [world.portal, world.backup], publish=True)
    [incident] = api(render(), "summary.json")["incidents"]
    assert incident["name"] == "Disruption: Customer portal"  # the standard title
    assert [c["name"] for c in incident["components"]] == ["Customer portal"]


def test_nothing_private_or_internal_reaches_any_file(world, manager, customer, render):
    incident = open_incident(
        manager, [world.portal, world.backup], customers=[customer], commander=manager
    )
    update_post(incident=incident, actor=manager, audience="internal", body="INTERNAL-TEXT-42")
    update_post(incident=incident, actor=manager, audience="executive", body="EXEC-TEXT-43")
    update_post(incident=incident, actor=manager, audience="customer", body="Unpublished 45.")
    public_incident_publish(actor=manager, incidents=[incident], body="Public text 44.")
    open_incident(manager, [world.backup], title="Only private: vault broken", publish=True)
    files = render()
    assert {"index.de.html", "index.en.html", "feed.en.atom", "api/v2/summary.json"} <= set(files)
    for name, body in files.items():
        if name == "manifest.json":
            continue
        text = body.decode()
        for secret in (
            "INTERNAL-TEXT-42",
            "EXEC-TEXT-43",
            "Unpublished 45.",
            INTERNAL_TITLE,
            INTERNAL_DESCRIPTION,
            "Secret backup vault",
            "vault broken",
            customer.name,
            manager.username,
        ):
            assert secret not in text, (name, secret)
        assert (
            "Public text 44." in text
            or name.endswith(("status.json", "components.json", "scheduled-maintenances.json"))
            or "/scheduled-maintenances/" in name
        ), name


def test_nothing_changes_nothing_is_rewritten(world, manager, render, status_dir):
    open_incident(manager, [world.portal])
    first = render()
    manifest = (status_dir / "manifest.json").stat().st_mtime_ns
    second = render()
    assert second == first  # same bytes: ETags stay valid for pollers
    assert (status_dir / "manifest.json").stat().st_mtime_ns == manifest
