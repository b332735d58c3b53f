"""Read what the public status page shows, in a fixed number of queries, as plain data.

What counts for the public page
- A service appears when it is not private (`Service.is_private`); a private one never influences
  anything here: not a status, not an incident, not an uptime figure.
- An incident counts when it is classified (it has a priority: "describe first", so a merely
  detected incident is not announced) and touches at least one non-private service. Only its
  non-private services are named. Its internal title and description are never read: the public
  name is made from its impact and the services' names; its text is the customer-facing updates
  (audience "customer") plus automatic entries for the public milestones (investigating, workaround
  in place, resolved, reopened), taken from the timeline.
- Names of customer organisations are redacted from the published update texts ("[…]"); see
  `Redactor`. Service descriptions are not published (they are written for the team and may name
  customers).

Status
- The effect of an open incident comes from its priority: P1 major outage, P2 partial outage,
  P3, P4 and P5 degraded performance (a P4/P5 is still something a customer may notice, so it is
  shown rather than hidden; the same mapping as the customer portal). In state `workaround` the
  effect is lowered to degraded performance: the business can work again.
- A service's status is the worst effect of its open incidents, or operational; a
  `status_override` replaces the derived status (e.g. under maintenance).
- A group's status is the worst of its services; the overall status is the worst of all services,
  as Statuspage's indicator: none, maintenance, minor (degraded), major (partial), critical (major).
- Statuspage's incident status: investigating while open, identified once a workaround is in
  place, resolved when resolved or closed. Its impact comes from the priority: critical (P1),
  major (P2), minor (P3-P5).

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
the customer updates and the milestones of the incidents shown: six, whatever the data size.
"""

import re
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
    Audience,
    Customer,
    EventKind,
    Incident,
    IncidentEvent,
    Service,
    ServiceStatus,
    State,
    Update,
)

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

