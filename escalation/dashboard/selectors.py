"""Reads for the executive dashboard: the open escalations, the KPIs of a time window, and the
questions executives put to the escalation manager.

Every read runs a fixed number of queries whatever the data size: the overview annotates the next
deadline and the latest executive update through subqueries, and the KPIs are aggregates over the
indexed `detected_at` window (index `incident_detected`), never Python loops over incidents.
"""

from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, DurationField, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from incidents.models import OPEN_STATES, Audience, Customer, Incident, Priority, Update, User
from incidents.selectors import role_of

from .. import roles
from ..models import Clock, EscalationRun, Question
from ..selectors import next_pending_clock

WINDOWS = (7, 30, 90)
DEFAULT_WINDOW = 30
# Windows longer than this are charted per week (13 bars for 90 days), shorter ones per day.
DAILY_UP_TO_DAYS = 31
QUESTIONS_SHOWN = 20
QUEUE_OPEN_SHOWN = 100
QUEUE_ANSWERED_SHOWN = 50


# --- Who may look ------------------------------------------------------------------------------


def viewer_role(user: User) -> str:
    """'executive', 'manager' (escalation manager or superuser) or '' for everybody else.

    Only executives and escalation managers may see the dashboard and ask questions; responders
    are shielded from it, customer contacts have their own portal.
    """
    role = role_of(user)
    if role == "executive":
        return "executive"
    if role == "staff" and (
        user.is_superuser or user.groups.filter(name=roles.ESCALATION_MANAGER).exists()
    ):
        return "manager"
    return ""


def window_days(value: str | None) -> int:
    """The KPI window from `?days=`: 7, 30 or 90; anything else is the default (30)."""
    try:
        days = int(value or "")
    except ValueError:
        return DEFAULT_WINDOW
    return days if days in WINDOWS else DEFAULT_WINDOW


# --- Open escalations ----------------------------------------------------------------------------


def open_escalations_base() -> QuerySet[Incident]:
    """Open incidents that were escalated: what executives see, and may ask a question about."""
    return Incident.objects.filter(state__in=OPEN_STATES, escalated_at__isnull=False)


def open_escalations() -> QuerySet[Incident]:
    """The open escalations, most urgent first (priority, then the oldest), with what the
    dashboard shows, in two queries (incidents with commander and the annotations; customers).

    Annotations: `next_update_at` (the next pending update deadline, as on the console board),
    `paging_level` (the 0-based escalation level its paging reached, None without paging),
    `latest_executive_update` and `latest_executive_update_at` (the newest update for executives).
    """
    executive_updates = Update.objects.filter(
        incident=OuterRef("pk"), audience=Audience.EXECUTIVE
    ).order_by("-created_at", "-pk")
    return (
        open_escalations_base()
        .select_related("commander")
        .prefetch_related(Prefetch("customers", queryset=Customer.objects.order_by("name")))
        .annotate(
            next_update_at=next_pending_clock(Clock.Kind.UPDATE_DUE),
            latest_executive_update=Subquery(executive_updates.values("body")[:1]),
            latest_executive_update_at=Subquery(executive_updates.values("created_at")[:1]),
            paging_level=Subquery(
                EscalationRun.objects.filter(incident=OuterRef("pk")).values("level_index")[:1]
            ),
        )
        .order_by(F("priority").asc(nulls_last=True), "detected_at", "pk")
    )


def escalation_overview(*, now: datetime) -> list[Incident]:
    """The open escalations with `age` as of now and `next_update_due`: the earlier of the next
    update deadline and the next customer update the matrix promised (None when neither is set).

    `exposure`: the SLA penalty accrued so far and if restored in 1 h / 4 h, summed per currency
    over the incident's contracts (None without SLA clocks); two or three queries for the page.
    """
    from ..selectors import exposure_by_incident

    incidents = list(open_escalations())
    exposure = exposure_by_incident(incidents, now)
    for incident in incidents:
        incident.exposure = exposure.get(incident.pk)
        incident.age_now = now - incident.detected_at
        deadlines = [
            d for d in (incident.next_update_at, incident.next_customer_update_at) if d is not None
        ]
        incident.next_update_due = min(deadlines) if deadlines else None
    return incidents


# --- KPIs ----------------------------------------------------------------------------------------


def _mean_since_detected(field: str) -> Avg:
    return Avg(F(field) - F("detected_at"), output_field=DurationField())


def kpis(*, days: int, now: datetime) -> dict:
    """Incidents detected in the last `days` days: counts by priority, MTTA, mean time to
    workaround, MTTR. One aggregate query over the indexed `detected_at` range; the means leave
    out incidents that have not reached that point (AVG skips NULL)."""
    since = now - timedelta(days=days)
    window = Incident.objects.filter(detected_at__gte=since, detected_at__lte=now).order_by()
    totals = window.aggregate(
        total=Count("pk"),
        unclassified=Count("pk", filter=Q(priority__isnull=True)),
        acknowledged=Count("acknowledged_at"),
        with_workaround=Count("workaround_at"),
        resolved=Count("resolved_at"),
        mtta=_mean_since_detected("acknowledged_at"),
        mttw=_mean_since_detected("workaround_at"),
        mttr=_mean_since_detected("resolved_at"),
        **{f"p{p}": Count("pk", filter=Q(priority=p)) for p in Priority.values},
    )
    return {
        "days": days,
        "since": since,
        "until": now,
        "total": totals["total"],
        "unclassified": totals["unclassified"],
        "by_priority": [(p, totals[f"p{p}"]) for p in Priority.values],
        "acknowledged": totals["acknowledged"],
        "with_workaround": totals["with_workaround"],
        "resolved": totals["resolved"],
        "mtta": totals["mtta"],
        "mttw": totals["mttw"],
        "mttr": totals["mttr"],
    }


