"""API v1 for public incidents: publish, read, link, update, the all-clear; who may write; what a
customer token reads (its organisation's public incidents, through incidents.presentation)."""

import pytest

from incidents.models import IncidentEvent, PublicIncident, State
from tests.factories import IncidentFactory, ServiceFactory, ServiceGroupFactory, drive

from .test_api import api, error_shape

pytestmark = pytest.mark.django_db

URL = "/api/v1/public-incidents/"


@pytest.fixture
def world(customer, other_customer):
    group = ServiceGroupFactory(slug="portale", name="Portale")
    portal = ServiceFactory(slug="portal", name="Kundenportal", group=group)
    portal.customers.add(customer)
    lager = ServiceFactory(slug="lager", name="Lager", is_private=True)
    lager.customers.add(other_customer)
    ours = drive(
        IncidentFactory(services=[portal], title="INTERN Logistik Süd meldet Portal"),
        State.ESCALATED,
    )
    theirs = drive(IncidentFactory(services=[lager], title="INTERN Lager"), State.CLASSIFIED)
    return {"group": group, "portal": portal, "ours": ours, "theirs": theirs}


def test_publish_read_link_update_and_resolve(manager, world, customer_contact):
    client = api(manager)
    created = client.post(
        URL,
        {
            "title": "Kundenportal gestört",
            "title_en": "Customer portal disrupted",
            "body": "Wir untersuchen das.",
            "incidents": [world["ours"].pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    face = created.json()
    assert face["status"] == "investigating" and face["incidents"] == [world["ours"].pk]
    assert face["services"] == ["portal"] and face["published_by"] == manager.username
    assert IncidentEvent.objects.filter(incident=world["ours"], kind="public_published").exists()
    assert client.get(f"{URL}{face['id']}/").json()["title"] == "Kundenportal gestört"
    assert [f["id"] for f in client.get(URL).json()["results"]] == [face["id"]]

    second = drive(IncidentFactory(services=[world["portal"]]), State.CLASSIFIED)
    linked = client.patch(f"{URL}{face['id']}/", {"incidents": [second.pk]}, format="json")
    assert linked.status_code == 200 and set(linked.json()["incidents"]) == {
        world["ours"].pk,
        second.pk,
    }
    update = client.post(
        f"{URL}{face['id']}/updates/",
        {"status": "monitoring", "body": "Behoben, wir beobachten."},
        format="json",
    )
    assert update.status_code == 201 and update.json()["status"] == "monitoring"
    assert PublicIncident.objects.get(pk=face["id"]).status == "monitoring"
    clear = client.post(f"{URL}{face['id']}/updates/", {"status": "resolved"}, format="json")
    assert clear.status_code == 201 and clear.json()["kind"] == "resolved"
    assert PublicIncident.objects.get(pk=face["id"]).resolved_at is not None
    assert IncidentEvent.objects.filter(incident=second, kind="public_resolved").exists()
    refused = client.post(f"{URL}{face['id']}/updates/", {"body": "noch was"}, format="json")
    error_shape(refused, 400)


def test_services_or_a_component_group_without_incidents(manager, world):
    client = api(manager)
    created = client.post(URL, {"groups": ["portale"], "body": "Wartung"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["services"] == ["portal"] and created.json()["incidents"] == []
    assert created.json()["title"] == "Störung: Kundenportal"  # the standard title


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "x"},
        {"incidents": [2**40]},
        {"incidents": ["eins"]},
        {"incidents": [999999]},
        {"services": ["gibt-es-nicht"]},
        {"incidents": [1], "status": "resolved"},
        {"incidents": [1], "title": 7},
    ],
)
def test_bad_input_is_a_clear_400(manager, world, body):
    error_shape(api(manager).post(URL, body, format="json"), 400)
    assert not PublicIncident.objects.exists()


def test_who_may_write(world, responder, executive, customer_contact):
    for person in (executive, customer_contact):
        client = api(person)
        error_shape(client.post(URL, {"incidents": [world["ours"].pk]}, format="json"), 403)
    # a responder: not on an incident it does not work on (as other incident writes)
    body = {"incidents": [world["ours"].pk]}
    error_shape(api(responder).post(URL, body, format="json"), 400)
    mine = IncidentFactory(services=[world["portal"]], actor=responder)
    assert api(responder).post(URL, {"incidents": [mine.pk]}, format="json").status_code == 201


def test_customer_tokens_read_their_organisations_public_incidents(
    manager, world, customer_contact, other_customer_contact
):
    client = api(manager)
    ours = client.post(
        URL,
        {"title": "Logistik Süd: Portal gestört", "incidents": [world["ours"].pk]},
        format="json",
    ).json()
    theirs = client.post(
        URL, {"title": "Lager gestört", "incidents": [world["theirs"].pk]}, format="json"
    ).json()
    reader = api(customer_contact, "read")
    listed = reader.get(URL).json()["results"]
    assert [item["id"] for item in listed] == [ours["id"]]
    item = listed[0]
    assert item["title"] == "[…]: Portal gestört"  # another organisation's name, redacted
    assert "incidents" not in item and "published_by" not in item and "title_en" not in item
    assert item["services"] == ["Kundenportal"]
    error_shape(reader.get(f"{URL}{theirs['id']}/"), 404)
    assert api(other_customer_contact, "read").get(f"{URL}{theirs['id']}/").status_code == 200
    error_shape(reader.post(f"{URL}{ours['id']}/updates/", {"body": "x"}, format="json"), 403)


def test_publishing_a_published_incident_again_is_a_409_and_changes_nothing(manager, world):
    client = api(manager)
    body = {"title": "Kundenportal gestört", "incidents": [world["ours"].pk]}
    assert client.post(URL, body, format="json").status_code == 201
    again = client.post(URL, {**body, "title": "Noch einmal"}, format="json")
    assert "Kundenportal gestört" in error_shape(again, 409, "already_published")["detail"]
    assert PublicIncident.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_publishing_at_once_make_one_public_face(manager, world):
    """Both press "Publish for customers" at the same moment, each with its own database
    connection: one public face, and the other is told it exists."""
    import threading

    from django.db import connection

    from escalation.services.public import public_incident_publish
    from incidents.exceptions import AlreadyPublished

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def press(title: str):
        try:
            barrier.wait()
            public_incident_publish(actor=manager, incidents=[world["ours"]], title=title)
            outcomes.append("published")
        except AlreadyPublished:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(t,)) for t in ("Erster", "Zweiter")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "published"]
    assert PublicIncident.objects.filter(incidents=world["ours"]).count() == 1
