"""SLA clocks: one per incident x contract x target, counted in the contract's service time.

`sla_sync` brings an incident's clocks in line with its classification, customers, state and
pauses; every workflow service calls it in its own transaction, so the clock rows (warnings at
50/75/90 % and the breach, as `Clock` rows the beat tick fires) always match what happened. A
warning goes to the commander (else the managers on duty) and onto the timeline; at 90 % the
running escalation moves to its next level. A missed target is recorded on the timeline once.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import OPEN_STATES, EventKind, Incident, User
from incidents.services import incident_lock, timeline_record

from .. import selectors, sla
from ..models import Clock, Contract, EscalationRun, SlaClock, SlaPause, Target
from ..sla import pauses_for
from . import engine, matrix

SLA_KINDS = [Clock.Kind.SLA_WARNING, Clock.Kind.SLA_BREACH]
PERM_PAUSE = "incidents.change_incident"


def stop_time(incident: Incident, target: str) -> datetime | None:
    """When the target's clock stopped: acknowledged, workaround (or resolved), resolved."""
    if target == Target.RESPONSE:
        return incident.acknowledged_at or incident.resolved_at
    if target == Target.WORKAROUND:
        return incident.workaround_at or incident.resolved_at
    return incident.resolved_at


def _wanted(incident: Incident) -> dict[tuple[int, str], tuple[Contract, int]]:
    wanted = {}
    if not incident.priority:
        return wanted
    for contract in selectors.contracts_for_incident(incident):
        row = next((t for t in contract.targets.all() if t.priority == incident.priority), None)
        if row is None:
            continue
        for target in Target.values:
            minutes = row.minutes(target)
            if minutes is not None:
                wanted[(contract.pk, target)] = (contract, minutes * 60)
    return wanted


def sla_sync(*, incident: Incident, at: datetime | None = None) -> list[SlaClock]:
    """Create, update, stop and (re)schedule the incident's SLA clocks; idempotent."""
    at = at or timezone.now()
    wanted = _wanted(incident)
    existing = {(c.contract_id, c.target): c for c in incident.sla_clocks.all()}
    if not wanted and not existing:
        # No contract applies and none did: no pauses to apply and, as every sync cancels the
        # warnings of clocks it removes, no pending SLA clock rows to cancel.
        return []
    for key, clock in existing.items():
        if key not in wanted and clock.breached_at is None:
            clock.delete()  # no target any more (reclassified, customer removed): nothing owed
    pauses = list(incident.sla_pauses.all())
    keep_keys: set[str] = set()
    clocks = []
    for (contract_id, target), (contract, seconds) in wanted.items():
        clock = existing.get((contract_id, target)) or SlaClock(
            incident=incident, contract=contract, target=target, started_at=incident.detected_at
        )
        cal = contract.calendar_spec()
        held = pauses_for(pauses, contract)
        clock.priority = incident.priority
        clock.target_seconds = seconds
        clock.stopped_at = stop_time(incident, target)
        end = clock.stopped_at or at
        clock.deadline_at = (
            None if clock.stopped_at else sla.reached_at(cal, clock.started_at, seconds, held, at)
        )
        clock.save()
        late = clock.breached_at is None and sla.elapsed(cal, clock.started_at, end, held) > seconds
        if late and clock.stopped_at:  # stopped late before the tick saw it: record the miss now
            _breach(incident, clock, cal, held, at)
        if clock.stopped_at is None and clock.breached_at is None:
            keep_keys |= _schedule(incident, clock, cal, held, at)
        clocks.append(clock)
    Clock.objects.filter(
        incident=incident, kind__in=SLA_KINDS, status=Clock.Status.PENDING
    ).exclude(key__in=keep_keys).update(status=Clock.Status.CANCELLED)
    return clocks


def _schedule(incident, clock: SlaClock, cal, held, at: datetime) -> set[str]:
    """Clock rows for the warnings not yet sent and for the breach."""
    keys = set()
    plan = [(p, Clock.Kind.SLA_WARNING) for p in sla.WARN_PERCENTS if p > clock.warned_percent]
    plan.append((100, Clock.Kind.SLA_BREACH))
    for percent, kind in plan:
        due = sla.reached_at(cal, clock.started_at, clock.target_seconds * percent / 100, held, at)
        if due is None:
            continue  # paused: rescheduled when the clock runs again
        key = f"sla:{clock.pk}:{percent}:{int(due.timestamp())}"
        Clock.objects.get_or_create(
            key=key,
            defaults={
                "incident": incident,
                "kind": kind,
                "due_at": due,
                "payload": {"sla": clock.pk, "percent": percent},
            },
        )
        keys.add(key)
    return keys


def _notify(incident: Incident, clock: SlaClock, percent: int, at: datetime) -> list[str]:
    return matrix.commander_email(
        incident=incident,
        at=at,
        template="sla_warning",
        dedup=f"sla:{clock.pk}:{percent}",
        sla_percent=percent,
        sla_target=clock.target,
        sla_contract=str(clock.contract),
        sla_deadline_at=clock.deadline_at.isoformat() if clock.deadline_at else None,
    )


def _clock_data(clock: SlaClock) -> dict:
    return {
        "contract": clock.contract_id,
        "contract_name": str(clock.contract),
        "customer": clock.contract.customer.slug,
        "target": clock.target,
        "target_minutes": clock.target_seconds // 60,
        "deadline": clock.deadline_at.isoformat() if clock.deadline_at else None,
    }


