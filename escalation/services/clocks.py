"""The beat tick: claim due clock rows, act on each through a service, mark it done.

Claiming is a short transaction of its own (rows go pending -> claimed; `skip_locked` on
PostgreSQL, so two ticks never claim one row). Each claimed row is then handled in its own
transaction that locks the incident first and the clock second (the same order as acknowledging or
resolving, so they cannot deadlock), re-checks the state and the row, and acts. Claims are taken a
few at a time (CLAIM_GROUP) and renewed while the tick works through them, so a claim left behind by
a crashed worker is released after CLOCK_CLAIM_TIMEOUT_SECONDS (30 s) and costs at most that much
lateness, for at most a group of clocks.
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from incidents.coalesce import Coalesced
from incidents.models import OPEN_STATES
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


def clocks_claim(*, now: datetime, limit: int, claimed_at: datetime | None = None) -> list[int]:
    """Claim up to `limit` clocks due by `now`; their claim (lease) starts at `claimed_at`."""
    with transaction.atomic():
        due = Clock.objects.filter(status=Clock.Status.PENDING, due_at__lte=now).order_by("due_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            Clock.objects.filter(pk__in=ids, status=Clock.Status.PENDING).update(
                status=Clock.Status.CLAIMED, claimed_at=claimed_at or now
            )
    return ids


def clocks_release_stale(*, now: datetime) -> int:
    """Put back claims whose worker died before finishing them."""
    cutoff = now - timedelta(seconds=settings.CLOCK_CLAIM_TIMEOUT_SECONDS)
    return Clock.objects.filter(status=Clock.Status.CLAIMED, claimed_at__lt=cutoff).update(
        status=Clock.Status.PENDING, claimed_at=None
    )


def clock_fire(*, clock_id: int, now: datetime) -> bool:
    """Handle one claimed clock. Idempotent: a clock that is no longer claimed is left alone.
    (One transaction as a `with` block: mutmut, the mutation check, skips decorated functions.)"""
    with transaction.atomic():
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


def _update_due(incident, clock, now):
    matrix.update_due_fire(incident=incident, clock=clock, at=now)


def _update_reminder(incident, clock, now):
    matrix.update_reminder_fire(incident=incident, clock=clock, at=now)


# What firing a clock of each kind does. Kinds handled by code that itself schedules clocks (the
# workflow classifies, and classifying starts clocks) are registered by EscalationConfig.ready
# through clock_handler_register, so this module never imports them: no import cycle.
_HANDLERS = {
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


# Clocks claimed by one statement: few enough that a crash strands only a handful (each late by at
# most CLOCK_CLAIM_TIMEOUT_SECONDS), enough to keep claim round trips rare in a storm.
CLAIM_GROUP = 25
# SQLite (the embedded default) hands its write lock to whichever waiting writer retries first,
# not to the one that waited longest: a tick firing clock after clock can hold it off from the
# pages worker until the whole storm is classified. A short pause after each clock lets a waiting
# writer (a page being sent, an acknowledgement) in. PostgreSQL locks rows and needs none.
SQLITE_YIELD_SECONDS = 0.02


def clock_handler_register(kind: str, handler) -> None:
    """Let `handler(incident, clock, now)` fire the clocks of `kind` (from an AppConfig.ready)."""
    _HANDLERS[kind] = handler


def clocks_tick(*, now: datetime | None = None, limit: int = CLAIM_GROUP) -> int:
    """Fire every clock due by `now` (claimed in groups of `limit`); returns how many fired.

    The tick's claims age with the tick (`now` plus the time it has been running), and the ones
    it still holds are renewed every third of CLOCK_CLAIM_TIMEOUT_SECONDS, so a long tick keeps
    them while a crashed one loses them within the timeout.
    """
    now = now or timezone.now()
    started = time.monotonic()

    def lease_now() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    clocks_release_stale(now=now)
    fired = 0
    renewed = time.monotonic()
    while True:
        ids = clocks_claim(now=now, limit=limit, claimed_at=lease_now())
        held = set(ids)
        with selectors.settings_read_once():  # a storm's classifications share one read
            for clock_id in ids:
                try:
                    fired += clock_fire(clock_id=clock_id, now=now)
                except Exception:
                    # Leave it claimed: the stale-claim release retries it later; the others go on.
                    logger.exception("clock %s failed", clock_id)
                held.discard(clock_id)
                if connection.vendor == "sqlite":
                    time.sleep(SQLITE_YIELD_SECONDS)
                if held and time.monotonic() - renewed > settings.CLOCK_CLAIM_TIMEOUT_SECONDS / 3:
                    Clock.objects.filter(pk__in=held, status=Clock.Status.CLAIMED).update(
                        claimed_at=lease_now()
                    )
                    renewed = time.monotonic()
        if len(ids) < limit:
            return fired
