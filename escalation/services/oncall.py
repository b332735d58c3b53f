"""On-call overrides from the console: somebody takes over (part of) a schedule's shifts.

Escalation managers put anybody on call; a responder takes shifts over for themselves only.
An override wins over every layer of its schedule for its time (escalation/schedules.py).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import User

from .. import roles, selectors
from ..models import OnCallSchedule, ScheduleImport, ScheduleOverride

MAX_OVERRIDE = timedelta(days=31)


def _is_manager(user: User) -> bool:
    return user.is_superuser or user.groups.filter(name=roles.ESCALATION_MANAGER).exists()


@transaction.atomic
def schedule_override_create(
    *,
    schedule: OnCallSchedule,
    actor: User,
    user: User,
    start: datetime,
    end: datetime,
    reason: str = "",
) -> ScheduleOverride:
    """Put `user` on call in `schedule` from `start` until `end`."""
    if user != actor and not _is_manager(actor):
        raise PermissionDenied(_("Only escalation managers put somebody else on call."))
    if not selectors.staff_people().filter(pk=user.pk).exists():
        raise InvalidInput(
            _("Only active escalation managers and responders can be on call."), field="user"
        )
    if end <= start:
        raise InvalidInput(_("The end must be after the start."), field="end")
    if end <= timezone.now():
        raise InvalidInput(_("This time is over already."), field="end")
    if end - start > MAX_OVERRIDE:
        raise InvalidInput(_("An override lasts at most 31 days."), field="end")
    return ScheduleOverride.objects.create(
        schedule=schedule, user=user, start=start, end=end, reason=(reason or "").strip()[:200]
    )


@transaction.atomic
def schedule_override_delete(*, override: ScheduleOverride, actor: User) -> None:
    """Take an override back (its own person or an escalation manager)."""
    if override.user_id != actor.pk and not _is_manager(actor):
        raise PermissionDenied(_("Only escalation managers remove somebody else's override."))
    override.delete()


# --- iCal import ---------------------------------------------------------------------------

IMPORT_DAYS_BACK = 1
IMPORT_DAYS_AHEAD = 90
IMPORT_MAX_BYTES = 2_000_000
FETCH_TIMEOUT_SECONDS = 10


def _matcher():
    """Who an event names: an attendee's (or the organiser's) address, else the title equal to a
    username, an address or a full name (case-insensitive); only active staff."""
    by_key: dict[str, User] = {}
    for user in selectors.staff_people():
        for key in (user.username, user.email, user.get_full_name()):
            if key:
                by_key.setdefault(key.strip().lower(), user)

    def match(event) -> User | None:
        for email in event.emails:
            if email in by_key:
                return by_key[email]
        return by_key.get(event.summary.lower())

    return match


@transaction.atomic
def schedule_ical_import(
    *, schedule: OnCallSchedule, actor: User | None, content: bytes, url: str = ""
) -> ScheduleImport:
    """Put the people a calendar's events name on call (overrides) for the next 90 days,
    replacing what the schedule's previous import put there. `actor` None: the hourly refresh."""
    from zoneinfo import ZoneInfo

    from ..ical import NotACalendar, calendar_events

    if actor is not None and not _is_manager(actor):
        raise PermissionDenied(_("Only escalation managers import calendars."))
    if len(content) > IMPORT_MAX_BYTES:
        raise InvalidInput(_("The calendar is larger than 2 MB."), field="file")
    now = timezone.now()
    try:
        events = calendar_events(
            content,
            now - timedelta(days=IMPORT_DAYS_BACK),
            now + timedelta(days=IMPORT_DAYS_AHEAD),
            ZoneInfo(schedule.time_zone),
        )
    except NotACalendar as exc:
        raise InvalidInput(
            _("This is not an iCalendar file: %(error)s") % {"error": exc}, field="file"
        ) from exc
    source, _created = ScheduleImport.objects.select_for_update().get_or_create(schedule=schedule)
    source.overrides.all().delete()
    match, unmatched, created = _matcher(), [], []
    for event in events:
        user = match(event)
        if user is None:
            unmatched.append(event.summary or "?")
            continue
        created.append(
            ScheduleOverride(
                schedule=schedule,
                user=user,
                start=event.start,
                end=event.end,
                reason=(_("Calendar: %(title)s") % {"title": event.summary})[:200],
                imported_from=source,
            )
        )
    ScheduleOverride.objects.bulk_create(created)
    source.url = url
    source.imported_at = now
    source.shifts = len(created)
    source.unmatched = sorted(set(unmatched))[:50]
    source.error = ""
    source.save()
    return source


def _fetch(url: str) -> bytes:
    """GET a calendar through the outbound policy (checked addresses only, no redirects)."""
    import httpx

    from notifications.outbound import guarded_transport

    with (
        httpx.Client(transport=guarded_transport(), timeout=FETCH_TIMEOUT_SECONDS) as client,
        client.stream("GET", url, headers={"Accept": "text/calendar"}) as response,
    ):
        response.raise_for_status()
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > IMPORT_MAX_BYTES:
                raise InvalidInput(_("The calendar is larger than 2 MB."), field="url")
        return body


def schedule_ical_fetch(*, schedule: OnCallSchedule, actor: User | None, url: str):
    """Fetch the calendar at `url` and import it (the console's "import from URL" and the hourly
    refresh). A failed fetch keeps the previous import and records the error on it."""
    from notifications.outbound import validate_outbound_url

    if actor is not None and not _is_manager(actor):
        raise PermissionDenied(_("Only escalation managers import calendars."))
    try:
        validate_outbound_url(url)
        content = _fetch(url)
    except (InvalidInput, PermissionDenied):
        raise
    except Exception as exc:  # network, HTTP status, the outbound policy: all reported
        message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
        if hasattr(exc, "messages"):
            message = " ".join(exc.messages)
        ScheduleImport.objects.update_or_create(
            schedule=schedule, defaults={"url": url, "error": message[:500]}
        )
        raise InvalidInput(
            _("The calendar could not be fetched: %(error)s") % {"error": message}, field="url"
        ) from exc
    return schedule_ical_import(schedule=schedule, actor=actor, content=content, url=url)


def schedule_imports_refresh() -> int:
    """Fetch every schedule's calendar URL again (hourly, Celery beat); returns how many worked."""
    done = 0
    for source in ScheduleImport.objects.exclude(url="").select_related("schedule"):
        try:
            schedule_ical_fetch(schedule=source.schedule, actor=None, url=source.url)
            done += 1
        except InvalidInput:
            continue  # recorded on the import; the previous shifts stay
    return done
