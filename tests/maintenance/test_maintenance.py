"""Scheduled maintenance: silencing pages during a window (and only then), the API and console
for planning windows, and the status page's section and Statuspage-shaped JSON."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from escalation.maintenance.models import Maintenance
from escalation.maintenance.services import maintenance_create
from escalation.models import Integration, Page
from escalation.services.clocks import clocks_tick
from escalation.services.integrations import integration_create
from incidents.models import Incident, IncidentEvent
from incidents.statuspage.render import render_status_page
from notifications.models import Notification
from tests.factories import ServiceFactory, ServiceGroupFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # the window: 22:00-24:00 in Berlin
WINDOW = (T0, T0 + timedelta(hours=2))


@pytest.fixture
def service(db):
    return ServiceFactory(slug="kundenportal", name="Kundenportal")


@pytest.fixture
def window(service, manager):
    return maintenance_create(
        actor=manager,
        title="Datenbank-Upgrade",
        body="Das Portal ist bis zu 30 Minuten nicht erreichbar.",
        services=[service],
        starts_at=WINDOW[0],
        ends_at=WINDOW[1],
        silence=True,
    )


def _critical_alert(client, key: str, dedup: str) -> Incident:
    response = client.post(
        "/api/v1/integrations/events/v2/enqueue",
        {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup,
            "payload": {"summary": "Portal down", "source": "zabbix", "severity": "critical"},
        },
        content_type="application/json",
    )
    assert response.status_code == 202
    clocks_tick()  # the worker classifies it (severity critical: P1, auto-escalation)
    return Incident.objects.get(dedup_key=dedup)


def test_critical_alert_in_a_silenced_window_pages_nobody_and_after_it_pages(
    client, service, window, manager
):
    key = integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Zabbix").key
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        during = _critical_alert(client, key, "db-down-1")
    assert during.priority == 1 and during.state == "classified"  # recorded and classified
    assert not Page.objects.exists()
    assert not Notification.objects.exists()  # no pages, no customer or internal messages
    silenced = IncidentEvent.objects.get(incident=during, kind="escalation_silenced")
    assert silenced.actor_label == "system (silenced by maintenance)"
    assert silenced.data["silenced_by"] == f"maintenance #{window.pk}: Datenbank-Upgrade"

    with time_machine.travel(WINDOW[1] + timedelta(minutes=1), tick=False):
        after = _critical_alert(client, key, "db-down-2")
    assert after.state == "escalated"
    assert Page.objects.filter(incident=after, user=manager).exists()
    assert not IncidentEvent.objects.filter(incident=after, kind="escalation_silenced").exists()


def test_a_window_that_pages_as_usual_and_one_on_another_service_do_not_silence(
    client, service, window, manager
):
    Maintenance.objects.filter(pk=window.pk).update(silence=False)
    other = ServiceFactory(slug="lager")
    maintenance_create(
        actor=manager, title="Lager", services=[other], starts_at=WINDOW[0], ends_at=WINDOW[1]
    )
    key = integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Zabbix").key
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        incident = _critical_alert(client, key, "db-down")
    assert incident.state == "escalated" and Page.objects.filter(incident=incident).exists()


def test_a_window_not_yet_started_does_not_silence(client, service, window, manager):
    key = integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Zabbix").key
    with time_machine.travel(T0 - timedelta(minutes=10), tick=False):
        incident = _critical_alert(client, key, "db-down-early")
    assert incident.state == "escalated" and Page.objects.filter(incident=incident).exists()


def test_of_two_silencing_windows_the_earliest_started_is_named(client, service, window, manager):
    earlier = maintenance_create(
        actor=manager,
        title="Netzwartung",
        services=[service],
        starts_at=T0 - timedelta(hours=1),
        ends_at=T0 + timedelta(hours=1),
        silence=True,
    )
    key = integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Zabbix").key
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        incident = _critical_alert(client, key, "db-down")
    silenced = IncidentEvent.objects.get(incident=incident, kind="escalation_silenced")
    assert silenced.data["silenced_by"] == f"maintenance #{earlier.pk}: Netzwartung"


def test_a_window_on_the_services_group_silences(client, manager):
    group = ServiceGroupFactory(slug="portale", name="Portale")
    service = ServiceFactory(slug="shop", group=group)
    maintenance_create(
        actor=manager, title="Netz", groups=[group], starts_at=WINDOW[0], ends_at=WINDOW[1]
    )
    key = integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Z").key
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        incident = _critical_alert(client, key, "shop-down")
    assert incident.state == "classified" and not Page.objects.exists()


# --- API ----------------------------------------------------------------------------------------


def _api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


BODY = {
    "title": "Firewall-Tausch",
    "body": "Kurze Unterbrechungen möglich.",
    "services": ["kundenportal"],
    "starts_at": "2026-12-10T22:00:00+01:00",
    "ends_at": "2026-12-11T01:00:00+01:00",
    "silence": True,
}


def test_managers_plan_windows_through_the_api(service, manager):
    client = _api(manager)
    created = client.post("/api/v1/maintenances/", BODY, content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["services"] == ["kundenportal"] and created.json()["silence"] is True
    changed = client.patch(
        f"/api/v1/maintenances/{pk}/", {"silence": False}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["silence"] is False
    assert client.get("/api/v1/maintenances/").json()[0]["title"] == "Firewall-Tausch"
    assert client.delete(f"/api/v1/maintenances/{pk}/").status_code == 204
    assert not Maintenance.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"ends_at": "2026-12-10T21:00:00+01:00"},
        {"services": []},
        {"services": ["gibt-es-nicht"]},
        {"title": ""},
        {"starts_at": "morgen"},
        {"silence": "vielleicht"},
        {"silence": 1},  # JSON's true or false only, as the schema says
    ],
)
def test_bad_windows_get_a_400(service, manager, change):
    response = _api(manager).post(
        "/api/v1/maintenances/", BODY | change, content_type="application/json"
    )
    assert response.status_code == 400 and not Maintenance.objects.exists()


def test_responders_and_executives_read_but_do_not_plan(service, window, responder, executive):
    for user in (responder, executive):
        client = _api(user)
        assert client.get(f"/api/v1/maintenances/{window.pk}/").status_code == 200
        post = client.post("/api/v1/maintenances/", BODY, content_type="application/json")
        assert post.status_code == 403
        assert client.delete(f"/api/v1/maintenances/{window.pk}/").status_code == 403
    assert Maintenance.objects.count() == 1


def test_customers_read_only_windows_on_their_services(
    service, window, customer_contact, other_customer_contact, manager
):
    service.customers.add(customer_contact.customer)
    hidden = ServiceFactory(slug="geheim", name="ZQHIDDEN")
    hidden.customers.add(other_customer_contact.customer)
    other = maintenance_create(
        actor=manager, title="ZQOTHER", services=[hidden], starts_at=T0, ends_at=WINDOW[1]
    )
    client = _api(customer_contact)
    listed = client.get("/api/v1/maintenances/").json()
    assert [w["title"] for w in listed] == ["Datenbank-Upgrade"]
    assert "silence" not in listed[0] and listed[0]["services"] == ["kundenportal"]
    assert client.get(f"/api/v1/maintenances/{other.pk}/").status_code == 404
    assert (
        client.post("/api/v1/maintenances/", BODY, content_type="application/json").status_code
        == 403
    )


# --- Console ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Scheduled maintenance"), ("de", "Geplante Wartung")]
)
def test_console_lists_and_plans_windows(service, manager, language, heading):
    client = Client(headers={"accept-language": language})
    client.force_login(manager)
    form = client.post(
        "/console/maintenance/new/",
        {
            "title": "Switch-Tausch",
            "body": "",
            "services": [service.pk],
            "starts_at": "2026-12-10T22:00",
            "ends_at": "2026-12-10T23:00",
            "silence": "on",
        },
    )
    assert form.status_code == 302
    window = Maintenance.objects.get()
    assert window.starts_at == datetime(2026, 12, 10, 21, 0, tzinfo=UTC)  # Berlin time entered
    page = client.get("/console/maintenance/").content.decode()
    assert heading in page and "Switch-Tausch" in page
    invalid = client.post(
        "/console/maintenance/new/",
        {"title": "x", "starts_at": "2026-12-10T22:00", "ends_at": "2026-12-10T21:00"},
    )
    assert invalid.status_code == 200 and Maintenance.objects.count() == 1


def test_responders_see_the_list_but_not_the_form(service, window, responder):
    client = _api(responder)
    assert client.get("/console/maintenance/").status_code == 200
    assert client.get("/console/maintenance/new/").status_code == 403
    assert client.post(f"/console/maintenance/{window.pk}/delete/").status_code == 403


# --- Status page --------------------------------------------------------------------------------


def _status(client, path):
    return json.loads(client.get(f"/status/api/v2/{path}").content)


def test_status_page_json_in_statuspages_shape(client, service, manager):
    private = ServiceFactory(slug="intern", name="ZQPRIVATE", is_private=True)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        active = maintenance_create(
            actor=manager, title="Jetzt", services=[service],
            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1),
        )  # fmt: skip
        maintenance_create(
            actor=manager, title="Bald", body="Kurz weg.", services=[service],
            starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=1),
        )  # fmt: skip
        maintenance_create(
            actor=manager, title="ZQSECRET", services=[private],
            starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=1),
        )  # fmt: skip
        render_status_page()
        upcoming = _status(client, "scheduled-maintenances/upcoming.json")
        current = _status(client, "scheduled-maintenances/active.json")
        every = _status(client, "scheduled-maintenances.json")
        summary = _status(client, "summary.json")
        page = client.get("/status/", headers={"accept-language": "de"}).content.decode()
    assert [m["name"] for m in upcoming["scheduled_maintenances"]] == ["Bald"]
    assert [m["name"] for m in current["scheduled_maintenances"]] == ["Jetzt"]
    assert {m["name"] for m in every["scheduled_maintenances"]} == {"Jetzt", "Bald"}
    assert [m["name"] for m in summary["scheduled_maintenances"]] == ["Jetzt", "Bald"]
    item = current["scheduled_maintenances"][0]
    assert item["status"] == "in_progress" and item["impact"] == "maintenance"
    assert item["scheduled_for"].startswith("2026-12-01T12:00:00.000+01:00"[:10])
    assert item["components"][0]["name"] == "Kundenportal"
    assert [u["status"] for u in item["incident_updates"]] == ["in_progress", "scheduled"]
    assert upcoming["scheduled_maintenances"][0]["incident_updates"][0]["body"] == "Kurz weg."
    assert {"page", "scheduled_maintenances"} == set(upcoming)
    assert active.title in page and "Bald" in page and "Geplante Wartung" in page
    for text in (json.dumps(every), json.dumps(summary), page):
        assert "ZQSECRET" not in text and "ZQPRIVATE" not in text


def test_a_changed_window_re_renders_the_status_page(
    client, service, manager, django_capture_on_commit_callbacks
):
    client.get("/status/api/v2/scheduled-maintenances/upcoming.json")  # rendered once, empty
    start = datetime.now(tz=UTC) + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_create(
            actor=manager, title="Neu", services=[service], starts_at=start,
            ends_at=start + timedelta(hours=1),
        )  # fmt: skip
    upcoming = _status(client, "scheduled-maintenances/upcoming.json")
    assert [m["name"] for m in upcoming["scheduled_maintenances"]] == ["Neu"]


def test_an_alert_still_open_when_the_window_ends_pages_then(client, service, manager):
    from escalation.maintenance.notices import notices_fire

    with time_machine.travel(T0 - timedelta(days=1), tick=False):  # planned the day before
        maintenance_create(
            actor=manager, title="Datenbank-Upgrade", services=[service],
            starts_at=WINDOW[0], ends_at=WINDOW[1],
        )  # fmt: skip
    key = integration_create(kind=Integration.Kind.EVENTS_V2, service=service, name="Zabbix").key
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        still = _critical_alert(client, key, "db-still-down")
        gone = _critical_alert(client, key, "db-was-down")
    from escalation.services import incident_resolve

    incident_resolve(incident=gone, actor=manager, resolution="Teil der Wartung")
    assert not Page.objects.exists()
    with time_machine.travel(WINDOW[1], tick=False):
        notices_fire(now=WINDOW[1])
    still.refresh_from_db()
    assert still.state == "escalated" and "Datenbank-Upgrade" in still.escalation_reason
    assert Page.objects.filter(incident=still, user=manager).exists()
    assert not Page.objects.filter(incident=gone).exists()


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Scheduled maintenance"), ("de", "Geplante Wartung")]
)
def test_portal_shows_the_organisations_windows_only(
    service, customer_contact, manager, language, heading
):
    service.customers.add(customer_contact.customer)
    hidden = ServiceFactory(slug="geheim", name="ZQHIDDEN")
    start = datetime.now(tz=UTC) + timedelta(days=1)
    ours = dict(starts_at=start, ends_at=start + timedelta(hours=1))
    maintenance_create(actor=manager, title="Portal-Update", services=[service, hidden], **ours)
    maintenance_create(actor=manager, title="ZQOTHER", services=[hidden], **ours)
    client = Client(headers={"accept-language": language})
    client.force_login(customer_contact)
    page = client.get("/portal/").content.decode()
    assert heading in page and "Portal-Update" in page and "Kundenportal" in page
    assert "ZQOTHER" not in page and "ZQHIDDEN" not in page
