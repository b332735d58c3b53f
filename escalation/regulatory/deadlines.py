"""Deadline arithmetic of regulatory reports: pure functions, no database.

A report's deadline runs from an anchor (becoming aware, classifying the incident as major, or
submitting the report before it) for a number of hours or of calendar months, optionally capped
by a number of hours from becoming aware (DORA's initial notification: 4 h from classification as
major, but no later than 24 h from becoming aware).

- Hours are elapsed time: "24 h from awareness" across a daylight-saving change is still 24 real
  hours (the wall clock in Europe/Berlin shows 23 h or 25 h later).
- "One month" is a calendar month in the legal time zone (Europe/Berlin by default): the same
  wall-clock time on the same day of the next month, or on its last day if it has no such day
  (31 January -> 28/29 February). Regulation (EEC, Euratom) No 1182/71 would let the period run to
  the end of that day; ending at the same time of day is earlier, so a deadline met here is met
  there too. A wall-clock time that does not exist on the target day (the spring-forward hour) is
  moved forward by that hour; one that exists twice (the fall-back hour) is its first occurrence.
"""

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LEGAL_TIME_ZONE = "Europe/Berlin"

# Anchors a report's period may run from.
AWARE = "aware"  # the provider became aware of the incident
CLASSIFIED = "classified"  # the incident was classified as major / significant (the decision)
PREVIOUS = "previous"  # the preceding report of the same regime was submitted

# Reminders at these fractions of a period, then one on breach.
REMINDER_FRACTIONS = (0.5, 0.8)


@dataclass(frozen=True)
class Rule:
    """A report's deadline rule: `hours` or `months` after `anchor`, and never later than
    `cap_hours_from_aware` after becoming aware (if set)."""

    anchor: str
    hours: int = 0
    months: int = 0
    cap_hours_from_aware: int | None = None


def add_months(moment: datetime, months: int, *, tz: str = LEGAL_TIME_ZONE) -> datetime:
    """`moment` plus calendar months in the legal time zone (see the module docstring)."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    wall = local.replace(tzinfo=None, year=year, month=month, day=day)
    # fold=0: a doubled wall time is its first occurrence; a missing one takes the offset before
    # the change, which lands it one hour later on the wall clock (02:30 -> 03:30 CEST).
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def deadline(rule: Rule, *, anchors: dict[str, datetime | None], tz: str = LEGAL_TIME_ZONE):
    """The deadline (aware datetime, UTC) under `rule`, or None while its anchor is unknown.

    `anchors` maps AWARE, CLASSIFIED and PREVIOUS to when they happened (or None)."""
    start = anchors.get(rule.anchor)
    if start is None:
        return None
    # in UTC: adding to a datetime in a zone would add wall-clock hours, not elapsed ones
    due = start.astimezone(UTC) + timedelta(hours=rule.hours)
    if rule.months:
        due = add_months(due, rule.months, tz=tz)
    aware = anchors.get(AWARE)
    if rule.cap_hours_from_aware is not None and aware is not None:
        due = min(due, aware.astimezone(UTC) + timedelta(hours=rule.cap_hours_from_aware))
    return due.astimezone(UTC)


def reminder_times(start: datetime, due: datetime) -> list[datetime]:
    """When to remind: at REMINDER_FRACTIONS of the period from `start` to `due`, then at `due`
    (the breach). A period that is already over (due <= start) has only the breach."""
    start, due = start.astimezone(UTC), due.astimezone(UTC)
    period = due - start
    if period <= timedelta(0):
        return [due]
    return [start + period * fraction for fraction in REMINDER_FRACTIONS] + [due]


def remaining(due: datetime, now: datetime) -> timedelta:
    """Time left until `due` (negative when overdue)."""
    return due - now


def format_remaining(delta: timedelta) -> tuple[int, int, int]:
    """(days, hours, minutes) of a period's absolute length, rounded down to the minute."""
    minutes = int(abs(delta).total_seconds() // 60)
    return minutes // 1440, minutes % 1440 // 60, minutes % 60
