"""On call now (console page and API), iCal feeds, the matrix page and an incident's plan:
who may see them, and what they show."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
import vobject
from icalendar import Calendar

from escalation.models import CommunicationRule, LayerMember, OnCallSchedule, ScheduleLayer
from escalation.services import incident_classify
from escalation.views import person_ical_token
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tuesday


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rota(db):
    anna, ben = UserFactory(username="anna", first_name="Anna"), UserFactory(username="ben")
    schedule = OnCallSchedule.objects.create(name="Datenbanken")
    layer = ScheduleLayer.objects.create(
        schedule=schedule, rotation="daily", start_date=date(2026, 11, 23), handoff_time=time(9)
    )
    LayerMember.objects.create(layer=layer, user=anna, position=0)
    LayerMember.objects.create(layer=layer, user=ben, position=1)
    return schedule


STAFF_URLS = ["/console/oncall/", "/console/matrix/", "/api/v1/oncall/"]


@pytest.mark.parametrize("url", STAFF_URLS)
@pytest.mark.parametrize(
    ("who", "status"),
    [("manager", 200), ("responder", 200), ("executive", 403), ("customer_contact", 403)],
)
def test_who_may_see_on_call_and_matrix(client, request, rota, url, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", STAFF_URLS)
def test_anonymous_is_sent_to_login_or_refused(client, url):
    response = client.get(url)
    if url.startswith("/api/"):
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    else:
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_on_call_now_and_next(client, manager, rota, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        data = client.get("/api/v1/oncall/").json()
    # Shift 1 (Tue 09:00 Berlin -> Wed 09:00) belongs to ben; anna takes over Wednesday 09:00.
    assert data == [
        {
            "schedule": {"id": rota.pk, "name": "Datenbanken"},
            "now": {"id": rota.layers.get().members.get(position=1).user_id, "username": "ben",
                    "name": "ben"},
            "next": {"id": rota.layers.get().members.get(position=0).user_id, "username": "anna",
                     "name": "Anna", "start": "2026-11-25T08:00:00+00:00"},
        }
    ]  # fmt: skip
    page = client.get("/console/oncall/").content.decode()
    assert "Datenbanken" in page and "ben" in page and "Anna" in page


def test_schedule_ical_feed(client, rota):
    url = f"/oncall/{rota.pk}/{rota.ical_token}.ics"
    response = client.get(url)  # subscribable without login: the token is the secret
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = [c for c in Calendar.from_ical(response.content).walk("VEVENT")]
    assert len(events) == 85  # daily shifts from the rota start (23.11.) to 90 days after now-7d
    assert client.get(f"/oncall/{rota.pk}/wrong-token.ics").status_code == 404


def test_personal_ical_feed(client, rota):
    anna = rota.layers.get().members.get(position=0).user
    response = client.get(f"/oncall/people/{anna.pk}/{person_ical_token(anna)}.ics")
    assert response.status_code == 200
    summaries = {str(e["SUMMARY"]) for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert summaries == {"On call: Anna (Datenbanken)"}  # which schedule it belongs to
    other = rota.layers.get().members.get(position=1).user
    forged = f"/oncall/people/{other.pk}/{person_ical_token(anna)}.ics"
    assert client.get(forged).status_code == 404


def test_matrix_page_lists_every_rule(client, manager):
    CommunicationRule.objects.create(priority=1, audience="executives", channels=["email"],
                                     cadence_minutes=30)  # fmt: skip
    client.force_login(manager)
    page = client.get("/console/matrix/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Executives" in page and "30 minutes" in page and "email" in page


def test_incident_communication_plan(client, manager, responder, executive):
    CommunicationRule.objects.create(priority=1, audience="executives", channels=["email"],
                                     cadence_minutes=30)  # fmt: skip
    incident = incident_classify(
        incident=IncidentFactory(commander=responder),  # the responder works on it
        actor=manager,
        impact="high",
        urgency="high",
    )
    client.force_login(responder)
    page = client.get(f"/console/incidents/{incident.pk}/communication/",
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()  # fmt: skip
    assert "erika.executive" in page or "executive" in page
    assert "Update due" in page and "Next escalation level" in page
    client.force_login(executive)
    assert client.get(f"/console/incidents/{incident.pk}/communication/").status_code == 403


def _events(content: bytes) -> dict[str, tuple]:
    """UID -> (start, end, summary, categories), parsed and validated by vobject."""
    calendar = vobject.readOne(content.decode())
    calendar.validate()  # raises on a component or property RFC 5545 does not allow
    return {
        event.uid.value: (
            event.dtstart.value,
            event.dtend.value,
            event.summary.value,
            tuple(event.categories.value) if hasattr(event, "categories") else (),
        )
        for event in calendar.vevent_list
    }


def test_feed_uids_are_stable_while_the_window_moves(client, rota):
    """The window starts 7 days before now; a shift that started before the window keeps its real
    start (not the window's) and so its UID from one fetch to the next, hours apart."""
    # Weekly shifts from long before the window: the one running at its start began earlier.
    rota.layers.update(start_date=date(2026, 10, 1), rotation="weekly")
    url = f"/oncall/{rota.pk}/{rota.ical_token}.ics"
    first = _events(client.get(url).content)
    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        second = _events(client.get(url).content)
    earliest = min(first.values())
    assert earliest[0] < NOW - timedelta(days=7)  # its real start, before the window
    common = set(first) & set(second)
    assert min(first, key=first.get) in common  # the first event did not change its UID
    assert all(first[uid][0] == second[uid][0] for uid in common)
    assert all(v[3] == ("Datenbanken",) for v in first.values())
    assert all(uid.startswith(f"schedule-{rota.pk}-layer") for uid in first)


def test_personal_feed_names_the_schedules_and_validates(client, rota):
    anna = rota.layers.get().members.get(position=0).user
    other = OnCallSchedule.objects.create(name="Netzwerk")
    layer = ScheduleLayer.objects.create(
        schedule=other, rotation="weekly", start_date=date(2026, 11, 2), handoff_time=time(9)
    )
    LayerMember.objects.create(layer=layer, user=anna, position=0)
    ben = rota.layers.get().members.get(position=1).user
    LayerMember.objects.create(layer=layer, user=ben, position=1)
    url = f"/oncall/people/{anna.pk}/{person_ical_token(anna)}.ics"
    events = _events(client.get(url).content)
    assert {v[3] for v in events.values()} >= {("Datenbanken",), ("Netzwerk",)}
    assert all(v[2].startswith("On call: Anna (") for v in events.values())
    prefixes = {uid.split("-layer")[0] for uid in events}
    assert prefixes == {f"schedule-{rota.pk}", f"schedule-{other.pk}"}
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        later = _events(client.get(url).content)
    assert min(events, key=events.get) in later  # the first (clipped before) keeps its UID
