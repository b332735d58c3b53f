"""Writes of business continuity, each one transaction: the catalogue (processes, runbooks and
their versions), and on an incident the workaround from a runbook, the concession, the disruption
level and the RTO/MTPD clocks. Every change on an incident goes on its timeline in the same
transaction; messages go through the outbox."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation import selectors as core_selectors
from escalation.models import Clock
from escalation.services import engine, matrix
from escalation.services.workflow import incident_provide_workaround
from incidents.exceptions import InvalidInput
from incidents.models import Customer, Incident, User
from incidents.services import incident_lock, timeline_record

from . import selectors
from .models import (
    BusinessProcess,
    Concession,
    ContinuitySettings,
    IncidentLevel,
    Level,
    Runbook,
    RunbookVersion,
    Workaround,
)

CLOCK_KIND = "continuity"  # one Clock kind for all RTO/MTPD warnings; the payload says which
LABEL = "system (continuity)"
EV_WORKAROUND = "continuity_workaround"
EV_CONCESSION = "continuity_concession"
EV_LEVEL = "continuity_level"
EV_WARNING = "continuity_warning"

PROCESS_FIELDS = (
    "name",
    "slug",
    "description",
    "owner",
    "rto_minutes",
    "mtpd_minutes",
    "objectives",
    "is_active",
)
VERSION_FIELDS = (
    "preconditions",
    "steps",
    "performer",
    "customer_text_de",
    "customer_text_en",
    "limitations",
    "expected_status",
    "needs_concession",
)


# --- the catalogue ----------------------------------------------------------------------------


def _check_process(process: BusinessProcess, services) -> None:
    if process.mtpd_minutes < process.rto_minutes:
        raise InvalidInput(_("The MTPD cannot be shorter than the RTO."), field="mtpd_minutes")
    if not services:
        raise InvalidInput(_("Name at least one service the process depends on."), field="services")
    for priority, values in (process.objectives or {}).items():
        if priority not in {"1", "2", "3", "4"} or not isinstance(values, dict):
            raise InvalidInput(_("Objectives per priority: P1 to P4."), field="objectives")
        try:
            rto, mtpd = int(values["rto"]), int(values["mtpd"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                _("Objectives per priority need RTO and MTPD in minutes."), field="objectives"
            ) from None
        if rto < 1 or mtpd < rto:
            raise InvalidInput(_("The MTPD cannot be shorter than the RTO."), field="objectives")


@transaction.atomic
def process_create(*, actor: User | None, services, customers=(), **fields) -> BusinessProcess:
    process = BusinessProcess(**{k: fields[k] for k in PROCESS_FIELDS if k in fields})
    _check_process(process, services)
    process.save()
    process.services.set(services)
    process.customers.set(customers)
    return process


@transaction.atomic
def process_update(
    *, process: BusinessProcess, actor: User | None, services=None, customers=None, **fields
) -> BusinessProcess:
    process = BusinessProcess.objects.select_for_update().get(pk=process.pk)
    for name in PROCESS_FIELDS:
        if name in fields:
            setattr(process, name, fields[name])
    services = list(process.services.all()) if services is None else list(services)
    _check_process(process, services)
    process.save()
    process.services.set(services)
    if customers is not None:
        process.customers.set(customers)
    return process


def _check_version(fields: dict) -> None:
    steps = fields.get("steps") or []
    if not steps or not all((s.get("text") or "").strip() for s in steps):
        raise InvalidInput(_("Give at least one step, each with a text."), field="steps")
    for name in ("performer", "customer_text_de", "customer_text_en"):
        if not (fields.get(name) or "").strip():
            raise InvalidInput(_("This field is required."), field=name)


def _version_add(runbook: Runbook, actor: User | None, fields: dict) -> RunbookVersion:
    _check_version(fields)
    runbook.version += 1
    runbook.save(update_fields=["version"])
    return RunbookVersion.objects.create(
        runbook=runbook,
        number=runbook.version,
        created_by=actor,
        **{k: fields[k] for k in VERSION_FIELDS if k in fields},
    )


@transaction.atomic
def runbook_create(
    *, actor: User | None, title: str, process=None, service=None, **content
) -> Runbook:
    """A runbook and its version 1."""
    if process is None and service is None:
        raise InvalidInput(
            _("Name the process or the service the runbook is for."), field="process"
        )
    if not (title or "").strip():
        raise InvalidInput(_("This field is required."), field="title")
    runbook = Runbook.objects.create(title=title.strip(), process=process, service=service)
    _version_add(runbook, actor, content)
    return runbook


@transaction.atomic
def runbook_revise(*, runbook: Runbook, actor: User | None, **changes) -> RunbookVersion:
    """An edit: a new version from the current one with `changes` (title, process, service and
    is_active change the runbook itself). Incidents keep the version they used."""
    runbook = Runbook.objects.select_for_update().get(pk=runbook.pk)
    for name in ("title", "process", "service", "is_active"):
        if name in changes:
            setattr(runbook, name, changes[name])
    if runbook.process_id is None and runbook.service_id is None:
        raise InvalidInput(
            _("Name the process or the service the runbook is for."), field="process"
        )
    runbook.save(update_fields=["title", "process", "service", "is_active"])
    current = selectors.runbook_current(runbook)
    content = {k: getattr(current, k) for k in VERSION_FIELDS} if current else {}
    content.update({k: changes[k] for k in VERSION_FIELDS if k in changes})
    if current and content == {k: getattr(current, k) for k in VERSION_FIELDS}:
        return current  # nothing in the content changed: no new version
    return _version_add(runbook, actor, content)


# --- on an incident ---------------------------------------------------------------------------


@transaction.atomic
def workaround_apply(
    *,
    incident: Incident,
    actor: User | None,
    runbook: Runbook | None = None,
    text: str = "",
    customer_text_de: str = "",
    customer_text_en: str = "",
) -> Workaround:
    """Provide the workaround of a runbook's current version (or ad hoc, with `text`) through
    the core's workflow (its customer text goes through the public face), and record which
    version, who decided and when."""
    version = None
    if runbook is not None:
        runbook = Runbook.objects.get(pk=runbook.pk)  # its current version, not a stale copy's
        version = selectors.runbook_current(runbook)
        if version is None or not runbook.is_active:
            raise InvalidInput(_("This runbook has no active version."), field="runbook")
        text = _runbook_text(version)
        customer_text_de = customer_text_de or version.customer_text_de
        customer_text_en = customer_text_en or version.customer_text_en
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Choose a runbook or describe the workaround."), field="text")
    locked = incident_provide_workaround(
        incident=incident,
        actor=actor,
        workaround=text,
        customer_text=customer_text_de,
        customer_text_en=customer_text_en,
    )
    now = timezone.now()
    record = Workaround.objects.create(
        incident=locked,
        runbook_version=version,
        text=text,
        customer_text_de=customer_text_de.strip(),
        customer_text_en=customer_text_en.strip(),
        needs_concession=version.needs_concession if version else False,
        decided_by=actor,
        decided_at=now,
    )
    timeline_record(
        incident=locked,
        kind=EV_WORKAROUND,
        actor=actor,
        data={
            "workaround": record.pk,
            "runbook": version.runbook_id if version else None,
            "runbook_title": version.runbook.title if version else "",
            "version": version.number if version else None,
            "ad_hoc": version is None,
        },
    )  # the level follows through on_transition (the workaround step tells it)
    return record


def _runbook_text(version: RunbookVersion) -> str:
    steps = "\n".join(
        f"{n}. {s['text']} ({s.get('performer') or version.performer})"
        for n, s in enumerate(version.steps, start=1)
    )
    return f"{version.runbook.title} (v{version.number})\n{steps}"


@transaction.atomic
def concession_record(
    *,
    workaround: Workaround,
    actor: User | None,
    customer: Customer,
    accepted_by: str,
    accepted_at: datetime | None = None,
    conditions: str = "",
) -> Concession:
    """The customer accepted the workaround's changed output (ISO 9001 8.7): who, when, on which
    conditions."""
    incident = incident_lock(workaround.incident_id)
    accepted_by = (accepted_by or "").strip()
    if not accepted_by:
        raise InvalidInput(_("Say who accepted for the customer."), field="accepted_by")
    if not incident.customers.filter(pk=customer.pk).exists():
        raise InvalidInput(_("This customer is not affected by the incident."), field="customer")
    if Concession.objects.filter(workaround=workaround, customer=customer).exists():
        raise InvalidInput(_("This customer's acceptance is recorded already."), field="customer")
    concession = Concession.objects.create(
        workaround=workaround,
        customer=customer,
        accepted_by=accepted_by,
        accepted_at=accepted_at or timezone.now(),
        conditions=(conditions or "").strip(),
        recorded_by=actor,
    )
    timeline_record(
        incident=incident,
        kind=EV_CONCESSION,
        actor=actor,
        data={
            "workaround": workaround.pk,
            "customer": customer.slug,
            "accepted_by": concession.accepted_by,
            "accepted_at": concession.accepted_at.isoformat(),
            "conditions": concession.conditions,
        },
    )
    return concession


def _level_change(
    incident: Incident, row: IncidentLevel, level: str, actor, reason: str, now
) -> None:
    before = row.level
    row.level, row.reason, row.set_by, row.changed_at = level, reason, actor, now
    row.save()
    told = _crisis_page(incident, before, level, now)
    timeline_record(
        incident=incident,
        kind=EV_LEVEL,
        actor=actor,
        label=None if actor else LABEL,
        data={
            "from": before,
            "to": level,
            "manual": row.manual,
            "reason": reason,
            "crisis_team": told,
        },
    )


def _crisis_page(incident: Incident, before: str, level: str, now) -> list[str]:
    """Rising to (or past) the settings' level pages the crisis team: the first level of its
    escalation policy, by email through the outbox."""
    config = ContinuitySettings.objects.select_related("crisis_policy").first()
    if config is None or config.crisis_policy is None:
        return []
    threshold = selectors.level_rank(config.page_from)
    if not (selectors.level_rank(before) < threshold <= selectors.level_rank(level)):
        return []
    return matrix.email_each(
        engine.policy_targets(config.crisis_policy, now),
        dedup=f"continuity:crisis:{incident.pk}:{level}",
        template="continuity_crisis",
        subject=f"incident:{incident.pk}",
        context=lambda person: core_selectors.message_context(
            incident, person, audience="internal", continuity_level=level
        ),
    )


@transaction.atomic
def level_set(*, incident: Incident, actor: User | None, level: str, reason: str) -> IncidentLevel:
    """The escalation manager sets the level (it then no longer follows the objectives)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the level changes."), field="reason")
    if level not in Level.values:
        raise InvalidInput(_("Unknown level."), field="level")
    locked = incident_lock(incident)
    row, _created = IncidentLevel.objects.select_for_update().get_or_create(incident=locked)
    row.manual = True
    if row.level == level:
        row.reason, row.set_by = reason, actor
        row.save(update_fields=["manual", "reason", "set_by"])
        return row
    _level_change(locked, row, level, actor, reason, timezone.now())
    return row


