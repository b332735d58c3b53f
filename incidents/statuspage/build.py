"""Read what the public status page shows, in a fixed number of queries, as plain data.

What counts for the public page
- A service appears when it is not private (`Service.is_private`); a private one never influences
  anything here: not a status, not an incident, not an uptime figure.
- An internal incident counts for the components' status and uptime when it is classified (it
  has a priority: "describe first") and touches at least one non-private service. It never becomes
  an entry of its own: the page's incidents (page, history, feeds, incidents JSON) are the public
  incidents (incidents.models.PublicIncident), published by a person or an auto-publish rule, with
  their public title, public status and public updates, and only their non-private services. An
  alert storm of a thousand incidents moves a component's status and adds no entry.
- Names of customer organisations are redacted from the published titles and texts ("[…]"; the
  one rule of incidents.presentation). Service descriptions are not published (they are written
  for the team and may name customers).

Status
- The effect of an open incident comes from its priority: P1 major outage, P2 partial outage,
  P3, P4 and P5 degraded performance (a P4/P5 is still something a customer may notice, so it is
  shown rather than hidden; the same mapping as the customer portal). In state `workaround` the
  effect is lowered to degraded performance: the business can work again.
- A service's status is the worst effect of its open incidents, or operational; a
  `status_override` replaces the derived status (e.g. under maintenance).
- A group's status is the worst of its services; the overall status is the worst of all services,
  as Statuspage's indicator: none, maintenance, minor (degraded), major (partial), critical (major).
- A public incident's status is the public status a person chose (investigating, identified,
  monitoring, resolved: Statuspage's words); its effect is the worst of its open incidents'; its
  impact comes from their highest priority: critical (P1), major (P2), minor (P3-P5).

Uptime
- Per service and calendar day (in settings.TIME_ZONE) over the last 90 days, and per month for
  the current month and the two before. An incident's interval is detected_at until resolved_at
  (or now while open); from workaround_at on it counts as degraded performance. Where incidents
  overlap, the worst one counts. Weights of an outage second: major outage 1.0, partial outage
  0.3, degraded performance 0.0 (slower, not down). Today counts up to now.
- Approximation: a reopened incident has no public record of the time between its resolution and
  its reopening, so that time counts as down too, and a workaround given before the reopening
  keeps lowering its effect.

Queries: services (with groups), incidents in the window, their public services, customer names,
and the public incidents with their services, incidents and updates: eight, whatever the size.
"""

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ..models import (
    OPEN_STATES,
    Customer,
    Incident,
    PublicIncidentUpdate,
    PublicStatus,
    Service,
    ServiceStatus,
    State,
)
from ..models import PublicIncident as PublicIncidentRecord
from ..presentation import Redactor, customer_names  # noqa: F401 (the one rule)

WINDOW_DAYS = 90
MONTHS = 3
HISTORY_LIMIT = 50  # resolved incidents on the history page, feeds and incidents.json
RECENT_DAYS = 7  # resolved incidents repeated on the front page

OPERATIONAL = ServiceStatus.OPERATIONAL.value
MAINTENANCE = ServiceStatus.UNDER_MAINTENANCE.value
DEGRADED = ServiceStatus.DEGRADED_PERFORMANCE.value
PARTIAL = ServiceStatus.PARTIAL_OUTAGE.value
MAJOR = ServiceStatus.MAJOR_OUTAGE.value

# ServiceStatus lists the statuses best first.
SEVERITY = {status: rank for rank, status in enumerate(ServiceStatus.values)}
PRIORITY_EFFECT = {1: MAJOR, 2: PARTIAL, 3: DEGRADED, 4: DEGRADED, 5: DEGRADED}
DOWNTIME_WEIGHT = {OPERATIONAL: 0.0, MAINTENANCE: 0.0, DEGRADED: 0.0, PARTIAL: 0.3, MAJOR: 1.0}
# Statuspage's words: a component status as the page's indicator and as an incident's impact.
INDICATOR = {
    OPERATIONAL: "none",
    MAINTENANCE: "maintenance",
    DEGRADED: "minor",
    PARTIAL: "major",
    MAJOR: "critical",
}


def worst(statuses) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=OPERATIONAL)


def public_id(kind: str, key) -> str:
    """A stable, opaque id (12 characters, like Statuspage's): reveals neither our primary keys
    nor how many incidents there are. Derived from SECRET_KEY, so it changes when that does."""
    digest = salted_hmac("incidents.statuspage.id", f"{kind}:{key}").hexdigest()
    number = int(digest[:16], 16)
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = alphabet[rest] + out
    return out.rjust(12, "0")[-12:]


@dataclass
class Day:
    day: date
    uptime: float  # percent of the (elapsed) day
    worst: str  # the worst status seen that day


