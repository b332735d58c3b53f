"""A schedule's shifts over a week in the console, and overrides taken from there."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from escalation import roles
from escalation.models import LayerMember, OnCallSchedule, ScheduleLayer, ScheduleOverride
from escalation.selectors import on_call_user, schedule_calendar
from escalation.services.oncall import schedule_override_create, schedule_override_delete
from incidents.exceptions import InvalidInput, PermissionDenied
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin


def _staff(username, first_name):
    user = UserFactory(username=username, first_name=first_name, last_name="Test")
    user.groups.add(Group.objects.get(name=roles.RESPONDER))
    return user


@pytest.fixture
def people(db):
    return _staff("anna.a", "Anna"), _staff("bert.b", "Bert")


@pytest.fixture
def schedule(people):
    schedule = OnCallSchedule.objects.create(name="Plattform")
    layer = ScheduleLayer.objects.create(
        schedule=schedule, rotation="daily", start_date=date(2026, 11, 2), handoff_time=time(9)
    )
    for position, user in enumerate(people):
        LayerMember.objects.create(layer=layer, user=user, position=position)
    return schedule


def test_the_week_shows_each_day_with_shifts_over_midnight_on_both_days(schedule, people):
    calendar = schedule_calendar(schedule.pk, date(2026, 11, 24), 7)
    assert len(calendar["days"]) == 7
    tuesday = calendar["days"][0]
    # Daily handoffs at 09:00: Tuesday is 00:00-09:00 of Monday's person, then Tuesday's.
    assert [(s["start"].hour, s["end"].hour) for s in tuesday["shifts"]] == [(0, 9), (9, 0)]
    assert tuesday["shifts"][0]["user"] != tuesday["shifts"][1]["user"]
    assert calendar["days"][1]["shifts"][0]["user"] == tuesday["shifts"][1]["user"]


def test_a_responder_takes_over_a_shift_for_themselves_in_two_clicks(client, schedule, people):
    anna, bert = people
    with time_machine.travel(T0, tick=False):
        on_call = on_call_user(schedule.pk, T0 + timedelta(hours=2))
        taker = bert if on_call == anna else anna
        client.force_login(taker)
        page = client.get(reverse("console:oncall_schedule", args=[schedule.pk]))
        override_url = reverse("console:oncall_override", args=[schedule.pk])
        assert page.status_code == 200 and f'action="{override_url}"' in page.content.decode()
        response = client.post(
            override_url,
            {"user": taker.pk, "start": "2026-11-24T10:00", "end": "2026-11-24T18:00"},
        )
        assert response.status_code == 302
        assert on_call_user(schedule.pk, T0 + timedelta(hours=2)) == taker  # 11:00 Berlin
        assert on_call_user(schedule.pk, T0 + timedelta(hours=11)) == on_call  # after 18:00
        body = client.get(reverse("console:oncall_schedule", args=[schedule.pk])).content
        assert 'class="override"' in body.decode()


def test_only_managers_put_somebody_else_on_call(schedule, people, manager):
    anna, bert = people
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=1, hours=8)
    with time_machine.travel(T0, tick=False):
        with pytest.raises(PermissionDenied):
            schedule_override_create(schedule=schedule, actor=anna, user=bert, start=start, end=end)
        override = schedule_override_create(
            schedule=schedule, actor=manager, user=bert, start=start, end=end
        )
        with pytest.raises(PermissionDenied):
            schedule_override_delete(override=override, actor=anna)
        schedule_override_delete(override=override, actor=bert)  # their own
    assert not ScheduleOverride.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (timedelta(hours=5), timedelta(hours=1), "after the start"),
        (timedelta(hours=-5), timedelta(hours=-1), "over already"),
        (timedelta(hours=1), timedelta(days=40), "at most 31 days"),
    ],
)
def test_overrides_that_make_no_sense_are_refused(schedule, people, start, end, message):
    anna, _ = people
    with time_machine.travel(T0, tick=False), pytest.raises(InvalidInput, match=message):
        schedule_override_create(
            schedule=schedule, actor=anna, user=anna, start=T0 + start, end=T0 + end
        )
    assert not ScheduleOverride.objects.exists()