@transaction.atomic
def level_release(*, incident: Incident, actor: User | None) -> IncidentLevel:
    """Let the level follow the recovery objectives again."""
    locked = incident_lock(incident)
    row, _created = IncidentLevel.objects.select_for_update().get_or_create(incident=locked)
    row.manual = False
    row.save(update_fields=["manual"])
    level_sync(incident=locked, now=timezone.now(), actor=actor)
    return row


def level_sync(
    *, incident: Incident, now: datetime, actor: User | None = None, processes=None
) -> None:
    """Derive the level from the objectives (unless set by hand); a change goes on the timeline.
    Caller holds the incident's lock; `processes`: the affected ones, if the caller has them."""
    row = IncidentLevel.objects.select_for_update().filter(incident=incident).first()
    if row is not None and row.manual:
        return
    if processes is None:
        processes = selectors.affected_processes(incident)
    found = selectors.deadlines(incident, processes)
    if row is None and not found:
        return  # no process affected: nothing to record
    level = selectors.level_derived(incident, found, now)
    if row is None:
        row = IncidentLevel.objects.create(incident=incident, changed_at=now)
    if row.level != level:
        reason = {
            Level.DISRUPTION: "within recovery objectives",
            Level.EMERGENCY: "RTO passed without a workaround",
            Level.CRISIS: "MTPD passed without a workaround",
        }[level]
        _level_change(incident, row, level, actor, reason, now)


