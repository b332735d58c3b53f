"""The beat tick: claim due clock rows, act on each through a service, mark it done.

Claiming is a short transaction of its own (rows go pending -> claimed; `skip_locked` on
PostgreSQL, so two ticks never claim one row). Each claimed row is then handled in its own
transaction that locks the incident first and the clock second (the same order as acknowledging or
resolving, so they cannot deadlock), re-checks the state and the row, and acts. A claim left behind
by a crashed worker is released after CLOCK_CLAIM_TIMEOUT_SECONDS.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from incidents.coalesce import Coalesced
from incidents.exceptions import InvalidInput, TransitionNotAllowed
from incidents.models import OPEN_STATES, State
from incidents.services import incident_lock

from .. import selectors
from ..models import Clock, EscalationRun, Page
from . import engine, matrix, sla

logger = logging.getLogger(__name__)

# A clock due now need not wait for the beat tick: one tick queued right after the commit (and
# coalesced: one per process covers every such commit in the next fifth of a second).
TICK = Coalesced("escalation.tasks.clock_tick", delay=0.2)


def tick_soon() -> None:
    """After this transaction commits, fire due clocks now rather than at the next beat tick."""

    def kick() -> None:
        if not settings.CLOCK_TICK_KICK:
            return
        try:
            TICK.send()
        except Exception:  # the broker is away: the beat tick fires them when it is back
            logger.warning("clocks: broker unavailable, due clocks wait for the beat tick")

    transaction.on_commit(kick)


def classify_soon(*, incident, impact: str, urgency: str) -> Clock:
    """Classify a new incident in a worker right after this transaction commits (its clock is
    due now, and is fired by the next tick, which is queued at commit)."""
    clock = Clock.objects.create(
        incident=incident,
        kind=Clock.Kind.CLASSIFY,
        due_at=incident.detected_at,
        key=f"classify:{incident.pk}",
        payload={"impact": impact, "urgency": urgency},
    )
    tick_soon()
    return clock


def clocks_claim(*, now: datetime, limit: int) -> list[int]:
    with transaction.atomic():
        due = Clock.objects.filter(status=Clock.Status.PENDING, due_at__lte=now).order_by("due_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            Clock.objects.filter(pk__in=ids, status=Clock.Status.PENDING).update(
                status=Clock.Status.CLAIMED, claimed_at=now
            )
    return ids


def clocks_release_stale(*, now: datetime) -> int:
    """Put back claims whose worker died before finishing them."""
    cutoff = now - timedelta(seconds=settings.CLOCK_CLAIM_TIMEOUT_SECONDS)
    return Clock.objects.filter(status=Clock.Status.CLAIMED, claimed_at__lt=cutoff).update(
        status=Clock.Status.PENDING, claimed_at=None
    )


@transaction.atomic
def clock_fire(*, clock_id: int, now: datetime) -> bool:
    """Handle one claimed clock. Idempotent: a clock that is no longer claimed is left alone."""
    incident_id = Clock.objects.values_list("incident_id", flat=True).get(pk=clock_id)
    incident = incident_lock(incident_id)
    clock = Clock.objects.select_for_update().get(pk=clock_id)
    if clock.status != Clock.Status.CLAIMED:
        return False  # cancelled (acknowledged/resolved) or handled by someone else meanwhile
    if incident.state in OPEN_STATES:
        _HANDLERS[clock.kind](incident, clock, now)
    clock.status = Clock.Status.DONE
    clock.fired_at = timezone.now()  # when it really fired (lateness = fired_at - due_at)
    clock.save(update_fields=["status", "fired_at"])
    return True


def _level_timeout(incident, clock, now):
    run = EscalationRun.objects.filter(incident=incident).first()
    if (
        run
        and run.status == EscalationRun.Status.ACTIVE
        and incident.paging_since is not None
        and (run.cycle, run.level_index) == (clock.payload["cycle"], clock.payload["level"])
    ):
        engine.escalation_advance(incident=incident, run=run, at=now)


def _service_hours(incident, clock, now):
    run = EscalationRun.objects.filter(incident=incident).first()
    if run and run.status == EscalationRun.Status.WAITING and incident.paging_since is not None:
        engine.escalation_resume(incident=incident, run=run, at=now)


def _ladder_step(incident, clock, now):
    if incident.paging_since is None:
        return
    page = Page.objects.select_related("user").filter(pk=clock.payload["page"]).first()
    rung = (
        next(
            (r for r in engine.selectors.ladder_for(page.user) if r.pk == clock.payload["rung"]),
            None,
        )
        if page
        else None
    )
    if rung is not None:
        engine.page_send(
            page=page,
            incident=incident,
            rung_id=rung.pk,
            channel=rung.contact_method.channel,
            address=rung.contact_method.address,
            at=now,
        )


def _classify(incident, clock, now):
    from .workflow import incident_classify

    if incident.state != State.DETECTED:
        return  # someone classified it meanwhile: theirs stands
    try:
        incident_classify(
            incident=incident,
            actor=None,
            impact=clock.payload["impact"],
            urgency=clock.payload["urgency"],
        )
    except (InvalidInput, TransitionNotAllowed) as exc:  # e.g. a severity map edited wrongly
        logger.warning("incident %s: could not classify: %s", incident.pk, exc)


def _update_due(incident, clock, now):
    matrix.update_due_fire(incident=incident, clock=clock, at=now)


def _update_reminder(incident, clock, now):
    matrix.update_reminder_fire(incident=incident, clock=clock, at=now)


_HANDLERS = {
    Clock.Kind.CLASSIFY: _classify,
    Clock.Kind.LEVEL_TIMEOUT: _level_timeout,
    Clock.Kind.SERVICE_HOURS: _service_hours,
    Clock.Kind.LADDER_STEP: _ladder_step,
    Clock.Kind.UPDATE_DUE: _update_due,
    Clock.Kind.UPDATE_REMINDER: _update_reminder,
    Clock.Kind.SLA_WARNING: lambda incident, clock, now: sla.sla_warning_fire(
        incident=incident, clock=clock, at=now
    ),
    Clock.Kind.SLA_BREACH: lambda incident, clock, now: sla.sla_breach_fire(
        incident=incident, clock=clock, at=now
    ),
}


def clocks_tick(*, now: datetime | None = None, limit: int = 500) -> int:
    """Fire every clock due by `now` (in batches of `limit`); returns how many fired."""
    now = now or timezone.now()
    clocks_release_stale(now=now)
    fired = 0
    while True:
        ids = clocks_claim(now=now, limit=limit)
        with selectors.settings_read_once():  # a storm's classifications share one read
            for clock_id in ids:
                try:
                    fired += clock_fire(clock_id=clock_id, now=now)
                except Exception:
                    # Leave it claimed: the stale-claim release retries it later; the others go on.
                    logger.exception("clock %s failed", clock_id)
        if len(ids) < limit:
            return fired
