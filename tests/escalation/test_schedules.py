"""On-call schedules: rotations, layers, restrictions, overrides and daylight-saving changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.schedules import (
    Layer,
    Override,
    ScheduleSpec,
    Shift,
    next_shift,
    shifts_between,
    wall_clock_to_utc,
    who_is_on_call,
)

BERLIN = ZoneInfo("Europe/Berlin")
PROPERTY = settings(max_examples=200, deadline=None)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def daily(participants: tuple[int, ...], **kwargs) -> Layer:
    kwargs.setdefault("start_date", date(2026, 1, 5))  # a Monday
    kwargs.setdefault("handoff_time", time(9))
    return Layer(shift_days=1, participants=participants, **kwargs)


# --- rotations ---------------------------------------------------------------------------------

DAILY = ScheduleSpec(layers=(daily((1, 2, 3)),))
WEEKLY = ScheduleSpec(layers=(Layer(date(2026, 1, 5), time(9), shift_days=7, participants=(1, 2)),))
EVERY_THREE_DAYS = ScheduleSpec(
    layers=(Layer(date(2026, 1, 5), time(9), shift_days=3, participants=(10, 20)),)
)


@pytest.mark.parametrize(
    ("schedule", "at", "user"),
    [
        (DAILY, berlin(2026, 1, 1, 12), None),
        (DAILY, berlin(2026, 1, 5, 8, 59), None),
        (DAILY, berlin(2026, 1, 5, 9), 1),
        (DAILY, berlin(2026, 1, 6, 8, 59, 59), 1),
        (DAILY, berlin(2026, 1, 6, 9), 2),
        (DAILY, berlin(2026, 1, 7, 23), 3),
        (DAILY, berlin(2026, 1, 8, 9), 1),
        (DAILY, berlin(2026, 2, 5, 9), 2),  # 31 days later: 31 % 3 == 1
        (WEEKLY, berlin(2026, 1, 12, 8, 59), 1),
        (WEEKLY, berlin(2026, 1, 12, 9), 2),
        (WEEKLY, berlin(2026, 1, 19, 10), 1),
        (WEEKLY, berlin(2026, 3, 30, 9), 1),
        (WEEKLY, berlin(2026, 4, 6, 9), 2),
        (WEEKLY, berlin(2026, 4, 1, 10), 1),  # across the spring change: 12 weeks later
        (EVERY_THREE_DAYS, berlin(2026, 1, 7, 12), 10),
        (EVERY_THREE_DAYS, berlin(2026, 1, 8, 8, 59), 10),
        (EVERY_THREE_DAYS, berlin(2026, 1, 8, 9), 20),
        (EVERY_THREE_DAYS, berlin(2026, 1, 11, 9), 10),
    ],
)
def test_rotations(schedule, at, user):
    assert who_is_on_call(schedule, at) == user


def test_any_time_zone_for_at():
    new_york = datetime(2026, 1, 6, 3, tzinfo=ZoneInfo("America/New_York"))  # 09:00 in Berlin
    assert who_is_on_call(DAILY, new_york) == 2
    assert who_is_on_call(DAILY, new_york - timedelta(microseconds=1)) == 1


def test_nobody_before_the_first_handoff_and_without_layers():
    assert who_is_on_call(DAILY, berlin(2026, 1, 5, 8)) is None
    assert shifts_between(DAILY, berlin(2026, 1, 4), berlin(2026, 1, 5, 10)) == [
        Shift(1, utc(2026, 1, 5, 8), utc(2026, 1, 5, 9), "layer:0")
    ]
    assert who_is_on_call(ScheduleSpec(), berlin(2026, 1, 5, 8)) is None
    assert shifts_between(ScheduleSpec(), berlin(2026, 1, 4), berlin(2026, 1, 5)) == []


def test_empty_participants_never_cover_anyone():
    schedule = ScheduleSpec(layers=(daily((1,)), daily((), position=5)))
    assert who_is_on_call(schedule, berlin(2026, 1, 6, 12)) == 1
    assert (
        shifts_between(ScheduleSpec(layers=(daily(()),)), berlin(2026, 1, 6), berlin(2026, 2, 6))
        == []
    )


# --- layers, restrictions, overrides -----------------------------------------------------------

BASE = daily((1, 2))
NIGHTS = daily(
    (9,),
    position=1,
    active_weekdays=(0, 1, 2, 3, 4),
    active_from=time(18),
    active_until=time(8),
)
LAYERED = ScheduleSpec(layers=(BASE, NIGHTS))


@pytest.mark.parametrize(
    ("at", "user"),
    [
        (berlin(2026, 1, 5, 17, 59), 1),  # Monday day: base
        (berlin(2026, 1, 5, 18), 9),  # Monday night
        (berlin(2026, 1, 6, 7, 59), 9),  # still Monday's night
        (berlin(2026, 1, 6, 8), 1),  # base again (handoff to 2 only at 09:00)
        (berlin(2026, 1, 6, 9), 2),
        (berlin(2026, 1, 9, 23), 9),  # Friday night
        (berlin(2026, 1, 10, 7), 9),  # Friday's night runs into Saturday morning
        (berlin(2026, 1, 10, 20), 2),  # Saturday night is not restricted to: base
        (berlin(2026, 1, 11, 23), 1),  # Sunday night neither
        (berlin(2026, 1, 12, 3), 1),  # Monday 03:00 belongs to Sunday's (inactive) window
        (berlin(2026, 1, 12, 18), 9),
    ],
)
def test_restricted_night_layer_wins_over_the_base(at, user):
    assert who_is_on_call(LAYERED, at) == user


def test_higher_position_wins_and_equal_positions_go_to_the_later_layer():
    upper = Layer(date(2026, 1, 12), time(9), shift_days=7, participants=(7,), position=3)
    schedule = ScheduleSpec(layers=(upper, BASE))  # order does not matter across positions
    assert who_is_on_call(schedule, berlin(2026, 1, 12, 8)) == 1  # upper not started yet
    assert who_is_on_call(schedule, berlin(2026, 1, 12, 9)) == 7
    same = ScheduleSpec(layers=(daily((1,)), daily((2,))))
    assert who_is_on_call(same, berlin(2026, 1, 6, 12)) == 2


def test_restriction_by_weekday_only_covers_whole_local_days():
    weekend = daily((5,), position=1, active_weekdays=(5, 6))
    schedule = ScheduleSpec(layers=(BASE, weekend))
    assert who_is_on_call(schedule, berlin(2026, 1, 9, 23, 59)) == 1
    assert who_is_on_call(schedule, berlin(2026, 1, 10, 0)) == 5
    assert who_is_on_call(schedule, berlin(2026, 1, 11, 23, 59)) == 5
    assert who_is_on_call(schedule, berlin(2026, 1, 12, 0)) == 1


OVERRIDDEN = ScheduleSpec(
    layers=(BASE, NIGHTS),
    overrides=(
        Override(42, berlin(2026, 1, 6, 12), berlin(2026, 1, 6, 20)),
        Override(43, berlin(2026, 1, 6, 19), berlin(2026, 1, 6, 19, 30)),  # listed last: wins
    ),
)


@pytest.mark.parametrize(
    ("at", "user"),
    [
        (berlin(2026, 1, 6, 11, 59), 2),
        (berlin(2026, 1, 6, 12), 42),
        (berlin(2026, 1, 6, 18, 30), 42),  # beats the night layer
        (berlin(2026, 1, 6, 19, 15), 43),
        (berlin(2026, 1, 6, 19, 45), 42),
        (berlin(2026, 1, 6, 20), 9),
    ],
)
def test_overrides_win_over_every_layer(at, user):
    assert who_is_on_call(OVERRIDDEN, at) == user


def test_shifts_between_gives_the_final_schedule():
    shifts = shifts_between(OVERRIDDEN, berlin(2026, 1, 6, 10), berlin(2026, 1, 7, 10))
    assert shifts == [
        Shift(2, utc(2026, 1, 6, 9), utc(2026, 1, 6, 11), "layer:0"),
        Shift(42, utc(2026, 1, 6, 11), utc(2026, 1, 6, 18), "override"),
        Shift(43, utc(2026, 1, 6, 18), utc(2026, 1, 6, 18, 30), "override"),
        Shift(42, utc(2026, 1, 6, 18, 30), utc(2026, 1, 6, 19), "override"),
        Shift(9, utc(2026, 1, 6, 19), utc(2026, 1, 7, 7), "layer:1"),
        Shift(2, utc(2026, 1, 7, 7), utc(2026, 1, 7, 8), "layer:0"),
        Shift(1, utc(2026, 1, 7, 8), utc(2026, 1, 7, 9), "layer:0"),
    ]


def test_consecutive_pieces_of_one_user_are_merged():
    schedule = ScheduleSpec(
        layers=(daily((1, 1, 2)),),
        overrides=(Override(1, berlin(2026, 1, 7, 9), berlin(2026, 1, 7, 12)),),
    )
    shifts = shifts_between(schedule, berlin(2026, 1, 5), berlin(2026, 1, 9))
    assert shifts == [
        # two layer shifts of user 1 and the override of user 1 that follows them
        Shift(1, utc(2026, 1, 5, 8), utc(2026, 1, 7, 11), "layer:0"),
        Shift(2, utc(2026, 1, 7, 11), utc(2026, 1, 8, 8), "layer:0"),
        Shift(1, utc(2026, 1, 8, 8), utc(2026, 1, 8, 23), "layer:0"),  # clipped at the end
    ]


def test_shifts_between_is_empty_for_an_empty_range():
    assert shifts_between(DAILY, berlin(2026, 2, 1), berlin(2026, 2, 1)) == []
    assert shifts_between(DAILY, berlin(2026, 2, 2), berlin(2026, 2, 1)) == []


# --- next_shift --------------------------------------------------------------------------------


def test_next_shift_is_the_next_different_user():
    assert next_shift(DAILY, berlin(2026, 1, 5, 12)) == Shift(
        2, utc(2026, 1, 6, 8), utc(2026, 1, 7, 8), "layer:0"
    )
    repeated = ScheduleSpec(layers=(daily((1, 1, 2)),))
    assert next_shift(repeated, berlin(2026, 1, 5, 12)) == Shift(
        2, utc(2026, 1, 7, 8), utc(2026, 1, 8, 8), "layer:0"
    )


def test_next_shift_when_nobody_is_on_call_is_the_first_shift():
    assert next_shift(DAILY, berlin(2026, 1, 1)) == Shift(
        1, utc(2026, 1, 5, 8), utc(2026, 1, 6, 8), "layer:0"
    )


def test_next_shift_skips_the_same_user_after_a_gap():
    nights_only = ScheduleSpec(layers=(NIGHTS, daily((4,), start_date=date(2026, 1, 12))))
    # Monday night: user 9; the nights repeat user 9, so the next different user is 4 from
    # Monday 2026-01-12 09:00 on (after the Friday night window ends on Saturday 08:00).
    assert next_shift(nights_only, berlin(2026, 1, 5, 20)) == Shift(
        4, utc(2026, 1, 12, 8), utc(2026, 1, 12, 17), "layer:0"
    )


def test_next_shift_none_within_the_horizon():
    assert next_shift(ScheduleSpec(layers=(daily((1,)),)), berlin(2026, 1, 5, 12)) is None
    assert next_shift(ScheduleSpec(), berlin(2026, 1, 5, 12)) is None
    assert next_shift(DAILY, berlin(2025, 10, 1), horizon_days=30) is None


def test_naive_datetimes_are_rejected():
    naive = datetime(2026, 1, 5, 12)
    with pytest.raises(ValueError, match="aware"):
        who_is_on_call(DAILY, naive)
    with pytest.raises(ValueError, match="aware"):
        shifts_between(DAILY, naive, berlin(2026, 1, 6))
    with pytest.raises(ValueError, match="aware"):
        next_shift(DAILY, naive)
    with pytest.raises(ValueError, match="aware"):
        Override(1, naive, berlin(2026, 1, 6))


def test_invalid_layers_are_rejected():
    with pytest.raises(ValueError, match="shift_days"):
        Layer(date(2026, 1, 5), time(9), shift_days=0, participants=(1,))
    with pytest.raises(ValueError, match="weekdays"):
        Layer(date(2026, 1, 5), time(9), 1, (1,), active_weekdays=(7,))


# --- daylight-saving time in Europe/Berlin -----------------------------------------------------


@pytest.mark.parametrize(
    ("local", "instant"),
    [
        (datetime(2026, 3, 28, 9), utc(2026, 3, 28, 8)),
        (datetime(2026, 3, 29, 9), utc(2026, 3, 29, 7)),
        (datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1)),  # gap: 03:00 local
        (datetime(2026, 3, 29, 2, 0), utc(2026, 3, 29, 1)),
        (datetime(2026, 3, 29, 3, 0), utc(2026, 3, 29, 1)),
        (datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),  # ambiguous: first, CEST
        (datetime(2026, 10, 25, 9), utc(2026, 10, 25, 8)),
    ],
)
def test_wall_clock_to_utc(local, instant):
    assert wall_clock_to_utc("Europe/Berlin", local) == instant


def handoffs(schedule: ScheduleSpec, start: datetime, end: datetime) -> list[datetime]:
    return [shift.start for shift in shifts_between(schedule, start, end)][1:]


def test_daily_handoff_stays_at_nine_local_across_spring_forward():
    schedule = ScheduleSpec(layers=(daily((1, 2), start_date=date(2026, 3, 1)),))
    shifts = shifts_between(schedule, utc(2026, 3, 28, 12), utc(2026, 3, 31, 12))
    assert [shift.start for shift in shifts[1:]] == [
        utc(2026, 3, 29, 7),
        utc(2026, 3, 30, 7),
        utc(2026, 3, 31, 7),
    ]
    assert shifts[0].start == utc(2026, 3, 28, 12)  # clipped
    assert shifts[1].start.astimezone(BERLIN).time() == time(9)
    assert who_is_on_call(schedule, utc(2026, 3, 29, 7)) != who_is_on_call(
        schedule, utc(2026, 3, 29, 6, 59)
    )
    full = shifts_between(schedule, berlin(2026, 3, 27, 9), berlin(2026, 3, 31, 9))
    assert [shift.end - shift.start for shift in full] == [
        timedelta(hours=24),  # 27th 09:00 CET -> 28th 09:00 CET
        timedelta(hours=23),  # 28th 09:00 CET -> 29th 09:00 CEST
        timedelta(hours=24),
        timedelta(hours=24),
    ]


def test_daily_handoff_stays_at_nine_local_across_fall_back():
    schedule = ScheduleSpec(layers=(daily((1, 2), start_date=date(2026, 10, 1)),))
    shifts = shifts_between(schedule, utc(2026, 10, 23, 12), utc(2026, 10, 27, 12))
    assert [shift.start for shift in shifts[1:]] == [
        utc(2026, 10, 24, 7),
        utc(2026, 10, 25, 8),
        utc(2026, 10, 26, 8),
        utc(2026, 10, 27, 8),
    ]
    assert [shift.end - shift.start for shift in shifts[1:-1]] == [
        timedelta(hours=25),
        timedelta(hours=24),
        timedelta(hours=24),
    ]


def test_handoff_in_the_spring_gap_happens_when_the_gap_ends():
    schedule = ScheduleSpec(
        layers=(daily((1, 2), start_date=date(2026, 3, 1), handoff_time=time(2, 30)),)
    )
    starts = handoffs(schedule, utc(2026, 3, 27, 12), utc(2026, 3, 31, 12))
    assert starts == [
        utc(2026, 3, 28, 1, 30),  # 02:30 CET
        utc(2026, 3, 29, 1, 0),  # 02:30 does not exist: 03:00 CEST
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
        utc(2026, 3, 31, 0, 30),
    ]
    assert starts[1].astimezone(BERLIN).time() == time(3)


def test_handoff_in_the_autumn_overlap_uses_the_first_occurrence():
    schedule = ScheduleSpec(
        layers=(daily((1, 2), start_date=date(2026, 10, 1), handoff_time=time(2, 30)),)
    )
    starts = handoffs(schedule, utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert starts == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    assert starts[0].astimezone(BERLIN).fold == 0


def test_night_layer_across_spring_forward_is_one_hour_shorter():
    schedule = ScheduleSpec(
        layers=(
            daily((9,), start_date=date(2026, 3, 1), active_from=time(18), active_until=time(8)),
        )
    )
    shifts = shifts_between(schedule, berlin(2026, 3, 28, 12), berlin(2026, 3, 29, 12))
    assert [(s.start, s.end) for s in shifts] == [(utc(2026, 3, 28, 17), utc(2026, 3, 29, 6))]


# --- properties --------------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"]
SPAN_START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_END = datetime(2028, 12, 31, tzinfo=UTC)


def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


DST_SUNDAYS = [last_sunday(year, month) for year in range(2024, 2029) for month in (3, 10)]

uniform_instants = st.datetimes(
    min_value=SPAN_START.replace(tzinfo=None),
    max_value=SPAN_END.replace(tzinfo=None),
    timezones=st.just(UTC),
)
near_dst_changes = st.builds(
    lambda sunday, seconds: (
        datetime.combine(sunday, time(1), tzinfo=UTC) + timedelta(seconds=seconds)
    ),
    st.sampled_from(DST_SUNDAYS),
    st.integers(min_value=-2 * 86400, max_value=2 * 86400),
)
instants = st.one_of(uniform_instants, near_dst_changes)
# Handoff times biased towards the night hours where the changes happen.
handoff_times = st.one_of(
    st.times(),
    st.builds(time, st.sampled_from([0, 1, 2, 3]), st.sampled_from([0, 15, 30, 45, 59])),
)
weekday_sets = st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True).map(
    lambda days: tuple(sorted(days))
)


@st.composite
def layers(draw) -> Layer:
    restricted = draw(st.booleans())
    return Layer(
        start_date=draw(st.dates(min_value=date(2023, 10, 1), max_value=date(2028, 6, 1))),
        handoff_time=draw(handoff_times),
        shift_days=draw(st.sampled_from([1, 1, 2, 3, 7, 14])),
        participants=tuple(draw(st.lists(st.integers(1, 5), max_size=4))),
        position=draw(st.integers(0, 2)),
        active_weekdays=draw(st.none() | weekday_sets) if restricted else None,
        active_from=draw(st.none() | handoff_times) if restricted else None,
        active_until=draw(st.none() | handoff_times) if restricted else None,
    )


@st.composite
def overrides(draw) -> Override:
    start = draw(instants)
    return Override(
        user_id=draw(st.integers(1, 8)),
        start=start,
        end=start + timedelta(minutes=draw(st.integers(-60, 5 * 24 * 60))),
    )


schedules = st.builds(
    ScheduleSpec,
    time_zone=st.sampled_from(ZONES),
    layers=st.lists(layers(), max_size=3).map(tuple),
    overrides=st.lists(overrides(), max_size=2).map(tuple),
)


@PROPERTY
@given(
    schedule=schedules,
    at=instants,
    before=st.integers(0, 10 * 86400),
    after=st.integers(1, 10 * 86400),
)
def test_who_is_on_call_matches_the_covering_shift(schedule, at, before, after):
    start, end = at - timedelta(seconds=before), at + timedelta(seconds=after)
    covering = [s for s in shifts_between(schedule, start, end) if s.start <= at < s.end]
    assert len(covering) <= 1
    expected = covering[0].user_id if covering else None
    assert who_is_on_call(schedule, at) == expected
    assert who_is_on_call(schedule, at.astimezone(ZoneInfo(schedule.time_zone))) == expected


@PROPERTY
@given(schedule=schedules, start=instants, seconds=st.integers(1, 20 * 86400))
def test_shifts_are_sorted_disjoint_merged_and_clipped(schedule, start, seconds):
    end = start + timedelta(seconds=seconds)
    shifts = shifts_between(schedule, start, end)
    for shift in shifts:
        assert start <= shift.start < shift.end <= end
        assert shift.start.utcoffset() == timedelta(0) and shift.end.utcoffset() == timedelta(0)
        assert shift.source == "override" or shift.source.startswith("layer:")
    for earlier, later in zip(shifts, shifts[1:], strict=False):
        assert earlier.end <= later.start
        if earlier.end == later.start:
            assert earlier.user_id != later.user_id
        else:  # a gap: nobody is on call there
            assert who_is_on_call(schedule, earlier.end) is None


@PROPERTY
@given(
    handoff=handoff_times, at=instants, start_date=st.dates(date(2023, 6, 1), date(2023, 12, 31))
)
def test_daily_handoffs_keep_their_local_time(handoff, at, start_date):
    schedule = ScheduleSpec(layers=(daily((1, 2), start_date=start_date, handoff_time=handoff),))
    shifts = shifts_between(schedule, at, at + timedelta(days=3))
    assert len(shifts) >= 3
    for shift in shifts[1:]:
        local = shift.start.astimezone(BERLIN)
        if handoff_exists(local.date(), handoff):
            assert local.time() == handoff
            assert local.fold == 0  # an ambiguous time: its first occurrence
        else:  # the first instant after the gap
            assert local.time() > handoff
            assert (shift.start - timedelta(seconds=1)).astimezone(BERLIN).time() < handoff
    for shift in shifts[1:-1]:
        days = (shift.start.astimezone(BERLIN).date(), shift.end.astimezone(BERLIN).date())
        assert days[1] - days[0] == timedelta(days=1)
        if all(handoff_exists(day, handoff) for day in days):
            assert shift.end - shift.start in {timedelta(hours=h) for h in (23, 24, 25)}


def handoff_exists(day: date, handoff: time) -> bool:
    naive = datetime.combine(day, handoff)
    return (
        naive.replace(tzinfo=BERLIN).astimezone(UTC).astimezone(BERLIN).replace(tzinfo=None)
        == naive
    )


@PROPERTY
@given(schedule=schedules, at=instants)
def test_next_shift_is_the_first_change_of_user(schedule, at):
    result = next_shift(schedule, at, horizon_days=20)
    current = who_is_on_call(schedule, at)
    if result is None:
        for shift in shifts_between(schedule, at, at + timedelta(days=20)):
            assert shift.user_id == current
        return
    assert result.start > at
    assert result.user_id != current
    assert who_is_on_call(schedule, result.start) == result.user_id
    for shift in shifts_between(schedule, at, result.start):
        assert shift.user_id == current
