"""The communication matrix applied to one incident: who is informed, how, and when updates are due.

Runs inside the caller's transaction with the incident locked; every decision is a timeline entry.
"""

from datetime import datetime, timedelta

from django.conf import settings

from incidents.models import Audience as UpdateAudience
from incidents.models import Incident, User
from incidents.services import timeline_record
from notifications.services import notification_enqueue

from .. import roles, selectors
from ..models import Audience, Clock, CommunicationRule

EV_MATRIX = "matrix_decision"
EV_UPDATE_DUE = "update_due"

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


def communication_apply(*, incident: Incident, at: datetime, occasion: str) -> list[dict]:
    """Inform every audience the matrix names for this incident, and set when updates are due."""
    decisions = []
    for rule in selectors.communication_rules_for(incident):
        people = recipients_for(rule, incident, at)
        sent = []
        for person in people:
            for channel in rule.channels:
                address = selectors.address_for(person, channel)
                if not address:
                    continue
                notification_enqueue(
                    dedup_key=f"comm:{incident.pk}:{occasion}:{rule.pk}:{person.pk}:{channel}",
                    channel=channel,
                    address=address,
                    template=rule.template,
                    recipient=person,
                    language=person.language,
                    context=_context(incident, rule),
                )
                sent.append({"to": person.username, "channel": channel})
        decision = {
            "rule": rule.pk,
            "audience": rule.audience,
            "informed": sent,
            "cadence_minutes": rule.cadence_minutes,
            "occasion": occasion,
        }
        if rule.cadence_minutes:
            due = at + timedelta(minutes=rule.cadence_minutes)
            update_due_schedule(incident=incident, rule=rule, due_at=due, seq=0, occasion=occasion)
            decision["next_update_due"] = due.isoformat()
        timeline_record(
            incident=incident, kind=EV_MATRIX, actor=None, label="system (matrix)", data=decision
        )
        decisions.append(decision)
    return decisions


def _context(incident: Incident, rule: CommunicationRule) -> dict:
    return {
        "incident": incident.pk,
        "title": incident.title,
        "priority": incident.priority,
        "state": incident.state,
        "audience": rule.audience,
        "incident_url": f"{settings.BASE_URL}/admin/incidents/incident/{incident.pk}/change/",
    }


def update_due_schedule(
    *, incident: Incident, rule: CommunicationRule, due_at: datetime, seq: int, occasion: str
) -> Clock:
    clock, _ = Clock.objects.get_or_create(
        key=f"update:{incident.pk}:{occasion}:{rule.pk}:{seq}",
        defaults={
            "incident": incident,
            "kind": Clock.Kind.UPDATE_DUE,
            "due_at": due_at,
            "payload": {
                "rule": rule.pk,
                "audience": rule.audience,
                "seq": seq,
                "occasion": occasion,
            },
        },
    )
    return clock


def update_due_fire(*, incident: Incident, clock: Clock, at: datetime) -> None:
    """An update to an audience is due: remind the commander and schedule the next deadline.

    (Automatic status digests when nobody writes come with the notifications issue.)
    """
    rule = CommunicationRule.objects.filter(pk=clock.payload["rule"]).first()
    if rule is None or not rule.is_active or not rule.cadence_minutes:
        return
    audience = UPDATE_AUDIENCE[rule.audience]
    last_update = incident.updates.filter(audience=audience).order_by("-created_at").first()
    period_start = at - timedelta(minutes=rule.cadence_minutes)
    fresh = last_update is not None and last_update.created_at >= period_start
    reminded = []
    if not fresh:
        people = [incident.commander] if incident.commander else selectors.managers_on_duty(at)
        for person in people:
            address = selectors.address_for(person, "email")
            if address:
                notification_enqueue(
                    dedup_key=f"due:{incident.pk}:{clock.key}:{person.pk}",
                    channel="email",
                    address=address,
                    template="update_due",
                    recipient=person,
                    language=person.language,
                    context={**_context(incident, rule), "update_audience": audience},
                )
                reminded.append(person.username)
    timeline_record(
        incident=incident,
        kind=EV_UPDATE_DUE,
        actor=None,
        label="system (matrix)",
        data={"audience": audience, "fresh_update": fresh, "reminded": reminded},
    )
    update_due_schedule(
        incident=incident,
        rule=rule,
        due_at=at + timedelta(minutes=rule.cadence_minutes),
        seq=clock.payload["seq"] + 1,
        occasion=clock.payload["occasion"],
    )