# Milestones of the timeline that become automatic public updates: (kind, Statuspage status).
MILESTONES = {
    EventKind.CLASSIFIED: ("investigating", "investigating"),
    EventKind.WORKAROUND: ("workaround", "identified"),
    EventKind.RESOLVED: ("resolved", "resolved"),
    EventKind.REOPENED: ("reopened", "investigating"),
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


LEGAL_FORMS = re.compile(
    r"[\s,]+(?:gmbh(?:\s*&\s*co\.?\s*kg)?|ag|se|kg|ohg|ug|e\.?\s?v\.?|ltd\.?|inc\.?|llc|plc|"
    r"s\.?a\.?|b\.?v\.?|n\.?v\.?)$",
    re.I,
)


def customer_names(customers, *, keep: str = "") -> re.Pattern | None:
    """The one rule for recognising customer organisations in a text (the public status page
    redacts them, the portal keeps other organisations' names from a contact): case-insensitively
    and as whole words, each customer's full name, the name without its legal form ("Meridian
    Assurance") and its slug, whatever their length; the slug's words ("meridian assurance");
    and the name's first word when it has four letters or more ("Meridian"), unless it is a word
    of `keep` (an organisation's own name: its contact's "Meridian ..." is about themselves). A
    heuristic: it errs on the side of a word too many, and cannot know nicknames. None when
    there is nothing to recognise."""
    kept = set(keep.casefold().split())
    words = set()
    for name, slug in customers:
        name, slug = (name or "").strip(), (slug or "").strip()
        short = LEGAL_FORMS.sub("", name).strip()
        first = short.split()[0] if short.split() else ""
        words.update({name, short, slug})
        if len(slug) >= 3:
            words.add(slug.replace("-", " "))
        if len(first) >= 4 and first.casefold() not in kept:
            words.add(first)
    words = sorted((w for w in words if w), key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)


class Redactor:
    """Keeps the names of customer organisations (`customer_names`) out of published text: the
    customer-facing updates are written for the affected customers, the public page is for
    everybody."""

    MARK = "[…]"

    def __init__(self, customers):
        self.pattern = customer_names(customers)

    def __call__(self, text: str) -> str:
        return self.pattern.sub(self.MARK, text) if self.pattern and text else text


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
    kind: str  # "customer" (a written update) or a milestone: investigating, workaround, ...
    status: str  # Statuspage's incident status at that time
    body: str  # the customer text (redacted); empty for milestones (render writes them)
    created_at: datetime


@dataclass
class PublicIncident:
    id: str
    status: str  # investigating, identified, resolved
    effect: str  # its current effect on its services (a ServiceStatus value)
    impact_status: str  # its effect by priority alone (names and Statuspage's impact)
    components: list[Component]
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    next_update_at: datetime | None
    updates: list[PublicUpdate]  # newest first

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

    # The incidents shown: every open one, and the latest resolved ones.
    open_ids = [pk for pk, row in rows.items() if row["state"] in OPEN_STATES]
    resolved = sorted(
        (row for row in rows.values() if row["state"] not in OPEN_STATES and row["resolved_at"]),
        key=lambda row: row["resolved_at"],
        reverse=True,
    )[:HISTORY_LIMIT]
    shown = open_ids + [row["id"] for row in resolved]
    # 5. Customer-facing updates and 6. the public milestones of the incidents shown.
    written: dict[int, list[PublicUpdate]] = {pk: [] for pk in shown}
    for pk, incident_id, body, created_at in Update.objects.filter(
        incident_id__in=shown, audience=Audience.CUSTOMER
    ).values_list("id", "incident_id", "body", "created_at"):
        written[incident_id].append(
            PublicUpdate(
                id=public_id("update", pk),
                kind="customer",
                status="",
                body=redact(body),
                created_at=created_at,
            )
        )
    milestones: dict[int, list[tuple[str, datetime]]] = {pk: [] for pk in shown}
    for incident_id, kind, created_at in (
        IncidentEvent.objects.filter(incident_id__in=shown, kind__in=list(MILESTONES))
        .order_by("incident_id", "seq")
        .values_list("incident_id", "kind", "created_at")
    ):
        milestones[incident_id].append((kind, created_at))

    def public(pk: int) -> PublicIncident:
        row = rows[pk]
        return _incident(row, components, services_of[pk], written[pk], milestones[pk])

    open_incidents = sorted(
        (public(pk) for pk in open_ids),
        key=lambda i: (-SEVERITY[i.effect], -i.started_at.timestamp()),
    )
    history = [public(row["id"]) for row in resolved]
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


def _incident(
    row: dict,
    components: dict[int, Component],
    service_ids: list[int],
    written: list[PublicUpdate],
    milestones: list[tuple[str, datetime]],
) -> PublicIncident:
    pk = row["id"]
    is_open = row["state"] in OPEN_STATES
    updates: list[PublicUpdate] = []
    classified = [at for kind, at in milestones if kind == EventKind.CLASSIFIED]
    seen_classified = False
    for n, (kind, at) in enumerate(milestones):
        if kind == EventKind.CLASSIFIED:
            if seen_classified:
                continue
            seen_classified = True
        name, status = MILESTONES[kind]
        updates.append(
            PublicUpdate(
                id=public_id(f"milestone-{name}", f"{pk}-{n}"),
                kind=name,
                status=status,
                body="",
                created_at=at,
            )
        )
    # A written update carries the incident's status at the time it was written.
    timeline = sorted(updates + written, key=lambda u: (u.created_at, u.kind == "customer"))
    status = "investigating"
    for update in timeline:
        if update.kind == "customer":
            update.status = status
        else:
            status = update.status
    created_at = classified[0] if classified else row["detected_at"]
    if is_open:
        status = "identified" if row["state"] == State.WORKAROUND else "investigating"
    else:
        status = "resolved"
    return PublicIncident(
        id=public_id("incident", pk),
        status=status,
        effect=_current_effect(row) if is_open else OPERATIONAL,
        impact_status=PRIORITY_EFFECT.get(row["priority"], DEGRADED),
        components=sorted(
            (components[s] for s in service_ids if s in components),
            key=lambda c: (c.position, c.name),
        ),
        started_at=row["detected_at"],
        created_at=created_at,
        updated_at=max([u.created_at for u in timeline] + [created_at]),
        resolved_at=None if is_open else row["resolved_at"],
        next_update_at=row["next_customer_update_at"] if is_open else None,
        updates=list(reversed(timeline)),
    )
