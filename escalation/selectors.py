"""Reads for the escalation process."""

import re
from datetime import datetime
from functools import wraps

from django.contrib.auth.models import Group
from django.db.models import Count, F, Prefetch, Q
from django.utils.translation import gettext_lazy

from incidents.models import Incident, User

from . import roles, schedules
from .classification import Rule
from .memo import Memo
from .models import (
    Audience,
    CommunicationRule,
    ContactMethod,
    EscalationPolicy,
    EscalationRule,
    EventWebhook,
    IncidentAlert,
    Integration,
    LayerMember,
    NotificationRule,
    OnCallSchedule,
    PriorityMatrixEntry,
)

_BATCH = Memo("escalation_settings_batch")


def settings_read_once():
    """Within the block (`with settings_read_once():`), the priority matrix, the escalation rules,
    the communication matrix and the outbound webhooks are read once, not per incident: for a
    batch of work done at one moment (the clock tick classifying a storm's new incidents). A rule
    edited meanwhile applies from the next batch, a fraction of a second on."""
    return _BATCH.scope()


def _once_per_batch(read):
    @wraps(read)
    def cached():
        return _BATCH.get(read, read)

    return cached


@_once_per_batch
def priority_matrix() -> dict[tuple[str, str], int]:
    return {(c.impact, c.urgency): c.priority for c in PriorityMatrixEntry.objects.all()}


@_once_per_batch
def active_webhooks() -> list:
    """Outbound webhooks that are on, with the services they are limited to."""
    return list(EventWebhook.objects.filter(is_active=True).prefetch_related("services"))


def integrations_for_team():
    """The monitoring integrations with their services, by name: the team's configuration (the
    console's list and the API; the integration key is the sender's credential: never shown)."""
    return Integration.objects.select_related("service").order_by("name", "pk")


@_once_per_batch
def active_escalation_rules() -> list[Rule]:
    """In their order, with the services and customers they list: three small queries (every new
    incident asks), folding plain rows rather than building model instances."""
    fields = ("pk", "name", "max_priority", "min_priority_for_lists", "auto_escalate")
    found: dict[int, tuple] = {
        pk: (name, max_priority, min_priority, auto, set(), set())
        for pk, name, max_priority, min_priority, auto in EscalationRule.objects.filter(
            is_active=True
        ).values_list(*fields)
    }
    if found:
        for relation, slot in ((EscalationRule.services, 4), (EscalationRule.customers, 5)):
            through = relation.through.objects.filter(escalationrule_id__in=found)
            target = relation.field.m2m_reverse_field_name()
            for rule_id, target_id in through.values_list("escalationrule_id", f"{target}_id"):
                found[rule_id][slot].add(target_id)
    return [
        Rule(
            name=name,
            max_priority=max_priority,
            service_ids=frozenset(services),
            customer_ids=frozenset(customers),
            min_priority_for_lists=min_priority,
            auto_escalate=auto,
        )
        for name, max_priority, min_priority, auto, services, customers in found.values()
    ]


def schedules_with_rotations():
    """On-call schedules with everything `as_spec()` needs, in a fixed number of queries."""
    return OnCallSchedule.objects.prefetch_related(
        Prefetch("layers__members", queryset=LayerMember.objects.order_by("position", "id")),
        "overrides",
    )


def schedule_spec(schedule_id: int) -> schedules.ScheduleSpec | None:
    schedule = schedules_with_rotations().filter(pk=schedule_id).first()
    return schedule.as_spec() if schedule else None


def on_call_user(schedule_id: int, at: datetime) -> User | None:
    spec = schedule_spec(schedule_id)
    user_id = schedules.who_is_on_call(spec, at) if spec else None
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


def managers_on_duty(at: datetime) -> list[User]:
    """Whoever is on call in the manager-on-duty rota; else every active escalation manager."""
    for schedule in schedules_with_rotations().filter(is_manager_on_duty=True):
        user_id = schedules.who_is_on_call(schedule.as_spec(), at)
        if user_id:
            return list(User.objects.filter(pk=user_id, is_active=True))
    return list(
        User.objects.filter(groups__name=roles.ESCALATION_MANAGER, is_active=True).order_by("pk")
    )


