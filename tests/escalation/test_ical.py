"""The iCal feed of on-call shifts, parsed back with icalendar."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from escalation.ical import PRODID, shifts_to_ical
from escalation.schedules import Layer, ScheduleSpec, Shift, shifts_between

BERLIN = ZoneInfo("Europe/Berlin")
NAMES = {1: "Anna Schmidt", 2: "Jörg Müller", 3: "Lee, Sam; on-call"}
SCHEDULE = ScheduleSpec(
    layers=(Layer(date(2026, 3, 23), time(9), shift_days=1, participants=(1, 2, 3)),)
)
# Across the spring change: the handoff stays at 09:00 local, 08:00Z before and 07:00Z after.
SHIFTS = shifts_between(
    SCHEDULE, datetime(2026, 3, 27, 9, tzinfo=BERLIN), datetime(2026, 3, 31, 9, tzinfo=BERLIN)
)
STAMP = datetime(2026, 3, 1, 12, tzinfo=UTC)


def render(shifts=SHIFTS, **kwargs) -> bytes:
    kwargs.setdefault("dtstamp", STAMP)
    return shifts_to_ical(
        calendar_name="Platform on call", shifts=shifts, user_names=NAMES, uid_prefix="s7", **kwargs
    )


def test_calendar_properties():
    calendar = Calendar.from_ical(render())
    assert calendar.name == "VCALENDAR"
    assert str(calendar["PRODID"]) == PRODID == "-//Escalation Manager//On-call//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "Platform on call"


def test_one_event_per_shift_in_utc():
    calendar = Calendar.from_ical(render())
    events = calendar.walk("VEVENT")
    assert len(events) == len(SHIFTS) == 4
    for event, shift in zip(events, SHIFTS, strict=True):
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert (start, end) == (shift.start, shift.end)
        assert start.utcoffset() == end.utcoffset() == timedelta(0)
        assert str(event["SUMMARY"]) == f"On call: {NAMES[shift.user_id]}"
        assert event.decoded("DTSTAMP") == STAMP
    assert [event.decoded("DTSTART") for event in events] == [
        datetime(2026, 3, 27, 8, tzinfo=UTC),
        datetime(2026, 3, 28, 8, tzinfo=UTC),
        datetime(2026, 3, 29, 7, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
    ]
    raw = render().decode()
    assert "DTSTART:20260329T070000Z" in raw
    assert "TZID" not in raw


def test_uids_are_stable_and_unique():
    first = Calendar.from_ical(render(dtstamp=STAMP))
    second = Calendar.from_ical(render(dtstamp=STAMP + timedelta(days=3)))
    uids = [str(event["UID"]) for event in first.walk("VEVENT")]
    assert uids == [str(event["UID"]) for event in second.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    start = int(datetime(2026, 3, 29, 7, tzinfo=UTC).timestamp())
    assert f"s7-layer0-1-{start}@escalation-manager" in uids  # prefix, layer, user, start


def test_same_input_renders_the_same_bytes():
    assert render() == render()
    assert render(shifts=list(reversed(SHIFTS))) == render()  # events sorted by start


def test_shift_times_in_other_zones_are_written_in_utc():
    shift = Shift(
        2,
        datetime(2026, 10, 24, 9, tzinfo=BERLIN),  # CEST
        datetime(2026, 10, 25, 9, tzinfo=BERLIN),  # CET
        "override",
    )
    (event,) = Calendar.from_ical(render(shifts=[shift])).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2026, 10, 24, 7, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 10, 25, 8, tzinfo=UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=25)


def test_unknown_user_and_special_characters():
    shifts = [
        Shift(3, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), "layer:0"),
        Shift(9, datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC), "layer:0"),
    ]
    events = Calendar.from_ical(render(shifts=shifts)).walk("VEVENT")
    assert [str(event["SUMMARY"]) for event in events] == [
        "On call: Lee, Sam; on-call",
        "On call: User 9",
    ]


def test_empty_feed_and_default_stamp():
    before = datetime.now(UTC).replace(microsecond=0)
    calendar = Calendar.from_ical(
        shifts_to_ical(calendar_name="Empty", shifts=[], user_names={}, uid_prefix="s1")
    )
    assert calendar.walk("VEVENT") == []
    (event,) = Calendar.from_ical(
        shifts_to_ical(calendar_name="One", shifts=SHIFTS[:1], user_names=NAMES, uid_prefix="s1")
    ).walk("VEVENT")
    assert event.decoded("DTSTAMP") >= before


def test_naive_times_are_rejected():
    shift = Shift(1, datetime(2026, 1, 1), datetime(2026, 1, 2), "layer:0")
    with pytest.raises(ValueError, match="aware"):
        render(shifts=[shift])