# --- clocks -----------------------------------------------------------------------------------


def clocks_sync(*, incident: Incident, processes=None) -> int:
    """Plan the RTO/MTPD warnings (50 %, 80 %, breach) of every affected process; cancel those
    of processes no longer affected or of changed objectives. Caller holds the incident's lock.
    Returns the number of pending continuity clocks."""
    if processes is None:
        processes = selectors.affected_processes(incident)
    wanted = {}
    if not selectors.recovered(incident):
        for deadline in selectors.deadlines(incident, processes):
            for objective, minutes in (
                ("rto", deadline.rto_minutes),
                ("mtpd", deadline.mtpd_minutes),
            ):
                for percent in selectors.WARN_PERCENTS:
                    due = incident.detected_at + timedelta(minutes=minutes * percent / 100)
                    key = (
                        f"continuity:{incident.pk}:{deadline.process.pk}:{objective}:{percent}:"
                        f"{minutes}"
                    )
                    wanted[key] = (due, deadline.process, objective, percent, minutes)
    pending = Clock.objects.filter(incident=incident, kind=CLOCK_KIND, status=Clock.Status.PENDING)
    pending.exclude(key__in=wanted).update(status=Clock.Status.CANCELLED)
    existing = set(Clock.objects.filter(key__in=wanted).values_list("key", flat=True))
    Clock.objects.bulk_create(
        [
            Clock(
                incident=incident,
                kind=CLOCK_KIND,
                due_at=due,
                key=key,
                payload={
                    "process": process.pk,
                    "objective": objective,
                    "percent": percent,
                    "minutes": minutes,
                },
            )
            for key, (due, process, objective, percent, minutes) in wanted.items()
            if key not in existing
        ]
    )
    return pending.count()