def group_members(group_id: int) -> list[User]:
    return list(User.objects.filter(groups__pk=group_id, is_active=True).order_by("pk"))


def group_by_name(name: str) -> Group | None:
    return Group.objects.filter(name=name).first()


def policy_for_incident(incident: Incident) -> EscalationPolicy | None:
    """The policy of the first affected service that has one, else the default policy."""
    policies = EscalationPolicy.objects.prefetch_related("levels__users").select_related("calendar")
    policy = (
        policies.filter(services__in=incident.services.all()).order_by("services__position").first()
    )
    return policy or policies.filter(is_default=True).first()


def ladder_for(user: User) -> list[NotificationRule]:
    """A person's rungs with active contact methods; an email at once when they set none up."""
    rules = list(
        NotificationRule.objects.filter(user=user, contact_method__is_active=True)
        .select_related("contact_method")
        .order_by("delay_minutes", "pk")
    )
    if rules or not user.email:
        return rules
    default = NotificationRule(
        user=user,
        delay_minutes=0,
        contact_method=ContactMethod(user=user, channel="email", address=user.email),
    )
    return [default]


def signing_secrets_for(user: User, channel: str, address: str) -> dict:
    """The `signing_secret`/`previous_signing_secret` arguments of notification_enqueue for a
    person's webhook contact method (empty for other channels)."""
    if channel != "webhook":
        return {}
    method = (
        ContactMethod.objects.filter(user=user, channel=channel, address=address)
        .order_by("-is_active", "pk")
        .first()
    )
    if method is None:
        return {}
    secret, previous = method.secrets_to_sign()
    return {"signing_secret": secret, "previous_signing_secret": previous}


def address_for(user: User, channel: str) -> str | None:
    method = (
        ContactMethod.objects.filter(user=user, channel=channel, is_active=True)
        .order_by("pk")
        .first()
    )
    if method:
        return method.address
    return user.email if channel == "email" and user.email else None


@_once_per_batch
def active_communication_rules() -> list[CommunicationRule]:
    """The communication matrix's active rows, in their order, with the people they name."""
    rows = CommunicationRule.objects.filter(is_active=True).prefetch_related("users")
    return list(rows.order_by("position", "pk"))


def communication_rules_for(incident: Incident) -> list[CommunicationRule]:
    """Active matrix rows matching the incident's priority, customers and services (or 'any').
    The incident's customers and services are read only if a row names one."""
    rows = active_communication_rules()
    customer_ids, service_ids = set(), set()
    if any(row.customer_id for row in rows):
        customer_ids = set(incident.customers.values_list("pk", flat=True))
    if any(row.service_id for row in rows):
        service_ids = set(incident.services.values_list("pk", flat=True))
    return [
        row
        for row in rows
        if (row.priority is None or row.priority == incident.priority)
        and (row.customer_id is None or row.customer_id in customer_ids)
        and (row.service_id is None or row.service_id in service_ids)
    ]


def on_call_overview(at: datetime) -> list[dict]:
    """Every schedule: who is on call now and who is next (from when), in fixed queries."""
    rows = []
    for schedule in schedules_with_rotations().order_by("name"):
        spec = schedule.as_spec()
        now_id = schedules.who_is_on_call(spec, at)
        upcoming = schedules.next_shift(spec, at)
        rows.append({"schedule": schedule, "now": now_id, "next": upcoming})
    ids = {r["now"] for r in rows} | {r["next"].user_id for r in rows if r["next"]}
    users = User.objects.in_bulk([i for i in ids if i])
    for row in rows:
        row["now"] = users.get(row["now"]) if row["now"] else None
        row["next_user"] = users.get(row["next"].user_id) if row["next"] else None
    return rows


