"""Pure business-hours logic: opening hours, public holidays and service time.

No database access here: the caller builds a `BusinessHours` from stored settings and passes it
in. Opening intervals are local wall-clock times in the calendar's time zone; every instant going
in may carry any time zone, every instant coming out is aware UTC.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from escalation.schedules import wall_clock_to_utc

SEARCH_DAYS = 400  # how far next_open and add_open_time look for an opening before giving up

Intervals = tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class BusinessHours:
    time_zone: str = "Europe/Berlin"
    # weekday (0=Mon) -> local open intervals [from, until); until 00:00 means midnight at the end
    # of the day, so (time(0), time(0)) is the whole day.
    hours: Mapping[int, Intervals] = field(default_factory=dict, hash=False)
    country: str | None = "DE"  # public holidays via the `holidays` library
    subdivision: str | None = None  # e.g. "NW", "BY"
    always_open: bool = False  # 24/7, holidays included

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # fail early on an unknown zone
        normalised: dict[int, Intervals] = {}
        for weekday, intervals in self.hours.items():
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be between 0 (Monday) and 6 (Sunday): {weekday}")
            for opens, closes in intervals:
                if opens.tzinfo is not None or closes.tzinfo is not None:
                    raise ValueError("opening hours are local wall-clock times and must be naive")
                if closes != time(0) and closes <= opens:
                    raise ValueError(f"interval must end after it starts: {opens}-{closes}")
            ordered = tuple(sorted(intervals))
            for (_, closes), (next_opens, _) in zip(ordered, ordered[1:], strict=False):
                if closes == time(0) or closes > next_opens:
                    raise ValueError(f"opening intervals overlap on weekday {weekday}")
            normalised[weekday] = ordered
        object.__setattr__(self, "hours", normalised)


def business_hours_mon_fri(
    start: time = time(8), end: time = time(18), **kwargs: Any
) -> BusinessHours:
    """Monday to Friday, `start` to `end`; kwargs go to BusinessHours (time_zone, country, ...)."""
    return BusinessHours(hours={weekday: ((start, end),) for weekday in range(5)}, **kwargs)


@lru_cache(maxsize=256)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays  # large (every country's calendar): loaded when first needed

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def is_holiday(cal: BusinessHours, day: date) -> bool:
    if cal.country is None:
        return False
    return day in _holiday_dates(cal.country, cal.subdivision, day.year)


def _to_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def _day_intervals(cal: BusinessHours, day: date) -> list[tuple[datetime, datetime]]:
    """The open intervals of one local day as UTC instants, in order."""
    if is_holiday(cal, day):
        return []
    result = []
    for opens, closes in cal.hours.get(day.weekday(), ()):
        close_day = day + timedelta(days=1) if closes == time(0) else day
        interval_start = wall_clock_to_utc(cal.time_zone, datetime.combine(day, opens))
        interval_end = wall_clock_to_utc(cal.time_zone, datetime.combine(close_day, closes))
        if interval_start < interval_end:
            result.append((interval_start, interval_end))
    return result


def _intervals_from(
    cal: BusinessHours, at: datetime, days: int = SEARCH_DAYS
) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals ending after `at`, in order, from the local days up to `days` ahead."""
    day = at.astimezone(ZoneInfo(cal.time_zone)).date() - timedelta(days=1)
    for _ in range(days + 2):
        for interval_start, interval_end in _day_intervals(cal, day):
            if interval_end > at:
                yield interval_start, interval_end
        day += timedelta(days=1)


def is_open(cal: BusinessHours, at: datetime) -> bool:
    at = _to_utc(at, "at")
    if cal.always_open:
        return True
    return any(start <= at < end for start, end in _intervals_from(cal, at, days=1))


def next_open(cal: BusinessHours, at: datetime) -> datetime:
    """`at` itself (in UTC) when open, else the next opening; ValueError after 400 closed days."""
    at = _to_utc(at, "at")
    if cal.always_open:
        return at
    for interval_start, _ in _intervals_from(cal, at):
        return max(interval_start, at)
    raise ValueError(f"no opening within {SEARCH_DAYS} days after {at.isoformat()}")


def open_seconds_between(cal: BusinessHours, start: datetime, end: datetime) -> float:
    """Open time (service time) elapsed in [start, end), in seconds; 0 when end <= start."""
    start, end = _to_utc(start, "start"), _to_utc(end, "end")
    if end <= start:
        return 0.0
    if cal.always_open:
        return (end - start).total_seconds()
    tz = ZoneInfo(cal.time_zone)
    day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date()
    total = timedelta(0)
    while day <= last_day:
        for interval_start, interval_end in _day_intervals(cal, day):
            overlap = min(interval_end, end) - max(interval_start, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds()


def add_open_time(cal: BusinessHours, start: datetime, seconds: float) -> datetime:
    """The earliest instant by which `seconds` of open time have elapsed after `start` (UTC).

    Ends inside (or at the close of) an open interval, never at the next opening. Zero seconds give
    `start` back; ValueError when negative or when no opening comes within 400 days.
    """
    start = _to_utc(start, "start")
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    remaining = timedelta(seconds=seconds)
    if cal.always_open or remaining == timedelta(0):
        return start + remaining
    cursor = start
    while True:
        found = False
        for interval_start, interval_end in _intervals_from(cal, cursor):
            found = True
            available = interval_end - max(interval_start, cursor)
            if remaining <= available:
                return max(interval_start, cursor) + remaining
            remaining -= available
            cursor = interval_end
        if not found:
            raise ValueError(f"no opening within {SEARCH_DAYS} days after {cursor.isoformat()}")