@dataclass
class Month:
    first: date
    uptime: float


@dataclass
class Component:
    id: str
    name: str
    status: str
    derived_status: str
    position: int
    group_id: str | None
    days: list[Day] = field(default_factory=list)
    uptime: float = 100.0
    months: list[Month] = field(default_factory=list)

    def fingerprint(self) -> list:
        """What a change of makes the component 'updated' (Statuspage's updated_at)."""
        return [self.name, self.status, self.group_id, self.position]


@dataclass
class Group:
    id: str
    name: str
    position: int
    components: list[Component]

    @property
    def status(self) -> str:
        return worst(c.status for c in self.components)


@dataclass
class PublicUpdate:
    id: str
    kind: str  # the PublicIncidentUpdate's kind: published, update, workaround, resolved
    status: str  # the public status from then on (Statuspage's incident statuses)
    bodies: dict[str, str]  # the text per language ("de", "en"), redacted
    created_at: datetime


@dataclass
class PublicIncident:
    """One public incident as the page shows it (built from incidents.models.PublicIncident,
    never from an internal incident: an alert storm adds no entry here)."""

    id: str
    titles: dict[str, str]  # the public title per language, redacted
    status: str  # investigating, identified, monitoring, resolved (PublicStatus)
    effect: str  # its current effect on its services (a ServiceStatus value)
    impact_status: str  # its effect by priority alone (names and Statuspage's impact)
    components: list[Component]
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    next_update_at: datetime | None
    updates: list[PublicUpdate]  # newest first
    monitoring_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @property
    def impact(self) -> str:
        return INDICATOR[self.impact_status]


@dataclass
class StatusPage:
    now: datetime
    page_id: str
    url: str
    time_zone: str
    days: list[date]
    months: list[date]
    groups: list[Group]
    ungrouped: list[Component]
    open_incidents: list[PublicIncident]
    history: list[PublicIncident]  # resolved in the window, newest first, at most HISTORY_LIMIT

    @property
    def components(self) -> list[Component]:
        return [c for g in self.groups for c in g.components] + self.ungrouped

    @property
    def status(self) -> str:
        return worst(c.status for c in self.components)

    @property
    def indicator(self) -> str:
        return INDICATOR[self.status]

    @property
    def recent(self) -> list[PublicIncident]:
        since = self.now - timedelta(days=RECENT_DAYS)
        return [i for i in self.history if i.resolved_at and i.resolved_at >= since]


# --- time ---------------------------------------------------------------------------------------


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _month_start(day: date, back: int) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def _segments(row: dict, now: datetime) -> list[tuple[datetime, datetime, str]]:
    """An incident's intervals of effect (see the module docstring)."""
    # effect_of is the rule: the effect while open without, and then with, a workaround.
    effect = effect_of(State.ESCALATED, row["priority"])
    lowered = effect_of(State.WORKAROUND, row["priority"])
    start = row["detected_at"]
    end = now if row["state"] in OPEN_STATES or row["resolved_at"] is None else row["resolved_at"]
    end = min(end, now)
    if end <= start:
        return []
    turn = row["workaround_at"]
    if turn and start < turn < end and lowered != effect:
        return [(start, turn, effect), (turn, end, lowered)]
    return [(start, end, effect)]


def _down_seconds(pieces: list[tuple[datetime, datetime, str]]) -> float:
    """Weighted outage seconds of overlapping pieces: at every moment the worst one counts.

    A sweep over the pieces' ends (sorted once), keeping how many pieces of each weight are
    active: linear after the sort, where comparing every stretch with every piece was quadratic
    (a busy service's day over a large history has dozens of pieces)."""
    edges = []
    for start, end, effect in pieces:
        weight = DOWNTIME_WEIGHT[effect]
        if weight > 0 and end > start:
            edges += [(start, 1, weight), (end, -1, weight)]
    edges.sort(key=lambda edge: edge[0])
    active: dict[float, int] = {}
    down, previous = 0.0, None
    for moment, delta, weight in edges:
        if previous is not None and moment > previous:
            worst_now = max((w for w, n in active.items() if n > 0), default=0.0)
            down += worst_now * (moment - previous).total_seconds()
        active[weight] = active.get(weight, 0) + delta
        previous = moment
    return down