def incident_communication(incident: Incident) -> dict:
    """For one incident: who was informed (the outbox), and what is scheduled (pending clocks)."""
    from notifications.models import Notification

    sent = (
        Notification.objects.filter(dedup_key__regex=rf"^(page|comm|due):{incident.pk}:")
        .select_related("recipient")
        .order_by("created_at")
    )
    pending = list(incident.clocks.filter(status="pending").order_by("due_at"))
    audiences = dict(Audience.choices)
    for clock in pending:
        clock.audience_label = audiences.get((clock.payload or {}).get("audience"), "")
    sent = list(sent)
    all_clear = None
    for n in sent:
        event = (n.context or {}).get("event", "")
        n.event_label = MESSAGE_EVENTS.get(event, "")
        promised = (n.context or {}).get("next_update_at")
        n.promised_at = datetime.fromisoformat(promised) if promised else None
        if event == "resolved":
            all_clear = all_clear or n
    return {"notifications": sent, "scheduled": pending, "all_clear": all_clear}


# What each message of the lifecycle is called on the communication plan.
MESSAGE_EVENTS = {
    "escalated": gettext_lazy("escalation"),
    "update": gettext_lazy("update"),
    "workaround": gettext_lazy("workaround in place"),
    "resolved": gettext_lazy("all-clear"),
}


def subscription_scopes_for(incident: Incident) -> list[str]:
    """Whose subscriptions an incident's customer messages reach: its services, the group of each
    public one (a private service is nobody's business outside its customers), its customers."""
    services = list(incident.services.select_related("group"))
    return (
        [f"service:{s.slug}" for s in services]
        + sorted({f"group:{s.group.slug}" for s in services if s.group_id and not s.is_private})
        + [f"customer:{c.slug}" for c in incident.customers.all()]
    )


def audience_links(incident: Incident, recipient: User | None, *, audience: str) -> dict:
    """The links a message to this audience carries, each to the page that audience may open.

    `incident_url` is the message's main link: the console incident page for the team, the
    dashboard for executives, the portal's incident page for a customer contact (the status page
    for an anonymous subscriber). Customers also get `status_url` and `portal_url`.
    """
    from django.conf import settings
    from django.urls import reverse

    base = settings.BASE_URL
    if audience == "internal":
        return {"incident_url": base + reverse("console:incident", args=[incident.pk])}
    if audience == "executive":
        dashboard = base + reverse("dashboard:index")
        return {"incident_url": dashboard, "dashboard_url": dashboard}
    status_url = base + reverse("statuspage:index")
    portal_url = ""
    if recipient is not None and getattr(recipient, "customer_id", None):
        portal_url = base + reverse("portal:incident", args=[incident.pk])
    return {
        "incident_url": portal_url or status_url,
        "status_url": status_url,
        "portal_url": portal_url,
    }


# Which written updates each recipient audience may read (customers never see internal text).
_UPDATE_AUDIENCE_FOR = {"internal": "internal", "executive": "executive", "customer": "customer"}


def message_context(
    incident: Incident, recipient: User | None, *, audience: str, language: str = "", **extra
) -> dict:
    """Everything the notification templates show about an incident, in the recipient's language.

    `audience` (internal, executive, customer) decides which latest update is included and whether
    the team's link is; customers get neither internal text nor console links.
    """
    from django.conf import settings
    from django.utils import timezone as tz
    from django.utils import translation

    from incidents.glossary import public_status_label
    from incidents.models import State

    language = language or getattr(recipient, "language", None) or settings.LANGUAGE_CODE
    with translation.override(language):
        # Customers read the public status, everybody else the internal state (glossary).
        if audience == "customer":
            state = public_status_label(incident.state)
        else:
            state = str(State(incident.state).label)
    latest = incident.updates.filter(audience=_UPDATE_AUDIENCE_FOR[audience]).order_by(
        "-created_at"
    )
    latest_update = latest.values_list("body", flat=True).first() or ""
    age = (tz.now() - incident.detected_at).total_seconds() // 60
    return {
        "incident_id": incident.pk,
        "title": incident.title,
        "description": incident.description if audience != "customer" else "",
        "priority": incident.priority if audience != "customer" else None,
        "state": state,
        **audience_links(incident, recipient, audience=audience),
        "services": [s.name for s in incident.services.all()],
        "customers": [c.name for c in incident.customers.all()] if audience != "customer" else [],
        "detected_at": incident.detected_at.isoformat(),
        "age_minutes": int(age),
        "workaround": incident.workaround,
        "next_update_at": None,
        "recipient_name": recipient.display_name if recipient else "",
        "latest_update": latest_update,
        "unsubscribe_url": "",
        **extra,
    }


