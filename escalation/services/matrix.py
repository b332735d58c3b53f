"""The communication matrix applied to one incident: who is informed, how, and when updates are due.

Runs inside the caller's transaction with the incident locked; every decision is a timeline entry.
For each matrix row with a cadence there are two clocks per period: a reminder to the commander five
minutes before the update is due, and the deadline itself, at which an automatic status digest goes
to the audience if nobody wrote an update. Every message promises the time of the next update.
"""

import json
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from incidents.models import Audience as UpdateAudience
from incidents.models import Incident, PublicIncidentUpdate, Update, User
from incidents.services import incident_lock, timeline_record, update_post
from notifications.services import (
    notification_enqueue,
)

from .. import roles, selectors
from ..models import Audience, Clock, CommunicationRule

EV_MATRIX = "matrix_decision"
EV_UPDATE_DUE = "update_due"
EV_UPDATE_REMINDER = "update_reminder"
EV_UPDATE_SENT = "update_sent"
REMINDER_BEFORE = timedelta(minutes=5)

# Which kind of written update satisfies each matrix audience.
UPDATE_AUDIENCE = {
    Audience.RESPONDERS: UpdateAudience.INTERNAL,
    Audience.MANAGER: UpdateAudience.INTERNAL,
    Audience.EXECUTIVES: UpdateAudience.EXECUTIVE,
    Audience.CUSTOMERS: UpdateAudience.CUSTOMER,
}


def recipients_for(rule: CommunicationRule, incident: Incident, at: datetime) -> list[User]:
    """The people a matrix row reaches for this incident."""
    people: dict[int, User] = {u.pk: u for u in rule.users.all() if u.is_active}
    if rule.audience == Audience.MANAGER:
        people.update({u.pk: u for u in selectors.managers_on_duty(at)})
    elif rule.audience == Audience.CUSTOMERS:
        customers = incident.customers.all()
        if rule.customer_id:
            customers = customers.filter(pk=rule.customer_id)
        contacts = User.objects.filter(customer__in=customers, is_active=True)
        people.update({u.pk: u for u in contacts})
    else:
        group_id = rule.group_id
        if group_id is None and rule.audience == Audience.EXECUTIVES:
            group = selectors.group_by_name(roles.EXECUTIVE)
            group_id = group.pk if group else None
        if group_id:
            people.update({u.pk: u for u in selectors.group_members(group_id)})
    return [people[pk] for pk in sorted(people)]


def rule_message_context(
    *,
    incident: Incident,
    rule: CommunicationRule,
    person: User | None,
    next_update_at: datetime | None,
    language: str = "",
    **extra,
) -> dict:
    """What a matrix row's message to one person shows: the one context the outbox stores and
    the console's preview renders (see update_preview)."""
    return selectors.message_context(
        incident,
        person,
        audience=UPDATE_AUDIENCE[rule.audience],
        language=language,
        reason=incident.escalation_reason,
        next_update_at=next_update_at.isoformat() if next_update_at else None,
        **extra,
    )


def _send(
    *,
    incident: Incident,
    rule: CommunicationRule,
    at: datetime,
    key: str,
    template: str,
    next_update_at: datetime | None,
    only: set[int] | None = None,
    **extra,
) -> list[dict]:
    """One message per recipient and channel of the row; returns who was informed how.
    Customers and subscribers hear only through the incident's public face (_send_to_customers)."""
    if rule.audience == Audience.CUSTOMERS:
        return _send_to_customers(
            incident=incident, at=at, key=key, template=template, next_update_at=next_update_at
        )
    sent = []
    for person in recipients_for(rule, incident, at):
        if only is not None and person.pk not in only:
            continue
        for channel in rule.channels:
            address = selectors.address_for(person, channel)
            if not address:
                continue
            context = rule_message_context(
                incident=incident,
                rule=rule,
                person=person,
                next_update_at=next_update_at,
                **extra,
            )
            notification_enqueue(
                dedup_key=f"comm:{incident.pk}:{key}:{rule.pk}:{person.pk}:{channel}",
                channel=channel,
                address=address,
                template=template,
                recipient=person,
                language=person.language,
                context=context,
                subject=f"incident:{incident.pk}",
                **selectors.signing_secrets_for(person, channel, address),
            )
            sent.append({"to": person.username, "channel": channel})
    return sent