def _breach(incident, clock: SlaClock, cal, held, at: datetime) -> None:
    clock.breached_at = sla.reached_at(cal, clock.started_at, clock.target_seconds, held, at) or at
    clock.save(update_fields=["breached_at"])
    told = _notify(incident, clock, 100, at)
    timeline_record(
        incident=incident,
        kind=EventKind.SLA_BREACHED,
        actor=None,
        label="system (SLA)",
        data={**_clock_data(clock), "breached_at": clock.breached_at.isoformat(), "told": told},
    )


def _load(clock: Clock) -> tuple[SlaClock, object, list] | None:
    sla_clock = (
        SlaClock.objects.select_for_update(of=("self",))
        .select_related("contract__calendar", "contract__customer")
        .filter(pk=clock.payload["sla"])
        .first()
    )
    if sla_clock is None or sla_clock.stopped_at or sla_clock.breached_at:
        return None
    held = pauses_for(
        list(SlaPause.objects.filter(incident=sla_clock.incident_id)), sla_clock.contract
    )
    return sla_clock, sla_clock.contract.calendar_spec(), held


def sla_warning_fire(*, incident: Incident, clock: Clock, at: datetime) -> None:
    """Warn once per threshold; when several are passed at once (reclassified late), only the
    highest is sent. At 90 % the running escalation moves on to its next level."""
    loaded = _load(clock)
    if loaded is None:
        return
    sla_clock, cal, held = loaded
    share = sla.elapsed(cal, sla_clock.started_at, at, held) / sla_clock.target_seconds * 100
    passed = [p for p in sla.WARN_PERCENTS if p <= share + 1e-6]
    if not passed or passed[-1] <= sla_clock.warned_percent:
        return  # a pause moved the threshold, or it was already sent
    percent = passed[-1]
    sla_clock.warned_percent = percent
    sla_clock.save(update_fields=["warned_percent"])
    told = _notify(incident, sla_clock, percent, at)
    data = {**_clock_data(sla_clock), "percent": percent, "told": told}
    if percent >= 90:
        run = EscalationRun.objects.filter(incident=incident).first()
        if run and run.status == EscalationRun.Status.ACTIVE and incident.paging_since:
            engine.escalation_advance(incident=incident, run=run, at=at)
            data["escalated_to_level"] = run.level_index + 1
    timeline_record(
        incident=incident, kind=EventKind.SLA_WARNING, actor=None, label="system (SLA)", data=data
    )


def sla_breach_fire(*, incident: Incident, clock: Clock, at: datetime) -> None:
    loaded = _load(clock)
    if loaded is None:
        return
    sla_clock, cal, held = loaded
    if sla.elapsed(cal, sla_clock.started_at, at, held) + 1e-6 < sla_clock.target_seconds:
        return  # a pause moved the deadline; sla_sync scheduled the new one
    _breach(incident, sla_clock, cal, held, at)


def _check_may_pause(incident: Incident, actor: User | None) -> None:
    if actor is not None and not actor.has_perm(PERM_PAUSE):
        raise PermissionDenied(_("You may not pause or resume SLA clocks."))
    if incident.state not in OPEN_STATES:
        raise InvalidInput(_("Only the clocks of an open incident can be paused."), field="reason")


@transaction.atomic
def sla_pause(
    *, incident: Incident, actor: User | None, reason: str, contract: Contract | None = None
) -> SlaPause:
    """Stop the SLA clocks where the contract allows it (e.g. waiting for the customer)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the clocks stand still."), field="reason")
    locked = incident_lock(incident)
    _check_may_pause(locked, actor)
    if locked.sla_pauses.filter(ended_at__isnull=True).exists():
        raise InvalidInput(_("The SLA clocks are already paused."), field="reason")
    if contract is not None and not contract.allows_pauses:
        raise InvalidInput(_("This contract does not allow pausing its clocks."), field="contract")
    now = timezone.now()
    pause = SlaPause.objects.create(
        incident=locked, contract=contract, reason=reason, started_at=now, started_by=actor
    )
    timeline_record(
        incident=locked,
        kind=EventKind.SLA_PAUSED,
        actor=actor,
        data={"reason": reason, "contract": contract.pk if contract else None},
    )
    sla_sync(incident=locked, at=now)
    return pause


@transaction.atomic
def sla_resume(*, incident: Incident, actor: User | None) -> SlaPause:
    locked = incident_lock(incident)
    _check_may_pause(locked, actor)
    pause = locked.sla_pauses.select_for_update().filter(ended_at__isnull=True).first()
    if pause is None:
        raise InvalidInput(_("The SLA clocks are not paused."), field="reason")
    now = timezone.now()
    pause.ended_at, pause.ended_by = now, actor
    pause.save(update_fields=["ended_at", "ended_by"])
    timeline_record(
        incident=locked,
        kind=EventKind.SLA_RESUMED,
        actor=actor,
        data={"paused_seconds": int((now - pause.started_at).total_seconds())},
    )
    sla_sync(incident=locked, at=now)
    return pause


def sla_reopened(*, incident: Incident, resolved_at: datetime | None, at: datetime) -> None:
    """Reopened: the time it stood resolved does not count against the restore target."""
    if resolved_at is not None and resolved_at < at:
        SlaPause.objects.create(
            incident=incident,
            reason="resolved until reopened",
            automatic=True,
            started_at=resolved_at,
            ended_at=at,
        )
    sla_sync(incident=incident, at=at)
