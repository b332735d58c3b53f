"""The console's "Publish for customers": the form prefilled with the services' standard texts in
both languages, publishing, a public update (and the all-clear), joining an open public incident,
and the workaround's customer text."""

import pytest
from django.urls import reverse

from incidents.models import PublicIncident, State
from tests.factories import IncidentFactory, ServiceFactory, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(manager):
    portal = ServiceFactory(
        slug="portal",
        name="Kundenportal",
        public_text="Das Kundenportal ist gestört.",
        public_text_en="The customer portal is disrupted.",
    )
    return drive(
        IncidentFactory(
            services=[portal], title="INTERN: Meridian meldet Portal", commander=manager
        ),
        State.ESCALATED,
    )


def test_publish_form_is_prefilled_and_publishes(client, manager, incident):
    client.force_login(manager)
    url = reverse("console:incident", args=[incident.pk])
    page = client.get(url).content.decode()
    assert reverse("console:public_publish", args=[incident.pk]) in page
    assert "Das Kundenportal ist gestört." in page and "The customer portal is disrupted." in page
    assert 'value="Störung: Kundenportal"' in page and 'value="Disruption: Kundenportal"' in page
    response = client.post(
        reverse("console:public_publish", args=[incident.pk]),
        {
            "title": "Kundenportal gestört",
            "title_en": "Customer portal disrupted",
            "body": "Wir arbeiten daran.",
            "body_en": "We are on it.",
            "status": "investigating",
        },
    )
    assert response.status_code == 302
    face = incident.public_incidents.get()
    assert (face.title_en, face.published_by) == ("Customer portal disrupted", manager)
    page = client.get(url).content.decode()
    assert "Kundenportal gestört" in page
    assert reverse("console:public_update", args=[incident.pk]) in page
    response = client.post(
        reverse("console:public_update", args=[incident.pk]),
        {"status": "resolved", "body": "Behoben.", "body_en": "Fixed."},
    )
    assert response.status_code == 302
    face.refresh_from_db()
    assert face.status == "resolved"
    assert client.post(reverse("console:public_update", args=[incident.pk]), {}).status_code in (
        400,
        409,
    )


def test_join_an_open_public_incident_and_bad_input(client, manager, incident):
    client.force_login(manager)
    publish = reverse("console:public_publish", args=[incident.pk])
    assert client.post(publish, {"title": ""}).status_code == 400
    assert client.post(publish, {"public_incident": "999"}).status_code == 400
    other = drive(IncidentFactory(services=list(incident.services.all())), State.CLASSIFIED)
    client.post(
        reverse("console:public_publish", args=[other.pk]),
        {"title": "Portal", "body": "x", "status": "investigating"},
    )
    face = PublicIncident.objects.get()
    assert client.post(publish, {"public_incident": str(face.pk)}).status_code == 302
    assert set(face.incidents.all()) == {incident, other}


def test_the_workaround_form_carries_the_customer_text(client, manager, incident):
    client.force_login(manager)
    client.post(
        reverse("console:public_publish", args=[incident.pk]),
        {"title": "Portal", "body": "x", "status": "investigating"},
    )
    response = client.post(
        reverse("console:incident_action", args=[incident.pk, "provide_workaround"]),
        {
            "version": incident.__class__.objects.get(pk=incident.pk).updated_at.isoformat(),
            "provide_workaround-workaround": "INTERN: Queue umgehängt",
            "provide_workaround-customer_text": "Bitte nutzen Sie das Ersatzportal.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    latest = incident.public_incidents.get().updates.order_by("-created_at", "-pk").first()
    assert (latest.kind, latest.body) == ("workaround", "Bitte nutzen Sie das Ersatzportal.")
