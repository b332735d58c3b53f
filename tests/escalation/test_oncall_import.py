"""Importing a schedule's shifts from an iCal calendar: a file, or a URL served by a real HTTP
server on 127.0.0.1 and refreshed by the hourly task."""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from escalation import roles
from escalation.models import OnCallSchedule, ScheduleImport, ScheduleOverride
from escalation.selectors import on_call_user
from escalation.services.oncall import (
    schedule_ical_fetch,
    schedule_ical_import,
    schedule_imports_refresh,
    schedule_override_create,
)
from escalation.tasks import schedule_imports_refresh as refresh_task
from incidents.exceptions import InvalidInput, PermissionDenied
from tests.factories import UserFactory
from tests.servers import free_port

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin


def ics(*events: str) -> bytes:
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Rota//EN", *events, "END:VCALENDAR"]
    )
    return (body + "\r\n").encode()


# Every Monday 08:00-20:00 Berlin (a recurring event), Anna by attendee address.
ANNA_MONDAYS = "\r\n".join(
    [
        "BEGIN:VEVENT",
        "UID:anna-mondays@test",
        "SUMMARY:Bereitschaft Plattform",
        "DTSTART;TZID=Europe/Berlin:20261116T080000",
        "DTEND;TZID=Europe/Berlin:20261116T200000",
        "RRULE:FREQ=WEEKLY",
        "ATTENDEE;CN=Anna:mailto:Anna@Example.org",
        "END:VEVENT",
    ]
)
# Tuesday 24 November, all day, Bert by username in the title.
BERT_TUESDAY = "\r\n".join(
    [
        "BEGIN:VEVENT",
        "UID:bert@test",
        "SUMMARY:bert.b",
        "DTSTART;VALUE=DATE:20261124",
        "DTEND;VALUE=DATE:20261125",
        "END:VEVENT",
    ]
)
NOBODY = "\r\n".join(
    [
        "BEGIN:VEVENT",
        "UID:nobody@test",
        "SUMMARY:Externer Dienstleister",
        "DTSTART:20261125T080000Z",
        "DTEND:20261125T100000Z",
        "END:VEVENT",
    ]
)


@pytest.fixture
def people(db):
    anna = UserFactory(username="anna.a", email="anna@example.org", first_name="Anna")
    bert = UserFactory(username="bert.b", email="bert@example.org", first_name="Bert")
    for user in (anna, bert):
        user.groups.add(Group.objects.get(name=roles.RESPONDER))
    return anna, bert


@pytest.fixture
def schedule(db):
    return OnCallSchedule.objects.create(name="Plattform")


def at_berlin(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour - 1, 0, tzinfo=UTC)  # CET = UTC+1 in November


def test_a_calendar_file_puts_the_people_it_names_on_call(schedule, people, manager):
    anna, bert = people
    with time_machine.travel(T0, tick=False):
        source = schedule_ical_import(
            schedule=schedule, actor=manager, content=ics(ANNA_MONDAYS, BERT_TUESDAY, NOBODY)
        )
    # Mondays from 23 November (the day before is the import's start) for 90 days: 13 of them.
    assert source.shifts == 13 + 1
    assert source.unmatched == ["Externer Dienstleister"]
    assert on_call_user(schedule.pk, at_berlin(23, 9)) == anna
    assert on_call_user(schedule.pk, at_berlin(30, 19)) == anna  # the next Monday, recurring
    assert on_call_user(schedule.pk, at_berlin(30, 21)) is None
    assert on_call_user(schedule.pk, datetime(2026, 11, 23, 23, 1, tzinfo=UTC)) == bert  # all day
    assert on_call_user(schedule.pk, at_berlin(24, 23)) == bert


def test_a_new_import_replaces_the_previous_one_and_keeps_hand_made_overrides(
    schedule, people, manager
):
    anna, bert = people
    with time_machine.travel(T0, tick=False):
        schedule_override_create(
            schedule=schedule,
            actor=manager,
            user=bert,
            start=at_berlin(26, 8),
            end=at_berlin(26, 9),
        )
        schedule_ical_import(schedule=schedule, actor=manager, content=ics(ANNA_MONDAYS))
        schedule_ical_import(schedule=schedule, actor=manager, content=ics(BERT_TUESDAY))
    assert ScheduleOverride.objects.filter(imported_from__isnull=False).count() == 1
    assert ScheduleOverride.objects.filter(imported_from__isnull=True).count() == 1
    assert on_call_user(schedule.pk, at_berlin(30, 9)) is None  # Anna's Mondays are gone


def test_only_managers_import_and_rubbish_is_refused(schedule, people, manager):
    anna, _ = people
    with pytest.raises(PermissionDenied):
        schedule_ical_import(schedule=schedule, actor=anna, content=ics(ANNA_MONDAYS))
    with pytest.raises(InvalidInput, match="not an iCalendar file"):
        schedule_ical_import(schedule=schedule, actor=manager, content=b"<html>nope</html>")
    assert not ScheduleImport.objects.exists()


@pytest.fixture
def calendar_server():
    """A real HTTP server on 127.0.0.1 serving `served["body"]` (status `served["status"]`)."""
    served = {"body": b"", "status": 200, "requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            served["requests"] += 1
            self.send_response(served["status"])
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(served["body"])))
            self.end_headers()
            self.wfile.write(served["body"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served["url"] = f"http://127.0.0.1:{server.server_port}/rota.ics"
    yield served
    server.shutdown()


def test_a_calendar_url_is_fetched_and_refreshed_by_the_hourly_task(
    schedule, people, manager, calendar_server
):
    anna, bert = people
    calendar_server["body"] = ics(ANNA_MONDAYS)
    with time_machine.travel(T0, tick=False):
        schedule_ical_fetch(schedule=schedule, actor=manager, url=calendar_server["url"])
        assert on_call_user(schedule.pk, at_berlin(23, 9)) == anna

        calendar_server["body"] = ics(BERT_TUESDAY)  # the rota changed at its source
        assert refresh_task.apply().get() == 1
        assert on_call_user(schedule.pk, at_berlin(23, 9)) is None
        assert on_call_user(schedule.pk, at_berlin(24, 9)) == bert

        calendar_server["status"] = 503  # the source is down: the shifts stay, the error shows
        assert schedule_imports_refresh() == 0
    source = ScheduleImport.objects.get(schedule=schedule)
    assert "503" in source.error
    assert on_call_user(schedule.pk, at_berlin(24, 9)) == bert
    assert calendar_server["requests"] == 3


def test_the_console_imports_a_file_and_says_what_it_did(client, schedule, people, manager):
    client.force_login(manager)
    url = reverse("console:oncall_import", args=[schedule.pk])
    upload = SimpleUploadedFile("rota.ics", ics(BERT_TUESDAY, NOBODY), "text/calendar")
    with time_machine.travel(T0, tick=False):
        response = client.post(url, {"file": upload}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Externer Dienstleister" in page
    assert client.post(url, {}).status_code == 400  # neither URL nor file
    bad = SimpleUploadedFile("rota.ics", b"not a calendar", "text/calendar")
    assert client.post(url, {"file": bad}).status_code == 400
