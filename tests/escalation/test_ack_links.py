"""One-click acknowledgement links: work without login, expire, single use, record who; every
failure is a clear page."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing

from escalation.models import AckLink, EscalationRun
from escalation.services import incident_acknowledge, incident_classify
from escalation.services.engine import ACK_SALT
from incidents.models import EventKind, IncidentEvent
from notifications.models import Notification
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def _shortly_after_t0():
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        yield


@pytest.fixture
def paged_incident(manager):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory()
        return incident_classify(incident=incident, actor=manager, impact="high", urgency="high")


def ack_path(incident):
    url = Notification.objects.get(template="page", context__incident_id=incident.pk).context[
        "ack_url"
    ]
    assert url.startswith("http://127.0.0.1:8000/ack/")
    return url.removeprefix("http://127.0.0.1:8000")


def test_link_shows_a_button_then_acknowledges_without_login(client, paged_incident, manager):
    path = ack_path(paged_incident)
    with time_machine.travel(T0 + timedelta(minutes=4), tick=False):
        page = client.get(path)
        assert page.status_code == 200
        body = page.content.decode()
        assert paged_incident.title in body and '<form method="post"' in body
        paged_incident.refresh_from_db()
        assert paged_incident.acknowledged_at is None  # opening the link alone changes nothing
        done = client.post(path)
    assert done.status_code == 200 and "Paging has stopped" in done.content.decode()
    paged_incident.refresh_from_db()
    assert paged_incident.acknowledged_at == T0 + timedelta(minutes=4)
    event = IncidentEvent.objects.get(incident=paged_incident, kind=EventKind.ACKNOWLEDGED)
    assert event.actor == manager and event.data == {"via": "link"}
    assert EscalationRun.objects.get(incident=paged_incident).status == "acknowledged"
    assert AckLink.objects.get().used_at is not None


def test_reused_link_is_refused(client, paged_incident):
    path = ack_path(paged_incident)
    assert client.post(path).status_code == 200
    again = client.post(path)
    assert again.status_code == 410 and "already used" in again.content.decode()
    assert client.get(path).status_code == 410


def test_expired_link_is_refused(client, paged_incident):
    path = ack_path(paged_incident)
    with time_machine.travel(T0 + timedelta(hours=24, seconds=1), tick=False):
        response = client.post(path)
    assert response.status_code == 410 and "expired" in response.content.decode()
    paged_incident.refresh_from_db()
    assert paged_incident.acknowledged_at is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: signing.dumps({"link": 999}, salt="wrong-salt"),  # forged elsewhere
        lambda t: "not-a-token",
        lambda t: signing.dumps({"nolink": 1}, salt=ACK_SALT),  # signed, but not a link
    ],
)
def test_tampered_link_is_refused(client, paged_incident, mangle):
    token = ack_path(paged_incident).split("/")[2]
    response = client.post(f"/ack/{mangle(token)}/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    paged_incident.refresh_from_db()
    assert paged_incident.acknowledged_at is None


def test_link_after_someone_else_acknowledged(client, paged_incident, responder):
    path = ack_path(paged_incident)
    incident_acknowledge(incident=paged_incident, actor=responder)
    response = client.post(path)
    assert response.status_code == 409
    body = response.content.decode()
    assert "already acknowledged" in body
    assert AckLink.objects.get().used_at is None  # nothing was written


def test_german_error_page(client, paged_incident):
    response = client.post("/ack/garbage/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert "Dieser Link ist ungültig" in response.content.decode()