def _uptime(
    segments: list[tuple[datetime, datetime, str]],
    bounds: list[tuple[date, datetime, datetime]],
) -> dict[date, tuple[float, float, str]]:
    """Per day: (down seconds, measured seconds, worst status)."""
    starts = [day_start for _, day_start, _ in bounds]
    per_day: dict[date, list] = {}
    for start, end, effect in segments:
        # The first day the segment touches, then onwards while it lasts.
        index = max(0, bisect_right(starts, start) - 1)
        while index < len(bounds) and bounds[index][1] < end:
            day, day_start, day_end = bounds[index]
            if start < day_end:
                per_day.setdefault(day, []).append(
                    (max(start, day_start), min(end, day_end), effect)
                )
            index += 1
    result = {}
    for day, day_start, day_end in bounds:
        pieces = per_day.get(day, [])
        result[day] = (
            _down_seconds(pieces),
            (day_end - day_start).total_seconds(),
            worst(eff for _, _, eff in pieces),
        )
    return result


def _percent(down: float, measured: float) -> float:
    return 100.0 if measured <= 0 else max(0.0, 100.0 * (1 - down / measured))


# --- the build ----------------------------------------------------------------------------------

INCIDENT_FIELDS = (
    "id",
    "state",
    "priority",
    "detected_at",
    "workaround_at",
    "resolved_at",
    "next_customer_update_at",
)


def build(*, now: datetime | None = None) -> StatusPage:
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    today = now.astimezone(tz).date()
    days = [today - timedelta(days=n) for n in range(WINDOW_DAYS - 1, -1, -1)]
    months = [_month_start(today, back) for back in range(MONTHS - 1, -1, -1)]
    first_day = min(days[0], months[0])
    bounds = []
    day = first_day
    while day <= today:
        start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
        bounds.append((day, start, min(end, now)))
        day += timedelta(days=1)
    window_start = bounds[0][1]

    # 1. Public services with their groups.
    services = list(
        Service.objects.filter(is_private=False)
        .select_related("group")
        .order_by("position", "name")
    )
    # 2. Incidents that count: classified, touching a public service, open or resolved in the
    #    window. Only the fields below are read (never title, description or workaround text).
    links = Incident.services.through.objects.filter(service__is_private=False)
    incidents_qs = (
        Incident.objects.filter(priority__isnull=False, pk__in=links.values("incident_id"))
        .filter(Q(state__in=OPEN_STATES) | Q(resolved_at__gte=window_start))
        .order_by()
    )
    rows = {row["id"]: row for row in incidents_qs.values(*INCIDENT_FIELDS)}
    # 3. Their public services.
    services_of: dict[int, list[int]] = {pk: [] for pk in rows}
    for incident_id, service_id in links.filter(
        incident_id__in=incidents_qs.values("pk")
    ).values_list("incident_id", "service_id"):
        if incident_id in services_of:
            services_of[incident_id].append(service_id)
    # 4. Names to keep out of published text.
    redact = Redactor(Customer.objects.values_list("name", "slug"))

    # Status and uptime per service.
    effects: dict[int, list[str]] = {s.pk: [] for s in services}
    segments: dict[int, list] = {s.pk: [] for s in services}
    for pk, row in rows.items():
        effect = _current_effect(row)
        pieces = _segments(row, now)
        for service_id in services_of[pk]:
            if service_id not in effects:
                continue
            segments[service_id].extend(pieces)
            if row["state"] in OPEN_STATES:
                effects[service_id].append(effect)

    window = set(days)
    components: dict[int, Component] = {}
    groups: dict[int, Group] = {}
    ungrouped: list[Component] = []
    for service in services:
        derived = worst(effects[service.pk])
        group_id = public_id("group", service.group_id) if service.group_id else None
        component = Component(
            id=public_id("service", service.pk),
            name=service.name,
            status=service.status_override or derived,
            derived_status=derived,
            position=service.position,
            group_id=group_id,
        )
        per_day = _uptime(segments[service.pk], bounds)
        component.days = [
            Day(day=d, uptime=_percent(per_day[d][0], per_day[d][1]), worst=per_day[d][2])
            for d in days
        ]
        component.uptime = _percent(
            sum(v[0] for d, v in per_day.items() if d in window),
            sum(v[1] for d, v in per_day.items() if d in window),
        )
        for first in months:
            in_month = [v for d, v in per_day.items() if d.replace(day=1) == first]
            component.months.append(
                Month(
                    first=first,
                    uptime=_percent(sum(v[0] for v in in_month), sum(v[1] for v in in_month)),
                )
            )
        components[service.pk] = component
        if service.group_id:
            if service.group_id not in groups:
                groups[service.group_id] = Group(
                    id=group_id,
                    name=service.group.name,
                    position=service.group.position,
                    components=[],
                )
            groups[service.group_id].components.append(component)
        else:
            ungrouped.append(component)

    # 5.-7. The entries: public incidents only (open, and resolved in the window).
    open_incidents, history = _public_incidents(components, redact, window_start)
    return StatusPage(
        now=now,
        page_id=public_id("page", 1),
        url=f"{settings.BASE_URL}/status/",
        time_zone=settings.TIME_ZONE,
        days=days,
        months=months,
        groups=sorted(groups.values(), key=lambda g: (g.position, g.name)),
        ungrouped=ungrouped,
        open_incidents=open_incidents,
        history=history,
    )