def _send_to_customers(
    *, incident: Incident, at: datetime, key: str, template: str, next_update_at: datetime | None
) -> list[dict]:
    """Customer contacts and subscribers hear of an incident only through its public face
    (services.public): nothing while it has none. A digest due at the same minute for several
    incidents of one public face is sent once."""
    from .public import digest_sent, inform_customers, public_face_of

    face = public_face_of(incident)
    if face is None:
        return []
    if template.startswith("digest"):
        key = f"digest{at:%Y%m%d%H%M}"
        if digest_sent(face, key):
            return []
        return inform_customers(
            face, key=key, template="digest_customer", next_update_at=next_update_at
        )
    # Escalating an incident of a published disruption: only who has not heard of it yet.
    return inform_customers(
        face,
        key=f"i{incident.pk}:{key}",
        template="customer_update",
        next_update_at=next_update_at,
        only_new=True,
    )


def communication_apply(*, incident: Incident, at: datetime, occasion: str) -> list[dict]:
    """Inform every audience the matrix names for this incident, and set when updates are due."""
    decisions = []
    for rule in selectors.communication_rules_for(incident):
        due = at + timedelta(minutes=rule.cadence_minutes) if rule.cadence_minutes else None
        decision = {
            "rule": rule.pk,
            "audience": rule.audience,
            "cadence_minutes": rule.cadence_minutes,
            "occasion": occasion,
        }
        if rule.audience == Audience.CUSTOMERS and _auto_publish(incident, rule):
            # Publishing informed the customers and started their update clocks.
            decision.update(informed=[], auto_published=True)
            timeline_record(
                incident=incident, kind=EV_MATRIX, actor=None, label="system (matrix)",
                data=decision,
            )  # fmt: skip
            decisions.append(decision)
            continue
        sent = _send(
            incident=incident,
            rule=rule,
            at=at,
            key=occasion,
            template=rule.template,
            next_update_at=due,
            event="escalated",
        )
        decision["informed"] = sent
        if rule.audience == Audience.CUSTOMERS and not sent:
            decision["withheld"] = "no public face"
        if due:
            _schedule(incident=incident, rule=rule, due_at=due, seq=0, occasion=occasion)
            decision["next_update_due"] = due.isoformat()
        timeline_record(
            incident=incident, kind=EV_MATRIX, actor=None, label="system (matrix)", data=decision
        )
        decisions.append(decision)
    return decisions


def _auto_publish(incident: Incident, rule: CommunicationRule) -> bool:
    """An auto-publish row of the matrix publishes an incident without a public face with the
    standard texts of its services; returns whether it did."""
    from .public import public_face_of, public_incident_publish

    if not rule.auto_publish or public_face_of(incident) is not None:
        return False
    public_incident_publish(actor=None, incidents=[incident], rule=str(rule))
    incident.refresh_from_db(
        fields=["timeline_length", "timeline_head", "next_customer_update_at"]
    )  # it appended
    return True


def _schedule(
    *, incident: Incident, rule: CommunicationRule, due_at: datetime, seq: int, occasion: str
) -> None:
    """The reminder (five minutes before) and the deadline of one update period."""
    payload = {"rule": rule.pk, "audience": rule.audience, "seq": seq, "occasion": occasion}
    Clock.objects.get_or_create(
        key=f"update:{incident.pk}:{occasion}:{rule.pk}:{seq}",
        defaults={
            "incident": incident,
            "kind": Clock.Kind.UPDATE_DUE,
            "due_at": due_at,
            "payload": payload,
        },
    )
    if rule.audience == Audience.CUSTOMERS:
        customer_promise_refresh(incident=incident)
    if rule.cadence_minutes * 60 > REMINDER_BEFORE.total_seconds():
        Clock.objects.get_or_create(
            key=f"remind:{incident.pk}:{occasion}:{rule.pk}:{seq}",
            defaults={
                "incident": incident,
                "kind": Clock.Kind.UPDATE_REMINDER,
                "due_at": due_at - REMINDER_BEFORE,
                "payload": {**payload, "due": due_at.isoformat()},
            },
        )