# --- Console ---------------------------------------------------------------------------------


def console_incidents_for(user: User):
    """Incidents a console user works on: escalation managers all; responders those they are
    pulled into (paged, informed by the communication matrix, commanding or holding another role
    on it, or created by them)."""
    from django.db.models import CharField, Exists, OuterRef, Q, Value
    from django.db.models.functions import Cast, Concat

    from incidents.selectors import role_of
    from notifications.models import Notification

    from .models import IncidentRole

    incidents = Incident.objects.all()
    if role_of(user) != "staff":
        return incidents.none()
    if user.is_superuser or user.groups.filter(name=roles.ESCALATION_MANAGER).exists():
        return incidents
    informed = Notification.objects.filter(
        recipient=user,
        subject=Concat(Value("incident:"), Cast(OuterRef("pk"), output_field=CharField())),
    )
    holds_role = IncidentRole.objects.filter(incident=OuterRef("pk"), user=user, ended_at=None)
    return incidents.filter(
        Q(pages__user=user)
        | Q(commander=user)
        | Q(created_by=user)
        | Exists(informed)
        | Exists(holds_role)
    ).distinct()


def is_responder_only(user: User) -> bool:
    """Staff whose reach is limited to the incidents they are pulled into (responders), as
    opposed to escalation managers and superusers, who reach every incident."""
    from incidents.selectors import role_of

    if role_of(user) != "staff" or user.is_superuser:
        return False
    # role_of read the groups (from the prefetch the API's authentication made, if any)
    return roles.ESCALATION_MANAGER not in {group.name for group in user.groups.all()}


def incidents_readable_by(user: User, *, prefetch: bool = True):
    """Every incident the user may read, on every surface (API list, detail, timeline, updates;
    console; admin): customers and executives as incidents.selectors.incident_list_for says,
    responders only what console_incidents_for gives them, escalation managers all. One scope
    for responders everywhere."""
    from incidents.selectors import incident_list_for

    incidents = incident_list_for(user, prefetch=prefetch)
    if is_responder_only(user):
        incidents = incidents.filter(pk__in=console_incidents_for(user).values("pk"))
    return incidents


def next_pending_clock(kind: str):
    """Annotation: when the incident's next pending clock of `kind` is due (None if none)."""
    from django.db.models import OuterRef, Subquery

    from .models import Clock

    return Subquery(
        Clock.objects.filter(incident=OuterRef("pk"), kind=kind, status=Clock.Status.PENDING)
        .order_by("due_at")
        .values("due_at")[:1]
    )


def board_for(user: User, *, priority: str = "", service: str = "") -> list[Incident]:
    """Open incidents for the board, most urgent first, with the next deadlines, in a fixed
    number of queries."""
    from django.db.models import Case, F, IntegerField, Value, When

    from incidents.models import OPEN_STATES

    from .models import Clock

    incidents = (
        console_incidents_for(user)
        .filter(state__in=OPEN_STATES)
        .select_related("commander")
        .prefetch_related("services", "customers")
        .annotate(
            next_update_at=next_pending_clock(Clock.Kind.UPDATE_DUE),
            next_level_at=next_pending_clock(Clock.Kind.LEVEL_TIMEOUT),
        )
        .annotate(
            state_rank=Case(
                *[When(state=state, then=Value(rank)) for rank, state in enumerate(OPEN_STATES)],
                output_field=IntegerField(),
            )
        )
        .order_by("state_rank", F("priority").asc(nulls_last=True), "detected_at")
    )
    if re.fullmatch(r"[0-9]{1,2}", priority):  # not str.isdigit: "²" is a digit to it
        incidents = incidents.filter(priority=int(priority))
    if service:  # a slug, or nothing matches (a NUL byte would be an error in PostgreSQL)
        slug = service if re.fullmatch(r"[-a-zA-Z0-9_]+", service) else "-"
        incidents = incidents.filter(services__slug=slug)
    return list(incidents)


# --- Contracts, SLA clocks and penalty exposure -------------------------------------------------