def kpi_snapshot(*, days: int, now: datetime) -> tuple[dict, tuple[str, list]]:
    """`kpis` and `incidents_per_period` for the window, computed at most every
    DASHBOARD_KPI_SECONDS per window and time zone (shared cache: Redis in production). Over a
    million incidents a 90-day window aggregates ~80,000 rows (~100 ms in PostgreSQL); every open
    dashboard polls every 15 s, and a KPI over 7 to 90 days does not move within half a minute.
    The open escalations above them are never cached."""
    from django.conf import settings
    from django.core.cache import cache

    key = f"dashboard:kpis:{days}:{timezone.get_current_timezone_name()}"
    snapshot = cache.get(key)
    if snapshot is None:
        unit, periods, times = incidents_per_period(days=days, now=now, with_times=True)
        snapshot = ({**kpis(days=days, now=now), "times": times}, (unit, periods))
        cache.set(key, snapshot, settings.DASHBOARD_KPI_SECONDS)
    return snapshot


def kpis_previous(*, days: int, now: datetime) -> dict:
    """`kpis` of the period before the window (for the trend), cached as kpi_snapshot is."""
    from django.conf import settings
    from django.core.cache import cache

    key = f"dashboard:kpis-previous:{days}"
    previous = cache.get(key)
    if previous is None:
        previous = kpis(days=days, now=now - timedelta(days=days))
        cache.set(key, previous, settings.DASHBOARD_KPI_SECONDS)
    return previous


def incidents_per_period(*, days: int, now: datetime, with_times: bool = False) -> tuple:
    """Incidents detected per day (windows up to a month) or per week (longer windows), in the
    current time zone, with empty periods filled in. One grouped query over the same window.

    Returns ("day" or "week", [(first day of the period, count), ...]); with_times adds, in the
    same query, per period the mean minutes to acknowledge, to workaround and to resolve
    ([(day, mtta, mttw, mttr), ...], None where no incident got there).
    """
    zone = timezone.get_current_timezone()
    since = now - timedelta(days=days)
    weekly = days > DAILY_UP_TO_DAYS
    trunc = TruncWeek if weekly else TruncDate
    rows = (
        Incident.objects.filter(detected_at__gte=since, detected_at__lte=now)
        .order_by()
        .annotate(period=trunc("detected_at", tzinfo=zone))
        .values("period")
        .annotate(n=Count("pk"))
    )
    means = ("acknowledged_at", "workaround_at", "resolved_at")
    if with_times:
        rows = rows.annotate(**{f: _mean_since_detected(f) for f in means})
    counts: dict[date, int] = {}
    times: dict[date, tuple] = {}
    for row in rows:  # at most one row per day or week of the window
        period = row["period"]
        day = period.date() if isinstance(period, datetime) else period
        counts[day] = counts.get(day, 0) + row["n"]
        if with_times:
            times[day] = tuple(
                None if row[f] is None else round(row[f].total_seconds() / 60) for f in means
            )
    first = timezone.localtime(since, zone).date()
    last = timezone.localtime(now, zone).date()
    if weekly:
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if weekly else 1)
    periods = []
    day = first
    while day <= last:
        periods.append((day, counts.get(day, 0)))
        day += step
    if with_times:
        rows_of_times = [(day, *times.get(day, (None, None, None))) for day, _n in periods]
        return ("week" if weekly else "day"), periods, rows_of_times
    return ("week" if weekly else "day"), periods


# --- Questions for the escalation manager -------------------------------------------------------


def questions_asked_by(user: User) -> list[Question]:
    """The user's own latest questions with their answers (the dashboard shows them)."""
    return list(
        Question.objects.filter(asked_by=user)
        .select_related("incident", "answered_by")
        .order_by("-created_at", "-pk")[:QUESTIONS_SHOWN]
    )


def open_question_count() -> int:
    return Question.objects.filter(answered_at__isnull=True).count()


def question_queue() -> dict:
    """The escalation manager's queue: open questions oldest first, then the latest answered."""
    open_questions = (
        Question.objects.filter(answered_at__isnull=True)
        .select_related("asked_by", "incident")
        .order_by("created_at", "pk")
    )
    answered = (
        Question.objects.filter(answered_at__isnull=False)
        .select_related("asked_by", "incident", "answered_by")
        .order_by("-answered_at", "-pk")
    )
    return {
        "open": list(open_questions[:QUEUE_OPEN_SHOWN]),
        "answered": list(answered[:QUEUE_ANSWERED_SHOWN]),
    }
