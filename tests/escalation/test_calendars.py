"""Business hours and public holidays: opening, next opening, service time over weekends and DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.calendars import (
    BusinessHours,
    add_open_time,
    business_hours_mon_fri,
    is_holiday,
    is_open,
    next_open,
    open_seconds_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
PROPERTY = settings(max_examples=200, deadline=None)
HOUR = 3600.0

NW = business_hours_mon_fri(subdivision="NW")
HH = business_hours_mon_fri(subdivision="HH")
EVERY_DAY = BusinessHours(hours={day: ((time(8), time(18)),) for day in range(7)}, country=None)
WHOLE_DAYS = BusinessHours(hours={day: ((time(0), time(0)),) for day in range(7)}, country=None)
ALWAYS = BusinessHours(always_open=True)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- holidays and opening ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "day", "holiday"),
    [
        (NW, date(2026, 12, 25), True),
        (NW, date(2026, 4, 3), True),  # Good Friday
        (NW, date(2026, 4, 6), True),  # Easter Monday
        (NW, date(2026, 6, 4), True),  # Fronleichnam: a holiday in NW ...
        (HH, date(2026, 6, 4), False),  # ... but not in Hamburg
        (HH, date(2026, 10, 31), True),  # Reformationstag in Hamburg ...
        (NW, date(2026, 10, 31), False),  # ... but not in NW
        (NW, date(2026, 6, 5), False),
        (BusinessHours(country=None), date(2026, 12, 25), False),
    ],
)
def test_is_holiday(cal, day, holiday):
    assert is_holiday(cal, day) is holiday


@pytest.mark.parametrize(
    ("cal", "at", "expected"),
    [
        (NW, berlin(2026, 6, 5, 12), True),  # a Friday
        (NW, berlin(2026, 6, 6, 12), False),  # Saturday
        (NW, berlin(2026, 6, 7, 12), False),  # Sunday
        (NW, berlin(2026, 12, 25, 12), False),  # Christmas, a Friday
        (NW, berlin(2026, 6, 4, 12), False),  # Fronleichnam in NW
        (HH, berlin(2026, 6, 4, 12), True),  # a normal Thursday in Hamburg
        (NW, berlin(2026, 6, 5, 8), True),
        (NW, berlin(2026, 6, 5, 7, 59, 59), False),
        (NW, berlin(2026, 6, 5, 17, 59, 59), True),
        (NW, berlin(2026, 6, 5, 18), False),  # intervals are [from, until)
        (NW, utc(2026, 6, 5, 6), True),  # 08:00 in Berlin (CEST)
        (NW, utc(2026, 1, 5, 7), True),  # 08:00 in Berlin (CET)
        (NW, utc(2026, 1, 5, 6, 59), False),
        (ALWAYS, berlin(2026, 12, 25, 3), True),
    ],
)
def test_is_open(cal, at, expected):
    assert is_open(cal, at) is expected


# --- next_open ---------------------------------------------------------------------------------


def test_next_open_from_friday_evening_is_monday_morning():
    opening = next_open(NW, berlin(2026, 1, 9, 18, 30))
    assert opening == berlin(2026, 1, 12, 8)
    assert opening.tzinfo is UTC


def test_next_open_over_easter():
    # Good Friday 2026-04-03 and Easter Monday 2026-04-06 are holidays.
    assert next_open(NW, berlin(2026, 4, 2, 19)) == berlin(2026, 4, 7, 8)
    assert next_open(NW, berlin(2026, 4, 2, 19)) == utc(2026, 4, 7, 6)


def test_next_open_is_at_itself_when_open():
    at = berlin(2026, 1, 7, 10, 15)
    assert next_open(NW, at) == at
    assert next_open(NW, at).tzinfo is UTC
    assert next_open(ALWAYS, at) == at


def test_next_open_in_the_morning_is_the_same_day():
    assert next_open(NW, berlin(2026, 1, 7, 6)) == berlin(2026, 1, 7, 8)


def test_next_open_gives_up_when_never_open():
    with pytest.raises(ValueError, match="no opening"):
        next_open(BusinessHours(hours={}), berlin(2026, 1, 7))


def test_split_hours():
    cal = BusinessHours(hours={0: ((time(13), time(17)), (time(9), time(12)))}, country=None)
    assert next_open(cal, berlin(2026, 1, 5, 12, 30)) == berlin(2026, 1, 5, 13)
    assert open_seconds_between(cal, berlin(2026, 1, 5), berlin(2026, 1, 6)) == 7 * HOUR
    assert add_open_time(cal, berlin(2026, 1, 5, 11), 2 * HOUR) == berlin(2026, 1, 5, 14)


# --- service time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "start", "end", "hours"),
    [
        (NW, berlin(2026, 1, 9, 16), berlin(2026, 1, 12, 10), 4),  # across a weekend
        (NW, berlin(2026, 1, 10, 9), berlin(2026, 1, 11, 17), 0),  # within a weekend
        (NW, berlin(2026, 1, 5, 0), berlin(2026, 1, 12, 0), 50),  # a working week
        (NW, berlin(2026, 3, 27, 17), berlin(2026, 3, 30, 9), 2),  # the spring weekend
        (NW, berlin(2026, 4, 2, 17), berlin(2026, 4, 7, 9), 2),  # Easter
        (NW, berlin(2026, 6, 3, 12), berlin(2026, 6, 5, 12), 10),  # over Fronleichnam in NW
        (HH, berlin(2026, 6, 3, 12), berlin(2026, 6, 5, 12), 20),  # ... and in Hamburg
        (EVERY_DAY, berlin(2026, 3, 29), berlin(2026, 3, 30), 10),  # spring-forward day
        (EVERY_DAY, berlin(2026, 10, 25), berlin(2026, 10, 26), 10),  # fall-back day
        (WHOLE_DAYS, berlin(2026, 3, 29), berlin(2026, 3, 30), 23),
        (WHOLE_DAYS, berlin(2026, 10, 25), berlin(2026, 10, 26), 25),
        (ALWAYS, berlin(2026, 3, 29), berlin(2026, 3, 30), 23),
        (NW, berlin(2026, 1, 9, 16), berlin(2026, 1, 9, 16), 0),
        (NW, berlin(2026, 1, 12, 10), berlin(2026, 1, 9, 16), 0),  # end before start
    ],
)
def test_open_seconds_between(cal, start, end, hours):
    assert open_seconds_between(cal, start, end) == hours * HOUR


@pytest.mark.parametrize(
    ("cal", "start", "hours", "expected"),
    [
        (NW, berlin(2026, 1, 9, 16), 3, berlin(2026, 1, 12, 9)),  # over the weekend
        (NW, berlin(2026, 1, 9, 16), 2, berlin(2026, 1, 9, 18)),  # the close, not Monday
        (NW, berlin(2026, 1, 10, 12), 1, berlin(2026, 1, 12, 9)),  # starts while closed
        (NW, berlin(2026, 4, 2, 17), 2, berlin(2026, 4, 7, 9)),  # Easter
        (NW, berlin(2026, 1, 5, 8), 50, berlin(2026, 1, 9, 18)),
        (NW, berlin(2026, 1, 10, 12), 0, berlin(2026, 1, 10, 12)),
        (EVERY_DAY, berlin(2026, 3, 28, 17), 2, berlin(2026, 3, 29, 9)),  # over spring forward
        (WHOLE_DAYS, berlin(2026, 10, 25), 25, berlin(2026, 10, 26)),
        (ALWAYS, berlin(2026, 3, 29), 23, berlin(2026, 3, 30)),
    ],
)
def test_add_open_time(cal, start, hours, expected):
    result = add_open_time(cal, start, hours * HOUR)
    assert result == expected
    assert result.tzinfo is UTC
    assert open_seconds_between(cal, start, result) == hours * HOUR


def test_add_open_time_rejects_negative_seconds():
    with pytest.raises(ValueError, match="negative"):
        add_open_time(NW, berlin(2026, 1, 5, 9), -1)


def test_add_open_time_gives_up_when_never_open():
    with pytest.raises(ValueError, match="no opening"):
        add_open_time(BusinessHours(hours={}), berlin(2026, 1, 5, 9), 1)


def test_naive_datetimes_are_rejected():
    naive = datetime(2026, 1, 5, 12)
    for call in (
        lambda: is_open(NW, naive),
        lambda: next_open(NW, naive),
        lambda: open_seconds_between(NW, naive, berlin(2026, 1, 6)),
        lambda: open_seconds_between(NW, berlin(2026, 1, 4), naive),
        lambda: add_open_time(NW, naive, 60),
    ):
        with pytest.raises(ValueError, match="aware"):
            call()


@pytest.mark.parametrize(
    "hours",
    [
        {7: ((time(8), time(18)),)},
        {0: ((time(18), time(8)),)},
        {0: ((time(8), time(12)), (time(11), time(14)))},
    ],
)
def test_invalid_hours_are_rejected(hours):
    with pytest.raises(ValueError):
        BusinessHours(hours=hours)


def test_calendars_are_hashable_and_comparable():
    assert business_hours_mon_fri(subdivision="NW") == NW
    assert hash(business_hours_mon_fri(subdivision="NW")) == hash(NW)
    assert NW != HH


# --- properties --------------------------------------------------------------------------------

CALENDARS = [
    NW,
    HH,
    EVERY_DAY,
    WHOLE_DAYS,
    ALWAYS,
    BusinessHours(
        hours={0: ((time(9), time(12)), (time(13), time(17))), 5: ((time(10), time(14)),)},
        subdivision="BY",
    ),
    business_hours_mon_fri(time(2), time(3, 30), country=None),  # across the DST changes
    business_hours_mon_fri(time(0), time(0), time_zone="America/Santiago", country="CL"),
    business_hours_mon_fri(time(9), time(17), time_zone="America/New_York", country="US"),
]

instants = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([UTC, BERLIN]),
)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
cals = st.sampled_from(CALENDARS)


@PROPERTY
@given(cal=cals, a=instants, first=spans, second=spans)
def test_open_time_is_additive(cal, a, first, second):
    # Arithmetic on UTC instants: `+` on a Berlin datetime would add wall-clock time.
    b = a.astimezone(UTC) + first
    c = b + second
    whole = open_seconds_between(cal, a, c)
    parts = open_seconds_between(cal, a, b) + open_seconds_between(cal, b, c)
    assert whole == pytest.approx(parts, abs=1e-6)
    assert 0 <= open_seconds_between(cal, a, b) <= first.total_seconds()


@PROPERTY
@given(cal=cals, a=instants, b=instants)
def test_open_time_is_never_negative(cal, a, b):
    assert open_seconds_between(cal, a, b) >= 0
    if b.astimezone(UTC) <= a.astimezone(UTC):
        assert open_seconds_between(cal, a, b) == 0


@PROPERTY
@given(a=instants, b=instants)
def test_always_open_counts_wall_time(a, b):
    elapsed = (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds()  # real, not wall-clock
    assert open_seconds_between(ALWAYS, a, b) == max(elapsed, 0)


@PROPERTY
@given(cal=cals, start=instants, seconds=st.floats(0, 40 * 86400, allow_nan=False))
def test_add_open_time_inverts_open_seconds_between(cal, start, seconds):
    end = add_open_time(cal, start, seconds)
    assert end >= start
    assert end.tzinfo is UTC
    assert open_seconds_between(cal, start, end) == pytest.approx(seconds, abs=1e-6)
    # The earliest such instant: a moment earlier, less open time has elapsed.
    if seconds > 0:
        assert open_seconds_between(cal, start, end - timedelta(milliseconds=1)) < seconds


@PROPERTY
@given(cal=cals, at=instants)
def test_next_open_is_open_and_nothing_opens_before_it(cal, at):
    opening = next_open(cal, at)
    assert opening >= at
    assert is_open(cal, opening)
    assert open_seconds_between(cal, at, opening) == 0