def contracts_for_incident(incident: Incident) -> list:
    """Active contracts of the incident's customers, valid on the day it was detected, that cover
    one of its services (a contract without services covers all of them); targets prefetched."""
    from .models import Contract

    customer_ids = list(
        Incident.customers.through.objects.filter(incident=incident).values_list(
            "customer_id", flat=True
        )
    )
    if not customer_ids:  # most alerts name a service only: no contract can apply
        return []
    day = incident.detected_at.date()
    service_ids = Incident.services.through.objects.filter(incident=incident).values("service")
    return list(
        Contract.objects.filter(customer__in=customer_ids, is_active=True, valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .filter(Q(services__isnull=True) | Q(services__in=service_ids))
        .distinct()
        .select_related("calendar", "customer")
        .prefetch_related("targets")
        .order_by("pk")
    )


def _sla_clocks():
    """SLA clocks with what exposure needs (contract, calendar, customer, clauses): the one
    loading for the incident page, the API, the report, the board and the dashboard."""
    from .models import SlaClock

    return SlaClock.objects.select_related(
        "contract__calendar", "contract__customer"
    ).prefetch_related("contract__clauses")


def _sla_prefetch():
    return [Prefetch("sla_clocks", queryset=_sla_clocks()), "sla_pauses"]


def sla_exposure(incident: Incident, at: datetime) -> list:
    """Per contract: each target's clock and the penalty accrued now and if restored in 1 h / 4 h
    (the incident must carry the prefetches of `with_sla`, or it costs a few queries)."""
    return _exposures(
        incident.priority, list(incident.sla_clocks.all()), list(incident.sla_pauses.all()), at
    )


def _exposures(priority, clocks: list, pauses: list, at: datetime) -> list:
    from .sla import contract_exposure, pauses_for

    by_contract: dict[int, list] = {}
    for clock in clocks:
        by_contract.setdefault(clock.contract_id, []).append(clock)
    return [
        contract_exposure(
            contract=group[0].contract,
            clocks=group,
            pauses=pauses_for(pauses, group[0].contract),
            priority=priority,
            at=at,
        )
        for group in by_contract.values()
    ]


def with_sla(incidents):
    """The queryset with what `sla_exposure` reads, prefetched (three queries for any number)."""
    return incidents.prefetch_related(*_sla_prefetch())


def customer_exposure(customer, at: datetime) -> dict:
    """One customer's live exposure: every open incident with SLA clocks under the customer's
    contracts (accrued now, and if restored in 1 h / 4 h), and the credits of the month so far
    per contract under its month cap. A fixed number of queries whatever the number of incidents.
    """
    from zoneinfo import ZoneInfo

    from incidents.models import OPEN_STATES

    from . import penalties
    from .schedules import month_bounds, zone_of

    # The month as the monthly SLA report bounds it (the customer's zone, or ours if theirs is
    # unknown), so the credits here are the report's credits so far.
    zone = zone_of(customer)
    local = at.astimezone(ZoneInfo(zone))
    month_start, _ = month_bounds(zone, local.year, local.month)
    incidents = list(
        with_sla(
            Incident.objects.filter(sla_clocks__contract__customer=customer)
            .filter(Q(state__in=OPEN_STATES) | Q(detected_at__gte=month_start))
            .distinct()
            .order_by("priority", "detected_at")
        )
    )
    open_items: list[dict] = []
    month: dict[int, dict] = {}
    for incident in incidents:
        mine = [e for e in sla_exposure(incident, at) if e.customer_id == customer.pk]
        if incident.state in OPEN_STATES:
            open_items.append({"incident": incident, "exposures": mine})
        if incident.detected_at >= month_start:
            for exposure in mine:
                entry = month.setdefault(
                    exposure.contract_id, {"exposure": exposure, "amounts": []}
                )
                entry["amounts"].append(exposure.accrued.amount)
    contracts = {c.pk: c for c in customer.contracts.all()}
    month_rows = []
    for contract_id, entry in month.items():
        contract = contracts[contract_id]
        total = penalties.month_total(
            entry["amounts"], monthly_fee=contract.monthly_fee, caps=contract.caps()
        )
        month_rows.append(
            {"contract": contract, "incidents": len(entry["amounts"]), "total": total}
        )
    return {
        "customer": customer,
        "at": at,
        "month_start": month_start,
        "open": open_items,
        "totals": sum_by_currency(e for item in open_items for e in item["exposures"]),
        "month": month_rows,
    }


def exposure_by_incident(incidents: list[Incident], at: datetime) -> dict[int, dict]:
    """For a page of incidents (board, dashboard): per incident the accrued penalty and the
    projections summed per currency; two queries for the whole page (three with clocks)."""
    from .models import SlaPause

    ids = [incident.pk for incident in incidents]
    clocks: dict[int, list] = {}
    for clock in _sla_clocks().filter(incident_id__in=ids):
        clocks.setdefault(clock.incident_id, []).append(clock)
    pauses: dict[int, list] = {}
    if clocks:
        for pause in SlaPause.objects.filter(incident_id__in=list(clocks)):
            pauses.setdefault(pause.incident_id, []).append(pause)
    result = {}
    for incident in incidents:
        if incident.pk not in clocks:
            continue
        exposures = _exposures(
            incident.priority, clocks[incident.pk], pauses.get(incident.pk, []), at
        )
        running = [
            t for e in exposures for t in e.targets if t.stopped_at is None and t.deadline_at
        ]
        result[incident.pk] = {
            "exposures": exposures,
            "by_currency": sum_by_currency(exposures),
            "next_deadline": min((t.deadline_at for t in running if not t.missed), default=None),
            "missed": any(t.missed for e in exposures for t in e.targets),
        }
    return result


def sum_by_currency(exposures) -> dict[str, dict]:
    """Accrued and projected penalties added up per currency (never across currencies)."""
    from .penalties import ZERO

    sums: dict[str, dict] = {}
    for exposure in exposures:
        entry = sums.setdefault(exposure.currency, {"accrued": ZERO, "in_1h": ZERO, "in_4h": ZERO})
        entry["accrued"] += exposure.accrued.amount
        entry["in_1h"] += exposure.if_restored_in[1].amount
        entry["in_4h"] += exposure.if_restored_in[4].amount
    return sums


def level_applies(level: dict, calendar, at: datetime) -> bool:
    """Whether a level of a policy snapshot pages at `at` (its service-hours condition)."""
    from . import calendars
    from .models import EscalationLevel

    if level["applies"] == EscalationLevel.Applies.ALWAYS or calendar is None:
        return True
    inside = calendars.is_open(calendar, at)
    return inside if level["applies"] == EscalationLevel.Applies.INSIDE else not inside


def level_targets(level: dict, at: datetime) -> list[User]:
    """Who a level of a policy snapshot pages at `at`, in a stable order."""
    if level.get("manager_on_duty"):
        return managers_on_duty(at)
    users = {u.pk: u for u in User.objects.filter(pk__in=level["users"], is_active=True)}
    if level["schedule"]:
        on_call = on_call_user(level["schedule"], at)
        if on_call:
            users[on_call.pk] = on_call
    if level["group"]:
        users.update({u.pk: u for u in group_members(level["group"])})
    return [users[pk] for pk in sorted(users)]


def round_robin_peek(level: dict, people: list[User]) -> User:
    """Who a round-robin level would page next (without taking the turn)."""
    from .models import EscalationLevel

    count = (
        EscalationLevel.objects.filter(pk=level.get("id"))
        .values_list("round_robin_count", flat=True)
        .first()
    )
    return people[(count or 0) % len(people)]


def upcoming_levels(incident: Incident, now: datetime) -> list[dict]:
    """The levels still to come while nobody acknowledges: number, when, and who they page then
    (the on-call rota as it will be at that time). Empty when paging is not running."""
    from datetime import timedelta

    from .models import Clock, EscalationRun
    from .models.oncall import calendar_spec_from_data

    run = EscalationRun.objects.filter(incident=incident).first()
    if run is None or run.status != EscalationRun.Status.ACTIVE:
        return []
    due = (
        Clock.objects.filter(
            incident=incident, kind=Clock.Kind.LEVEL_TIMEOUT, status=Clock.Status.PENDING
        )
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    if due is None:
        return []
    snapshot = run.snapshot
    calendar = calendar_spec_from_data(snapshot["calendar"]) if snapshot["calendar"] else None
    levels = snapshot["levels"]
    upcoming, at = [], max(due, now)
    for index in range(run.level_index + 1, len(levels)):
        level = levels[index]
        if level_applies(level, calendar, at):
            people = level_targets(level, at)
            if level.get("round_robin") and len(people) > 1:
                people = [round_robin_peek(level, people)]
            if people or level.get("manager_on_duty"):
                upcoming.append({"level": index + 1, "at": at, "people": people})
                at += timedelta(minutes=level["timeout_minutes"])
    return upcoming


def incident_people(incident: Incident) -> dict:
    """Who is on the incident: commander, the other roles' current holders, and everybody paged
    (first page per person, with whether they acknowledged)."""
    from .models import IncidentRole, Page

    roles_now = list(
        IncidentRole.objects.filter(incident=incident, ended_at__isnull=True).select_related("user")
    )
    pages = Page.objects.filter(incident=incident).select_related("user").order_by("created_at")
    paged: dict[int, Page] = {}
    for page in pages:
        paged.setdefault(page.user_id, page)
    return {"commander": incident.commander, "roles": roles_now, "paged": list(paged.values())}


def staff_people():
    """Active staff who can be put on an incident (managers and responders), by name."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True) | Q(groups__name__in=[roles.ESCALATION_MANAGER, roles.RESPONDER])
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def schedule_calendar(schedule_id: int, first_day, days: int) -> dict | None:
    """One schedule's effective shifts for `days` local days from `first_day` (in the schedule's
    zone), by day (a shift over midnight shows on each day it covers), with its overrides; a
    fixed number of queries."""
    from datetime import time, timedelta
    from zoneinfo import ZoneInfo

    schedule = schedules_with_rotations().filter(pk=schedule_id).first()
    if schedule is None:
        return None
    zone = ZoneInfo(schedule.time_zone)

    def midnight(offset: int) -> datetime:  # wall-clock midnight: right across DST changes
        return datetime.combine(first_day + timedelta(days=offset), time(0), tzinfo=zone)

    start, end = midnight(0), midnight(days)
    shifts = schedules.shifts_between(schedule.as_spec(), start, end)
    users = User.objects.in_bulk({s.user_id for s in shifts})
    day_list = []
    for offset in range(days):
        day_start, day_end = midnight(offset), midnight(offset + 1)
        entries = [
            {
                "user": users.get(s.user_id),
                "start": max(s.start, day_start).astimezone(zone),
                "end": min(s.end, day_end).astimezone(zone),
                "shift_start": s.start.astimezone(zone),
                "shift_end": s.end.astimezone(zone),
                "override": s.source == "override",
            }
            for s in shifts
            if s.start < day_end and s.end > day_start
        ]
        day_list.append({"day": day_start.date(), "shifts": entries})
    overrides = [o for o in schedule.overrides.all() if o.end > start and o.start < end]
    override_users = User.objects.in_bulk({o.user_id for o in overrides})
    for override in overrides:
        override.person = override_users.get(override.user_id)
    return {"schedule": schedule, "days": day_list, "overrides": overrides, "zone": zone}


def incident_alerts(incident: Incident, *, limit: int | None = None) -> list[IncidentAlert]:
    """The alerts of an incident (team and executive reads: never customers'), firing first (by
    first seen), then resolved ones (by resolution). An incident an ungrouped Events API v2
    integration opened is its one alert (its dedup key; repeats count on the incident alone):
    shown as such, not stored."""
    alerts = list(
        IncidentAlert.objects.filter(incident=incident).order_by(
            F("resolved_at").asc(nulls_first=True), "first_seen_at", "pk"
        )[:limit]
    )
    if alerts or not incident.dedup_key or incident.dedup_scope == 0:
        return alerts
    return [
        IncidentAlert(
            incident=incident,
            fingerprint=incident.dedup_key,
            labels={},
            first_seen_at=incident.detected_at,
            last_seen_at=incident.last_alert_at or incident.detected_at,
            resolved_at=incident.resolved_at,
        )
    ]


def incident_alert_counts(incident: Incident) -> dict:
    """How many alerts the incident holds, and how many of them fire."""
    return IncidentAlert.objects.filter(incident=incident).aggregate(
        total=Count("pk"), firing=Count("pk", filter=Q(resolved_at__isnull=True))
    )