def effect_of(state: str, priority: int | None) -> str:
    """What an incident means for the services it touches, as a ServiceStatus value: P1 major
    outage, P2 partial outage, P3-P5 (and not yet classified) degraded performance; a workaround
    in place lowers it to degraded; resolved or closed: operational. The one rule for the public
    page and the customer portal."""
    if state not in OPEN_STATES:
        return OPERATIONAL
    effect = PRIORITY_EFFECT.get(priority, DEGRADED)
    if state == State.WORKAROUND and SEVERITY[effect] > SEVERITY[DEGRADED]:
        return DEGRADED
    return effect


def _current_effect(row: dict) -> str:
    return effect_of(row["state"], row["priority"])


def _public_incidents(
    components: dict[int, Component], redact: Redactor, since: datetime
) -> tuple[list[PublicIncident], list[PublicIncident]]:
    """The page's entries: every open public incident, and the latest resolved in the window,
    with their public services, public updates and the state of the incidents they cover (for
    their effect and the promised next update). Four queries."""
    faces = {
        face.pk: face
        for face in PublicIncidentRecord.objects.filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__gte=since)
        ).order_by()
    }
    service_ids: dict[int, list[int]] = {pk: [] for pk in faces}
    for face_id, service_id in PublicIncidentRecord.services.through.objects.filter(
        publicincident_id__in=list(faces)
    ).values_list("publicincident_id", "service_id"):
        if service_id in components:
            service_ids[face_id].append(service_id)
    faces = {pk: face for pk, face in faces.items() if service_ids[pk]}  # public services only
    covered: dict[int, list[dict]] = {pk: [] for pk in faces}
    for row in PublicIncidentRecord.incidents.through.objects.filter(
        publicincident_id__in=list(faces)
    ).values(
        "publicincident_id",
        "incident__state",
        "incident__priority",
        "incident__detected_at",
        "incident__next_customer_update_at",
    ):
        covered[row["publicincident_id"]].append(row)
    updates: dict[int, list[PublicUpdate]] = {pk: [] for pk in faces}
    for update in PublicIncidentUpdate.objects.filter(public_incident_id__in=list(faces)).order_by(
        "-created_at", "-pk"
    ):
        updates[update.public_incident_id].append(
            PublicUpdate(
                id=public_id("public-update", update.pk),
                kind=update.kind,
                status=update.status,
                bodies={lang: redact(update.body_in(lang)) for lang in ("de", "en")},
                created_at=update.created_at,
            )
        )
    shown = [
        _entry(face, components, service_ids[pk], covered[pk], updates[pk], redact)
        for pk, face in faces.items()
    ]
    open_ones = sorted(
        (i for i in shown if i.is_open),
        key=lambda i: (-SEVERITY[i.effect], -i.created_at.timestamp()),
    )
    resolved = sorted(
        (i for i in shown if not i.is_open), key=lambda i: i.resolved_at, reverse=True
    )[:HISTORY_LIMIT]
    return open_ones, resolved


def _entry(face, components, service_ids, covered, updates, redact) -> PublicIncident:
    is_open = face.status != PublicStatus.RESOLVED
    open_rows = [r for r in covered if r["incident__state"] in OPEN_STATES]
    priorities = [r["incident__priority"] for r in covered if r["incident__priority"]]
    impact_status = PRIORITY_EFFECT.get(min(priorities, default=None), DEGRADED)
    if not is_open:
        effect = OPERATIONAL
    elif open_rows:
        effect = worst(effect_of(r["incident__state"], r["incident__priority"]) for r in open_rows)
        effect = DEGRADED if effect == OPERATIONAL else effect
    else:
        effect = DEGRADED
    promises = [r["incident__next_customer_update_at"] for r in open_rows]
    monitoring = [u.created_at for u in updates if u.status == PublicStatus.MONITORING]
    return PublicIncident(
        id=public_id("public", face.pk),
        titles={lang: redact(face.title_in(lang)) for lang in ("de", "en")},
        status=face.status,
        effect=effect,
        impact_status=impact_status,
        components=sorted((components[s] for s in service_ids), key=lambda c: (c.position, c.name)),
        started_at=min((r["incident__detected_at"] for r in covered), default=face.published_at),
        created_at=face.published_at,
        updated_at=max([u.created_at for u in updates] + [face.published_at]),
        resolved_at=None if is_open else face.resolved_at,
        next_update_at=min((p for p in promises if p), default=None) if is_open else None,
        updates=updates,
        monitoring_at=min(monitoring, default=None),
    )