def customer_promise_refresh(*, incident: Incident) -> None:
    """Keep `next_customer_update_at` (status page, portal, notice kit) at the earliest customer
    update still due; none when nothing is scheduled."""
    due = (
        Clock.objects.filter(
            incident=incident,
            kind=Clock.Kind.UPDATE_DUE,
            status=Clock.Status.PENDING,
            payload__audience=Audience.CUSTOMERS,
        )
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    if incident.next_customer_update_at != due:
        incident.next_customer_update_at = due
        Incident.objects.filter(pk=incident.pk).update(next_customer_update_at=due)


def _fresh_update(incident: Incident, audience: str, since: datetime):
    """A written update for the audience since `since` (for customers: a public update)."""
    if audience == UpdateAudience.CUSTOMER:
        return PublicIncidentUpdate.objects.filter(
            public_incident__incidents=incident, created_at__gt=since
        ).first()
    return (
        incident.updates.filter(audience=audience, created_at__gt=since)
        .order_by("-created_at")
        .first()
    )


def _rule(clock: Clock) -> CommunicationRule | None:
    rule = CommunicationRule.objects.filter(pk=clock.payload["rule"]).first()
    return rule if rule and rule.is_active and rule.cadence_minutes else None


def commander_email(
    *, incident: Incident, at: datetime, template: str, dedup: str, **extra
) -> list[str]:
    """Email the incident's commander (else the escalation managers on duty) with the team's
    view of the incident plus `extra`; returns who was told. One message per person and dedup."""
    people = [incident.commander] if incident.commander_id else selectors.managers_on_duty(at)
    return email_each(
        people,
        dedup=dedup,
        template=template,
        subject=f"incident:{incident.pk}",
        context=lambda person: selectors.message_context(
            incident, person, audience="internal", **extra
        ),
    )


def email_each(people, *, dedup: str, template: str, subject: str, context) -> list[str]:
    """One email to each person who has an address (dedup key `<dedup>:<person>`), in their
    language, with `context(person)`; in the caller's transaction. Returns who was told."""
    told = []
    for person in people:
        address = selectors.address_for(person, "email")
        if not address:
            continue
        notification_enqueue(
            dedup_key=f"{dedup}:{person.pk}",
            channel="email",
            address=address,
            template=template,
            recipient=person,
            language=person.language,
            context=context(person),
            subject=subject,
        )
        told.append(person.username)
    return told


def update_reminder_fire(*, incident: Incident, clock: Clock, at: datetime) -> None:
    """Five minutes before an update is due and none was written: remind the commander."""
    rule = _rule(clock)
    if rule is None:
        return
    audience = UPDATE_AUDIENCE[rule.audience]
    due = datetime.fromisoformat(clock.payload["due"])
    if _fresh_update(incident, audience, due - timedelta(minutes=rule.cadence_minutes)):
        return
    reminded = commander_email(
        incident=incident,
        at=at,
        template="update_due",
        dedup=f"due:{incident.pk}:{clock.key}",
        update_audience=audience,
        due_at=due.isoformat(),
    )
    timeline_record(
        incident=incident,
        kind=EV_UPDATE_REMINDER,
        actor=None,
        label="system (matrix)",
        data={"audience": audience, "due": due.isoformat(), "reminded": reminded},
    )


def update_due_fire(*, incident: Incident, clock: Clock, at: datetime) -> None:
    """The update is due: if nobody wrote one, an automatic status digest goes to the audience.

    Either way the next period is scheduled, and the digest promises its end.
    """
    rule = _rule(clock)
    if rule is None:
        return
    audience = UPDATE_AUDIENCE[rule.audience]
    fresh = _fresh_update(
        incident, audience, clock.due_at - timedelta(minutes=rule.cadence_minutes)
    )
    next_due = at + timedelta(minutes=rule.cadence_minutes)
    sent = []
    if not fresh:
        sent = _send(
            incident=incident,
            rule=rule,
            at=at,
            key=clock.key,
            template=f"digest_{audience}",
            next_update_at=next_due,
        )
    timeline_record(
        incident=incident,
        kind=EV_UPDATE_DUE,
        actor=None,
        label="system (matrix)",
        data={
            "audience": audience,
            "fresh_update": bool(fresh),
            "digest_to": sent,
            "next_update_due": next_due.isoformat(),
        },
    )
    _schedule(
        incident=incident,
        rule=rule,
        due_at=next_due,
        seq=clock.payload["seq"] + 1,
        occasion=clock.payload["occasion"],
    )


@transaction.atomic
def update_publish(*, incident: Incident, actor: User | None, audience: str, body: str) -> Update:
    """Write an update and send it to that audience as the matrix says; it resets the deadline,
    and the message promises when the next update comes. A customer update goes out through the
    incident's public face (NoPublicFace while it has none)."""
    locked = incident_lock(incident)
    if audience == UpdateAudience.CUSTOMER:
        from .public import public_face_required, public_incident_update_post

        face = public_face_required(locked)
        update = update_post(incident=locked, actor=actor, audience=audience, body=body)
        public_incident_update_post(public_incident=face, actor=actor, body=update.body)
        return update
    update = update_post(incident=locked, actor=actor, audience=audience, body=body)
    locked.refresh_from_db(fields=["timeline_length", "timeline_head"])  # update_post appended
    from .webhooks import incident_event_emit

    incident_event_emit(
        incident=locked,
        event="updated",
        data={"update": {"audience": audience, "body": update.body}},
    )
    now = timezone.now()
    for rule in selectors.communication_rules_for(locked):
        if UPDATE_AUDIENCE[rule.audience] != audience:
            continue
        pending = Clock.objects.filter(
            incident=locked,
            status=Clock.Status.PENDING,
            payload__rule=rule.pk,
            kind__in=[Clock.Kind.UPDATE_DUE, Clock.Kind.UPDATE_REMINDER],
        )
        seq = max([c.payload["seq"] for c in pending] or [0]) + 1
        occasion = pending.first().payload["occasion"] if pending.exists() else f"u{update.pk}"
        pending.update(status=Clock.Status.CANCELLED)
        next_due = now + timedelta(minutes=rule.cadence_minutes) if rule.cadence_minutes else None
        sent = _send(
            incident=locked,
            rule=rule,
            at=now,
            key=f"update{update.pk}",
            template=f"{audience}_update",
            next_update_at=next_due,
            event="update",
        )
        if next_due:
            _schedule(incident=locked, rule=rule, due_at=next_due, seq=seq, occasion=occasion)
        timeline_record(
            incident=locked,
            kind=EV_UPDATE_SENT,
            actor=actor,
            data={
                "update": update.pk,
                "audience": audience,
                "informed": sent,
                "next_update_due": next_due.isoformat() if next_due else None,
            },
        )
    return update


EV_LIFECYCLE_SENT = "lifecycle_sent"
# Which audiences hear each lifecycle step in their own words, with which template. (Customers
# and subscribers hear it through the incident's public face.)
LIFECYCLE_AUDIENCES = {Audience.EXECUTIVES: "executive_update"}


def _informed(incident: Incident, rule: CommunicationRule) -> set[int]:
    """Who this matrix row has told anything about the incident (the outbox is the record)."""
    from notifications.models import Notification

    return set(
        Notification.objects.filter(
            dedup_key__regex=rf"^comm:{incident.pk}:.*:{rule.pk}:[0-9]+:[a-z]+$"
        )
        .exclude(recipient=None)
        .values_list("recipient_id", flat=True)
    )


def lifecycle_inform(*, incident: Incident, event: str, at: datetime, **extra) -> list[dict]:
    """A lifecycle step (`workaround`, `resolved`) told to the audiences of LIFECYCLE_AUDIENCES,
    in each person's language, through the matrix rows that apply: a workaround to everyone the
    row reaches (the next update is promised and its deadline reset), the all-clear only to those
    the row has informed before, promising nothing (resolve has cancelled every open deadline).
    Runs in the caller's transaction on a locked incident; each row's sending is on the timeline."""
    decisions = []
    for rule in selectors.communication_rules_for(incident):
        template = LIFECYCLE_AUDIENCES.get(rule.audience)
        if template is None:
            continue
        audience = UPDATE_AUDIENCE[rule.audience]
        next_due = None
        if event == "resolved":
            informed = _informed(incident, rule)
            if not informed:
                continue
        else:
            informed = None
            pending = Clock.objects.filter(
                incident=incident,
                status=Clock.Status.PENDING,
                payload__rule=rule.pk,
                kind__in=[Clock.Kind.UPDATE_DUE, Clock.Kind.UPDATE_REMINDER],
            )
            seq = max([c.payload["seq"] for c in pending] or [0]) + 1
            occasion = pending.first().payload["occasion"] if pending.exists() else event
            pending.update(status=Clock.Status.CANCELLED)
            if rule.cadence_minutes:
                next_due = at + timedelta(minutes=rule.cadence_minutes)
        sent = _send(
            incident=incident,
            rule=rule,
            at=at,
            key=f"{event}-{int(at.timestamp())}",
            template=template,
            next_update_at=next_due,
            event=event,
            only=informed,
            **extra,
        )
        if next_due:
            _schedule(incident=incident, rule=rule, due_at=next_due, seq=seq, occasion=occasion)
        decision = {
            "event": event,
            "rule": rule.pk,
            "audience": audience,
            "informed": sent,
            "next_update_due": next_due.isoformat() if next_due else None,
        }
        timeline_record(
            incident=incident,
            kind=EV_LIFECYCLE_SENT,
            actor=None,
            label="system (matrix)",
            data=decision,
        )
        decisions.append(decision)
    return decisions


def lifecycle_plan(incident: Incident) -> list[dict]:
    """What lifecycle_inform will still send for this incident: the workaround message while
    none is in place, and the all-clear at resolve to everyone informed so far (per matrix row of
    LIFECYCLE_AUDIENCES). Empty once resolved: the all-clear has gone out. For the communication
    plan page."""
    from incidents.models import State

    if incident.state not in (State.ESCALATED, State.WORKAROUND):
        return []
    steps = []
    for rule in selectors.communication_rules_for(incident):
        if rule.audience not in LIFECYCLE_AUDIENCES:
            continue
        informed = _informed(incident, rule)
        people = [p for p in recipients_for(rule, incident, timezone.now()) if p.pk in informed]
        if incident.state == State.ESCALATED:
            steps.append({"event": "workaround", "rule": rule, "people": people})
        steps.append({"event": "resolved", "rule": rule, "people": people})
    return steps


def update_preview(*, incident: Incident, audience: str, body: str) -> dict:
    """What publishing `body` to `audience` would send now, per language: rendered by the
    outbox's own function from the context the matrix builds, for the first recipient in that
    language (the German and English text even when nobody of that language is on the list).
    Returns {language: {"subject", "text", "html", "recipient"}}."""
    from notifications.rendering import render_content

    now = timezone.now()
    rules = [
        r
        for r in selectors.communication_rules_for(incident)
        if UPDATE_AUDIENCE[r.audience] == audience
    ]
    rule = next((r for r in rules if "email" in r.channels), None) or (rules[0] if rules else None)
    previews = {}
    for language in ("de", "en"):
        person = None
        if rule is not None:
            person = next(
                (
                    p
                    for p in recipients_for(rule, incident, now)
                    if p.language == language and selectors.address_for(p, "email")
                ),
                None,
            )
        due = (
            now + timedelta(minutes=rule.cadence_minutes) if rule and rule.cadence_minutes else None
        )
        face = None
        if audience == "customer":
            from .public import public_face_of

            face = public_face_of(incident)
        if face is not None:  # customers hear through the public face, as public updates send
            from incidents.presentation import customer_message_context

            context = customer_message_context(
                face,
                language=language,
                customer_id=getattr(person, "customer_id", None),
                recipient_name=person.display_name if person else "",
                next_update_at=due,
            )
            context["latest_update"] = body.strip()
        elif rule is not None:
            context = rule_message_context(
                incident=incident,
                rule=rule,
                person=person,
                next_update_at=due,
                language=language,
                latest_update=body.strip(),
            )
        else:
            context = selectors.message_context(
                incident, None, audience=audience, language=language, latest_update=body.strip()
            )
        if person is None:
            context["recipient_name"] = "…"
        content = render_content(
            channel="email",
            template=f"{audience}_update",
            language=language,
            context=json.loads(json.dumps(context)),
            time_zone=getattr(person, "time_zone", "") or "",
        )
        previews[language] = {**content, "recipient": person}
    return previews


@transaction.atomic
def executive_digest_send(*, at: datetime | None = None) -> int:
    """One message per executive listing every open escalation (EXECUTIVE_DIGEST_MINUTES)."""
    from django.conf import settings

    from incidents.models import State

    at = at or timezone.now()
    minutes = settings.EXECUTIVE_DIGEST_MINUTES
    if not minutes:
        return 0
    period = int(at.timestamp() // (minutes * 60))
    open_escalations = (
        Incident.objects.filter(state__in=[State.ESCALATED, State.WORKAROUND])
        .prefetch_related("customers")
        .order_by("priority", "detected_at")
    )
    group = selectors.group_by_name(roles.EXECUTIVE)
    executives = selectors.group_members(group.pk) if group else []
    items_by_language: dict[str, list[dict]] = {}  # the list is the same for every reader of it

    def items_in(language: str) -> list[dict]:
        if language not in items_by_language:
            items_by_language[language] = [
                _digest_item(incident, language) for incident in open_escalations
            ]
        return items_by_language[language]

    sent = 0
    for person in executives:
        address = selectors.address_for(person, "email")
        if not address:
            continue
        items = items_in(person.language)
        notification_enqueue(
            dedup_key=f"execdigest:{period}:{person.pk}",
            channel="email",
            address=address,
            template="executive_digest",
            recipient=person,
            language=person.language,
            context={
                "items": items,
                "count": len(items),
                "generated_at": at.isoformat(),
                "recipient_name": person.display_name,
                "dashboard_url": f"{settings.BASE_URL}/dashboard/",
            },
        )
        sent += 1
    return sent


@transaction.atomic
def communication_rule_save(*, form) -> CommunicationRule:
    """Save a validated CommunicationRuleForm (new row or edit). Running incidents keep the
    deadlines they have; the row applies from the next escalation or update on."""
    return form.save()


@transaction.atomic
def communication_rule_delete(*, rule: CommunicationRule) -> None:
    """Remove a row; pending update deadlines it created stay (they no-op once the row is gone)."""
    rule.delete()


def _digest_item(incident: Incident, language: str) -> dict:
    context = selectors.message_context(incident, None, audience="executive", language=language)
    next_due = (
        incident.clocks.filter(kind=Clock.Kind.UPDATE_DUE, status=Clock.Status.PENDING)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    keys = (
        "title",
        "priority",
        "state",
        "age_minutes",
        "customers",
        "latest_update",
    )
    return {key: context[key] for key in keys} | {
        "next_update_at": next_due.isoformat() if next_due else None
    }