def clock_fire(incident: Incident, clock: Clock, now: datetime) -> None:
    """A continuity clock is due (escalation.services.clocks calls this with the incident
    locked): warn the commander (else the managers on duty) and re-derive the level. Nothing
    once a workaround is in place: the process runs again."""
    if selectors.recovered(incident):
        return
    process = (
        BusinessProcess.objects.filter(pk=clock.payload["process"], is_active=True)
        .filter(services__incidents=incident)
        .first()
    )
    if process is None:
        return  # no longer affected (the incident's services changed, or it was retired)
    objective, percent = clock.payload["objective"], clock.payload["percent"]
    deadline_at = incident.detected_at + timedelta(minutes=clock.payload["minutes"])
    told = matrix.commander_email(
        incident=incident,
        at=now,
        template="continuity_warning",
        dedup=f"continuity:{clock.pk}",
        continuity_process=process.name,
        continuity_objective=objective,
        continuity_percent=percent,
        continuity_deadline_at=deadline_at.isoformat(),
    )
    timeline_record(
        incident=incident,
        kind=EV_WARNING,
        actor=None,
        label=LABEL,
        data={
            "process": process.name,
            "objective": objective,
            "percent": percent,
            "deadline": deadline_at.isoformat(),
            "told": told,
        },
    )
    level_sync(incident=incident, now=now)


def on_transition(incident: Incident, action: str, actor, from_state: str) -> None:
    """escalation.hooks.transition_listeners: after every lifecycle step (classified, escalated,
    workaround, resolved, reopened ...) re-plan the clocks and re-derive the level. One query
    for an incident that touches no business process (a stale clock of a process no longer
    affected finds that out when it fires)."""
    processes = selectors.affected_processes(incident)
    if not processes:
        return
    clocks_sync(incident=incident, processes=processes)
    level_sync(incident=incident, now=timezone.now(), processes=processes)
