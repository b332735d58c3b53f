"""Render on-call shifts as an iCalendar feed (RFC 5545) with the `icalendar` library, and read
the events of a calendar to import as shifts (with `recurring-ical-events` for repeated ones).

Pure: the caller computes the shifts (`escalation.schedules.shifts_between`) and the display
names; this module only formats them. UIDs depend on the shift alone, so a calendar client
recognises the same shift across refreshes.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from escalation.schedules import Shift

PRODID = "-//Escalation Manager//On-call//EN"
UID_DOMAIN = "escalation-manager"


def shift_uid(uid_prefix: str, shift: Shift) -> str:
    """E.g. schedule-3-layer0-17-1764057600@escalation-manager (prefix, source, user, start)."""
    source = shift.source.replace(":", "")
    return f"{uid_prefix}-{source}-{shift.user_id}-{int(shift.start.timestamp())}@{UID_DOMAIN}"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"shift times must be aware datetimes, got naive {value!r}")
    return value.astimezone(UTC)


def shifts_to_ical(
    *,
    calendar_name: str,
    shifts: Iterable[Shift],
    user_names: Mapping[int, str],
    uid_prefix: str,
    dtstamp: datetime | None = None,
    uid_prefixes: Mapping[Shift, str] | None = None,
    categories: Mapping[Shift, Sequence[str]] | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT per shift, ordered by start.

    DTSTAMP is `dtstamp` (default: now), the same for every event of one render. A user missing
    from `user_names` is shown as "User <id>". `uid_prefixes` gives a shift its own UID prefix
    (a person's feed: the schedule it comes from); `categories` names the schedules of a shift
    (CATEGORIES, and in brackets after the SUMMARY).
    """
    from icalendar import Calendar, Event  # loaded when a feed is asked for

    stamp = _utc(dtstamp) if dtstamp is not None else datetime.now(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", calendar_name)
    for shift in sorted(shifts, key=lambda s: (_utc(s.start), s.user_id)):
        name = user_names.get(shift.user_id, f"User {shift.user_id}")
        event = Event()
        prefix = (uid_prefixes or {}).get(shift, uid_prefix)
        event.add("uid", shift_uid(prefix, shift))
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(shift.start))
        event.add("dtend", _utc(shift.end))
        names = list((categories or {}).get(shift, ()))
        event.add(
            "summary", f"On call: {name} ({', '.join(names)})" if names else f"On call: {name}"
        )
        if names:
            event.add("categories", names)
        calendar.add_component(event)
    return calendar.to_ical()


# --- Reading a calendar (iCal import of a schedule) -------------------------------------------


@dataclass(frozen=True)
class CalendarEvent:
    summary: str
    start: datetime  # aware
    end: datetime  # aware, exclusive
    emails: tuple[str, ...]  # the attendees' and organiser's addresses, lower case


class NotACalendar(ValueError):
    pass


def _aware(value, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, time(0), tzinfo=zone)  # an all-day event: local midnight


def calendar_events(
    content: bytes, start: datetime, end: datetime, zone: ZoneInfo
) -> list[CalendarEvent]:
    """The events of an iCalendar file within [start, end), recurring ones expanded; floating and
    all-day times are read in `zone`. Raises NotACalendar for anything that is not one."""
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(content)
        occurrences = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # the parsers raise many kinds of errors on bad input
        raise NotACalendar(str(exc)[:200]) from exc
    events = []
    for event in occurrences:
        if "DTSTART" not in event:
            continue
        begin = _aware(event.decoded("DTSTART"), zone)
        finish = _aware(event.decoded("DTEND"), zone) if "DTEND" in event else None
        if finish is None or finish <= begin:
            continue
        people = event.get("ATTENDEE") or []
        if not isinstance(people, list):
            people = [people]
        if event.get("ORGANIZER"):
            people = [*people, event.get("ORGANIZER")]
        emails = tuple(
            str(p).removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()
            for p in people
            if str(p).lower().startswith("mailto:")
        )
        events.append(CalendarEvent(str(event.get("SUMMARY", "")).strip(), begin, finish, emails))
    return sorted(events, key=lambda e: (e.start, e.summary))
