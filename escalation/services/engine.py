"""Running escalations: copy the policy onto the incident, page level after level until someone
acknowledges, walk each paged person's ladder, and stop when acknowledged or resolved.

Every function here runs inside the caller's transaction while the incident row is locked
(incidents.services.incident_lock), so a state change and the pages it causes commit together.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.exceptions import LinkExpired, LinkInvalid, LinkUsed
from incidents.models import Incident, User
from incidents.services import timeline_record
from notifications.services import notification_enqueue, notifications_cancel

from .. import calendars, selectors
from ..models import AckLink, Clock, EscalationLevel, EscalationPolicy, EscalationRun, Page
from ..models.oncall import calendar_spec_from_data

ACK_SALT = "escalation.ack-link"

# Timeline kinds of the engine (free-form strings on the timeline, like the lifecycle's).
EV_STARTED = "escalation_started"
EV_LEVEL = "level_paged"
EV_LEVEL_SKIPPED = "level_skipped"
EV_WAITING = "waiting_for_service_hours"
EV_EXHAUSTED = "escalation_exhausted"
EV_STOPPED = "escalation_stopped"
EV_PAGE_SENT = "page_sent"


def policy_snapshot(policy: EscalationPolicy | None) -> dict:
    """A JSON copy of the policy: editing the policy later does not change running escalations.

    The last level is always the escalation manager on duty.
    """
    levels = []
    if policy is not None:
        for level in policy.levels.all():
            levels.append(
                {
                    "id": level.pk,
                    "position": level.position,
                    "round_robin": level.round_robin,
                    "timeout_minutes": level.timeout_minutes,
                    "users": [u.pk for u in level.users.all()],
                    "schedule": level.schedule_id,
                    "group": level.group_id,
                    "applies": level.applies,
                }
            )
    levels.append(
        {
            "position": len(levels),
            "timeout_minutes": levels[-1]["timeout_minutes"] if levels else 15,
            "users": [],
            "schedule": None,
            "group": None,
            "applies": EscalationLevel.Applies.ALWAYS,
            "manager_on_duty": True,
        }
    )
    calendar = policy.calendar.as_data() if policy and policy.calendar else None
    return {
        "policy": policy.name if policy else "",
        "repeat": policy.repeat if policy else 0,
        "wait_for_business_hours": bool(policy and policy.wait_for_business_hours and calendar),
        "calendar": calendar,
        "levels": levels,
    }


def _clock(
    incident: Incident, kind: str, due_at: datetime, key: str, payload: dict, *, fresh=False
) -> Clock:
    """The clock with this key, created if there is none (`fresh`: the caller knows there is
    none, as the key names a run's first cycle: one INSERT)."""
    fields = {"incident": incident, "kind": kind, "due_at": due_at, "payload": payload}
    if fresh:
        return Clock.objects.create(key=key, **fields)
    return Clock.objects.get_or_create(key=key, defaults=fields)[0]


def _cancel_clocks(incident: Incident, kinds: list[str]) -> int:
    return Clock.objects.filter(
        incident=incident, kind__in=kinds, status__in=[Clock.Status.PENDING, Clock.Status.CLAIMED]
    ).update(status=Clock.Status.CANCELLED)


def escalation_start(*, incident: Incident, at: datetime | None = None) -> EscalationRun:
    """Start (or restart, after a reopen) the escalation of a locked incident."""
    at = at or timezone.now()
    policy = selectors.policy_for_incident(incident)
    snapshot = policy_snapshot(policy)
    run = EscalationRun.objects.filter(incident=incident).first()
    fresh = run is None  # its first escalation: no earlier run, pages or clocks to respect
    # A restart (after reopen) counts cycles on, so its clock keys never collide with old ones.
    snapshot["first_cycle"] = 0 if fresh else run.cycle + 1
    fields = {
        "policy": policy,
        "policy_name": snapshot["policy"],
        "snapshot": snapshot,
        "level_index": 0,
        "cycle": snapshot["first_cycle"],
        "status": EscalationRun.Status.ACTIVE,
        "started_at": at,
    }
    if fresh:  # one INSERT (the caller holds the incident's lock: nobody else starts one)
        run = EscalationRun.objects.create(incident=incident, **fields)
    else:
        _cancel_clocks(
            incident, [Clock.Kind.LEVEL_TIMEOUT, Clock.Kind.LADDER_STEP, Clock.Kind.SERVICE_HOURS]
        )
        for name, value in fields.items():
            setattr(run, name, value)
        run.save(update_fields=[*fields, "updated_at"])
    incident.paging_since = at
    Incident.objects.filter(pk=incident.pk).update(paging_since=at)
    timeline_record(
        incident=incident,
        kind=EV_STARTED,
        actor=None,
        label="system (escalation)",
        data={
            "policy": snapshot["policy"] or "(default: escalation manager on duty)",
            "levels": len(snapshot["levels"]),
            "repeat": snapshot["repeat"],
        },
    )
    _page_current_level(run, incident, at, fresh=fresh)
    return run


def policy_targets(policy: EscalationPolicy, at: datetime) -> list[User]:
    """Whom the first level of `policy` reaches now (a nested app pages a team through it, e.g.
    business continuity's crisis team)."""
    return selectors.level_targets(policy_snapshot(policy)["levels"][0], at)


def _page_current_level(
    run: EscalationRun, incident: Incident, at: datetime, *, fresh: bool = False
) -> None:
    """Page the run's current level; skip levels that do not apply or reach nobody. `fresh`: the
    run was created just now, active at its first level, and has paged nobody (its pages, messages
    and clocks are inserted without looking for earlier ones: a storm's hot path)."""
    snapshot = run.snapshot
    calendar = calendar_spec_from_data(snapshot["calendar"]) if snapshot["calendar"] else None
    if snapshot["wait_for_business_hours"] and calendar and not calendars.is_open(calendar, at):
        opens = calendars.next_open(calendar, at)
        run.status = EscalationRun.Status.WAITING
        run.save(update_fields=["status", "updated_at"])
        _clock(
            incident,
            Clock.Kind.SERVICE_HOURS,
            opens,
            f"hours:{incident.pk}:{run.cycle}:{run.level_index}",
            {"cycle": run.cycle},
        )
        timeline_record(
            incident=incident,
            kind=EV_WAITING,
            actor=None,
            label="system (escalation)",
            data={"until": opens.isoformat()},
        )
        return
    levels = snapshot["levels"]
    while True:
        level = levels[run.level_index]
        targets = (
            selectors.level_targets(level, at)
            if selectors.level_applies(level, calendar, at)
            else []
        )
        if targets or level.get("manager_on_duty"):
            break
        timeline_record(
            incident=incident,
            kind=EV_LEVEL_SKIPPED,
            actor=None,
            label="system (escalation)",
            data={
                "level": run.level_index + 1,
                "cycle": run.cycle,
                "why": "nobody to page"
                if selectors.level_applies(level, calendar, at)
                else "not in its service hours",
            },
        )
        run.level_index += 1
    if not fresh or run.level_index:
        run.status = EscalationRun.Status.ACTIVE
        run.save(update_fields=["level_index", "cycle", "status", "updated_at"])
    if level.get("round_robin") and len(targets) > 1:
        targets = [_round_robin_next(level, targets)]
    for user in targets:
        _page(run, incident, user, at, fresh=fresh)
    timeout = timedelta(minutes=level["timeout_minutes"])
    timeline_record(
        incident=incident,
        kind=EV_LEVEL,
        actor=None,
        label="system (escalation)",
        data={
            "level": run.level_index + 1,
            "of": len(levels),
            "cycle": run.cycle,
            "paged": [u.username for u in targets],
            "next_level_at": (at + timeout).isoformat(),
        },
    )
    _clock(
        incident,
        Clock.Kind.LEVEL_TIMEOUT,
        at + timeout,
        f"level:{incident.pk}:{run.cycle}:{run.level_index}",
        {"cycle": run.cycle, "level": run.level_index},
        fresh=fresh,
    )


def page_pull_in(
    *, run: EscalationRun, incident: Incident, user: User, at: datetime
) -> Page | None:
    """Page one more person at the run's current level (pulled in by hand); None if they were
    already paged at this level."""
    return _page(run, incident, user, at)


def _round_robin_next(level: dict, targets: list[User]) -> User:
    """The one person a round-robin level pages now; the level's count moves on (the row lock
    makes two incidents paging at once take two turns)."""
    row = EscalationLevel.objects.select_for_update().filter(pk=level.get("id")).first()
    if row is None:  # the level was deleted since the escalation started: its first person
        return targets[0]
    chosen = targets[row.round_robin_count % len(targets)]
    EscalationLevel.objects.filter(pk=row.pk).update(round_robin_count=F("round_robin_count") + 1)
    return chosen


def _page(
    run: EscalationRun, incident: Incident, user: User, at: datetime, *, fresh: bool = False
) -> Page | None:
    """Page `user` at the run's current level, unless they were paged there already (`fresh`:
    the run has paged nobody yet)."""
    which = {"incident": incident, "user": user, "level_index": run.level_index, "cycle": run.cycle}
    if fresh:
        page = Page.objects.create(run=run, created_at=at, **which)
    else:
        page, created = Page.objects.get_or_create(**which, defaults={"run": run, "created_at": at})
        if not created:
            return None
    for rung in selectors.ladder_for(user):
        if rung.delay_minutes == 0:
            page_send(
                page=page,
                incident=incident,
                rung_id=rung.pk,
                channel=rung.contact_method.channel,
                address=rung.contact_method.address,
                at=at,
                fresh=fresh,
            )
        else:
            _clock(
                incident,
                Clock.Kind.LADDER_STEP,
                at + timedelta(minutes=rung.delay_minutes),
                f"ladder:{incident.pk}:{page.pk}:{rung.pk}",
                {"page": page.pk, "rung": rung.pk},
                fresh=fresh,
            )
    return page


def ack_link_create(*, incident: Incident, user: User, at: datetime) -> str:
    """A signed, expiring, single-use link that acknowledges as `user` without logging in."""
    link = AckLink.objects.create(
        incident=incident,
        user=user,
        created_at=at,
        expires_at=at + timedelta(hours=settings.ACK_LINK_HOURS),
    )
    token = signing.dumps({"link": link.pk}, salt=ACK_SALT, compress=True)
    return settings.BASE_URL + reverse("ack_link", args=[token])


def page_send(
    *,
    page: Page,
    incident: Incident,
    rung_id: int | None,
    channel: str,
    address: str,
    at: datetime,
    fresh: bool = False,
) -> None:
    """Queue one page message (with its acknowledgement link) and record it on the timeline
    (`fresh`: the page was created just now, so no message of it is queued yet)."""
    user = page.user
    ack_url = ack_link_create(incident=incident, user=user, at=at)
    notification_enqueue(
        dedup_key=f"page:{incident.pk}:{page.pk}:{rung_id or 'default'}",
        channel=channel,
        address=address,
        template="page",
        recipient=user,
        language=user.language,
        subject=f"incident:{incident.pk}",
        context=selectors.message_context(
            incident, user, audience="internal", level=page.level_index + 1, ack_url=ack_url
        ),
        **selectors.signing_secrets_for(user, channel, address),
        new=fresh,
    )
    timeline_record(
        incident=incident,
        kind=EV_PAGE_SENT,
        actor=None,
        label="system (escalation)",
        data={"to": user.username, "channel": channel, "level": page.level_index + 1},
    )


def escalation_stop(*, incident: Incident, reason: str, status: str) -> None:
    """Stop paging: cancel level and ladder clocks and unsent pages (acknowledged or resolved)."""
    run = EscalationRun.objects.filter(incident=incident).first()
    cancelled = _cancel_clocks(
        incident, [Clock.Kind.LEVEL_TIMEOUT, Clock.Kind.LADDER_STEP, Clock.Kind.SERVICE_HOURS]
    )
    notifications_cancel(dedup_prefix=f"page:{incident.pk}:")
    if incident.paging_since is not None:
        incident.paging_since = None
        Incident.objects.filter(pk=incident.pk).update(paging_since=None)
    if run is None or run.status not in (EscalationRun.Status.ACTIVE, EscalationRun.Status.WAITING):
        return
    run.status = status
    run.save(update_fields=["status", "updated_at"])
    timeline_record(
        incident=incident,
        kind=EV_STOPPED,
        actor=None,
        label="system (escalation)",
        data={"reason": reason, "cancelled_clocks": cancelled},
    )


def escalation_advance(*, incident: Incident, run: EscalationRun, at: datetime) -> None:
    """A level timed out without acknowledgement: page the next level (or repeat, or give up)."""
    levels = run.snapshot["levels"]
    if run.level_index + 1 < len(levels):
        run.level_index += 1
    elif run.cycle - _first_cycle(run) < run.snapshot["repeat"]:
        run.cycle += 1
        run.level_index = 0
    else:
        run.status = EscalationRun.Status.EXHAUSTED
        run.save(update_fields=["status", "updated_at"])
        timeline_record(
            incident=incident,
            kind=EV_EXHAUSTED,
            actor=None,
            label="system (escalation)",
            data={"cycles": run.snapshot["repeat"] + 1},
        )
        return
    _page_current_level(run, incident, at)


def _first_cycle(run: EscalationRun) -> int:
    """Cycles count on across restarts (reopen); the snapshot remembers where this run began."""
    return run.snapshot.get("first_cycle", 0)


def ack_link_load(token: str) -> AckLink:
    """The link a token names, if its signature holds; LinkInvalid otherwise."""
    try:
        data = signing.loads(token, salt=ACK_SALT)
        return AckLink.objects.select_related("incident", "user").get(pk=data["link"])
    except (signing.BadSignature, AckLink.DoesNotExist, KeyError, TypeError) as exc:
        raise LinkInvalid(_("This link is not valid: it was changed or is incomplete.")) from exc


def ack_link_validate(link: AckLink, at: datetime) -> None:
    """Single use and expiry; raises LinkUsed or LinkExpired."""
    if link.used_at is not None:
        raise LinkUsed(_("This link was already used."))
    if at >= link.expires_at:
        raise LinkExpired(_("This link has expired. Please acknowledge in the console."))


def ack_link_consume(*, link: AckLink, at: datetime) -> None:
    """Mark a link used; caller holds the incident lock and checks expiry and reuse first."""
    assert transaction.get_connection().in_atomic_block
    AckLink.objects.filter(pk=link.pk).update(used_at=at)


def escalation_resume(*, incident: Incident, run: EscalationRun, at: datetime) -> None:
    """Service hours have begun: page the level the run was waiting at."""
    _page_current_level(run, incident, at)


def clocks_cancel_all(*, incident: Incident) -> int:
    """Resolved or closed: nothing more is due for this incident (nor promised to customers)."""
    if incident.next_customer_update_at is not None:
        incident.next_customer_update_at = None
        Incident.objects.filter(pk=incident.pk).update(next_customer_update_at=None)
    return _cancel_clocks(incident, list(Clock.Kind.values))
