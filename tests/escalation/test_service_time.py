"""Service time over weekends, public holidays and daylight-saving changes, 2025-2027.

Complements test_calendars.py (which checks each function on its own over many calendars): here
the Berlin business calendar of a contract (Mon-Fri 08:00-18:00, public holidays of NW) and a 24/7
one, with instants drawn across 2025-2027 and crowded around the six DST changes in that range.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from escalation.calendars import (
    BusinessHours,
    add_open_time,
    business_hours_mon_fri,
    open_seconds_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
PROPERTY = settings(max_examples=80, deadline=None)
HOUR = 3600.0
TOLERANCE = 1e-6

BUSINESS = business_hours_mon_fri(time(8), time(18), subdivision="NW")
TWENTY_FOUR_SEVEN = BusinessHours(always_open=True)
# Open every local day from 00:00 to 24:00 without holidays: 24/7 in wall-clock terms, but counted
# through the opening intervals, so it must agree with the shortcut of `always_open`.
WHOLE_DAYS = BusinessHours(hours={day: ((time(0), time(0)),) for day in range(7)}, country=None)

# The last Sundays of March and October: clocks change at 01:00 UTC.
DST_CHANGES = [
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


anywhere = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
)
near_a_dst_change = st.builds(
    lambda day, offset: datetime.combine(day, time(1), tzinfo=UTC) + offset,
    st.sampled_from(DST_CHANGES),
    st.timedeltas(min_value=timedelta(days=-4), max_value=timedelta(days=4)),
)
instants = st.one_of(near_a_dst_change, anywhere)
calendars = st.sampled_from([BUSINESS, TWENTY_FOUR_SEVEN, WHOLE_DAYS])
# Service time to add: up to two working weeks, in whole seconds or fractions of one.
service_seconds = st.one_of(
    st.integers(0, 100 * 3600).map(float),
    st.floats(min_value=0, max_value=100 * 3600, allow_nan=False),
)


# --- properties --------------------------------------------------------------------------------


@PROPERTY
@given(cal=calendars, instants=st.lists(instants, min_size=3, max_size=3))
@example(  # the spring-forward night, 01:30-03:30 local, split at the change
    cal=WHOLE_DAYS,
    instants=[utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)],
)
def test_service_time_is_additive_and_bounded_by_wall_time(cal, instants):
    a, b, c = sorted(instants)
    first, second = open_seconds_between(cal, a, b), open_seconds_between(cal, b, c)
    whole = open_seconds_between(cal, a, c)
    assert whole == pytest.approx(first + second, abs=TOLERANCE)
    for part, start, end in ((first, a, b), (second, b, c), (whole, a, c)):
        assert 0 <= part <= (end - start).total_seconds()
    # Backwards, nothing elapses.
    assert open_seconds_between(cal, c, a) == 0
    assert open_seconds_between(cal, b, b) == 0


@PROPERTY
@given(cal=calendars, start=instants, end=instants, later=instants)
def test_service_time_never_decreases_as_the_end_moves_later(cal, start, end, later):
    earlier, later = sorted([end, later])
    assert open_seconds_between(cal, start, earlier) <= open_seconds_between(cal, start, later)


@PROPERTY
@given(cal=st.sampled_from([TWENTY_FOUR_SEVEN, WHOLE_DAYS]), start=instants, end=instants)
@example(cal=WHOLE_DAYS, start=berlin(2026, 3, 28, 12), end=berlin(2026, 3, 29, 12))
@example(cal=WHOLE_DAYS, start=berlin(2027, 10, 30, 12), end=berlin(2027, 10, 31, 12))
def test_round_the_clock_service_time_is_wall_time(cal, start, end):
    wall = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    assert open_seconds_between(cal, start, end) == pytest.approx(max(wall, 0), abs=TOLERANCE)


@PROPERTY
@given(cal=calendars, start=instants, end=instants)
def test_the_zone_of_the_inputs_does_not_matter(cal, start, end):
    in_utc = open_seconds_between(cal, start, end)
    assert open_seconds_between(cal, start.astimezone(BERLIN), end.astimezone(BERLIN)) == in_utc
    assert open_seconds_between(cal, start.astimezone(BERLIN), end) == in_utc


@PROPERTY
@given(cal=calendars, start=instants, seconds=service_seconds)
@example(cal=BUSINESS, start=berlin(2026, 3, 27, 17), seconds=2 * HOUR)  # over the DST weekend
def test_add_open_time_inverts_open_seconds_between(cal, start, seconds):
    end = add_open_time(cal, start, seconds)
    assert end >= start
    assert open_seconds_between(cal, start, end) == pytest.approx(seconds, abs=TOLERANCE)


@PROPERTY
@given(cal=calendars, start=instants, first=service_seconds, second=service_seconds)
def test_adding_service_time_in_two_steps_lands_where_one_step_does(cal, start, first, second):
    # Targets are chained (response, then restore from the response): the order of the steps and
    # where they split must not matter. timedelta keeps microseconds, so allow one per step.
    halfway = add_open_time(cal, start, first)
    in_two = add_open_time(cal, halfway, second)
    in_one = add_open_time(cal, start, first + second)
    assert abs(in_two - in_one) <= timedelta(microseconds=2)
    assert halfway <= in_one + timedelta(microseconds=1)


# --- examples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(berlin(2025, 6, 13, 17), utc(2025, 6, 16, 7), id="summer"),  # 09:00 CEST
        pytest.param(berlin(2025, 1, 10, 17), utc(2025, 1, 13, 8), id="winter"),  # 09:00 CET
        # 1 h on Friday, 1 h on Monday; the clocks change on the Sunday in between.
        pytest.param(berlin(2026, 3, 27, 17), utc(2026, 3, 30, 7), id="spring-forward-weekend"),
        pytest.param(berlin(2026, 10, 23, 17), utc(2026, 10, 26, 8), id="fall-back-weekend"),
    ],
)
def test_friday_1700_plus_two_hours_is_monday_0900(start, expected):
    end = add_open_time(BUSINESS, start, 2 * HOUR)
    assert end == expected
    assert end.astimezone(BERLIN).weekday() == 0
    assert end.astimezone(BERLIN).time() == time(9)
    assert open_seconds_between(BUSINESS, start, end) == 2 * HOUR


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Thu 17:00 + 2 h: Good Friday and Easter Monday are closed -> Tuesday 09:00.
        pytest.param(berlin(2025, 4, 17, 17), berlin(2025, 4, 22, 9), id="easter-2025"),
        # Easter Sunday 2027 is also the spring-forward day: CET on Thursday, CEST on Tuesday.
        pytest.param(berlin(2027, 3, 25, 17), utc(2027, 3, 30, 7), id="easter-2027-and-dst"),
        # Wed 24 Dec is a working day; 25 and 26 Dec (Thu, Fri) are holidays -> Mon 29 Dec.
        pytest.param(berlin(2025, 12, 24, 17), berlin(2025, 12, 29, 9), id="christmas-2025"),
        # Thu 24 Dec; 25 Dec is a Friday, 26 Dec a Saturday -> Mon 28 Dec.
        pytest.param(berlin(2026, 12, 24, 17), berlin(2026, 12, 28, 9), id="christmas-2026"),
        # Wed 31 Dec, then New Year's Day (Thu) -> Fri 2 Jan, across the turn of the year.
        pytest.param(berlin(2025, 12, 31, 17), berlin(2026, 1, 2, 9), id="new-year-2026"),
    ],
)
def test_public_holidays_are_skipped(start, expected):
    end = add_open_time(BUSINESS, start, 2 * HOUR)
    assert end == expected
    assert open_seconds_between(BUSINESS, start, end) == 2 * HOUR


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        # Mon 22 - Sun 28 Dec 2025: Mon, Tue, Wed open (3 x 10 h); Thu 25, Fri 26 holidays.
        pytest.param(berlin(2025, 12, 22), berlin(2025, 12, 29), 30, id="christmas-week-2025"),
        # Mon 29 Dec 2025 - Sun 4 Jan 2026: Mon, Tue, Wed, Fri (4 x 10 h); Thu 1 Jan a holiday.
        pytest.param(berlin(2025, 12, 29), berlin(2026, 1, 5), 40, id="new-year-week"),
        # Mon 24 - Sun 30 Mar 2025, the spring-forward week: a full 5 x 10 h.
        pytest.param(berlin(2025, 3, 24), berlin(2025, 3, 31), 50, id="dst-week-2025"),
        # Mon 22 - Sun 28 Mar 2027: Fri 26 Mar is Good Friday, 4 x 10 h.
        pytest.param(berlin(2027, 3, 22), berlin(2027, 3, 29), 40, id="good-friday-2027"),
        # Mon 29 Mar 2027 (Easter Monday) - Sun 4 Apr: Tue to Fri, 4 x 10 h.
        pytest.param(berlin(2027, 3, 29), berlin(2027, 4, 5), 40, id="easter-monday-2027"),
        # All of 2026: 261 weekdays (52 weeks and a Thursday), 8 NW holidays on weekdays (1 Jan,
        # Good Friday, Easter Monday, 1 May, Ascension, Whit Monday, Corpus Christi, 25 Dec;
        # 3 Oct, 1 Nov and 26 Dec fall on weekends) -> 261 - 8 = 253 days x 10 h.
        pytest.param(berlin(2026, 1, 1), berlin(2027, 1, 1), 2530, id="year-2026"),
    ],
)
def test_business_hours_over_holiday_weeks(start, end, hours):
    assert open_seconds_between(BUSINESS, start, end) == hours * HOUR


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        pytest.param(date(2025, 3, 30), 23, id="spring-forward-2025"),
        pytest.param(date(2025, 10, 26), 25, id="fall-back-2025"),
        pytest.param(date(2027, 3, 28), 23, id="spring-forward-2027"),
        pytest.param(date(2027, 10, 31), 25, id="fall-back-2027"),
        pytest.param(date(2027, 3, 27), 24, id="the-saturday-before"),
    ],
)
def test_a_whole_day_calendar_counts_the_length_of_the_local_day(day, hours):
    # (2026-03-29 and 2026-10-25 are in test_calendars.py.)
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert open_seconds_between(WHOLE_DAYS, midnight, next_midnight) == hours * HOUR
    assert add_open_time(WHOLE_DAYS, midnight, hours * HOUR) == next_midnight


def test_service_time_runs_through_the_missing_and_the_repeated_hour():
    # Spring forward 2026: local 00:00 CET + 2 h of service time is 03:00 CEST (02:xx never was).
    assert add_open_time(WHOLE_DAYS, berlin(2026, 3, 29), 2 * HOUR) == berlin(2026, 3, 29, 3)
    # Fall back 2026: local 00:00 CEST + 3 h is the second 02:00 (CET), 01:00 UTC.
    assert add_open_time(WHOLE_DAYS, berlin(2026, 10, 25), 3 * HOUR) == utc(2026, 10, 25, 1)
    assert open_seconds_between(
        WHOLE_DAYS, berlin(2026, 10, 25, 2), berlin(2026, 10, 25, 3)
    ) == pytest.approx(2 * HOUR)  # 02:00 CEST (fold=0) to 03:00 CET: two real hours
