"""The public face of a disruption: publishing it, its public updates, linking more incidents to
it, and the all-clear. Each one use case in one transaction, with a timeline entry on every
incident it covers and the outbox rows it causes.

Customers (the contacts the communication matrix names for the incidents it covers) and confirmed
subscribers (of its services, or of the affected organisations) hear of a disruption only from
here: publishing informs them, each public update informs them and restarts the customer update
clocks of the matrix, and resolving sends the all-clear to everyone who was informed and cancels
the open "next update by" promises. Every message renders through incidents.presentation.
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.exceptions import AlreadyPublished, InvalidInput, NoPublicFace, PermissionDenied
from incidents.models import (
    OPEN_STATES,
    EventKind,
    Incident,
    PublicIncident,
    PublicIncidentUpdate,
    PublicStatus,
    Service,
    User,
)
from incidents.presentation import customer_message_context, neutral_title
from incidents.selectors import role_of
from incidents.services import incident_lock, timeline_record
from incidents.statuspage.render import render_after_commit
from notifications.models import Notification
from notifications.services import (
    notification_enqueue,
    subscribers_for,
    subscription_links,
    subscription_signing_secrets,
)

from .. import roles, selectors
from ..models import Audience, Clock

Kind = PublicIncidentUpdate.Kind


def public_face_of(incident: Incident) -> PublicIncident | None:
    """The incident's open public face (the newest, if several)."""
    return (
        incident.public_incidents.exclude(status=PublicStatus.RESOLVED)
        .order_by("-published_at", "-pk")
        .first()
    )


def public_face_required(incident: Incident) -> PublicIncident:
    face = public_face_of(incident)
    if face is None:
        raise NoPublicFace(
            _(
                "Incident #%(id)s has no public face yet: publish it for customers first "
                "(console: Publish for customers; API: POST /api/v1/public-incidents/)."
            )
            % {"id": incident.pk}
        )
    return face


def _in_language(language: str, text) -> str:
    with translation.override(language):
        return str(text)


def standard_texts(services: Iterable[Service]) -> dict:
    """The services' standard customer texts (Service.public_text), in German and English, with
    a title made of the public services' names: what "Publish for customers" is prefilled with
    and what an auto-publish rule publishes."""
    services = list(services)
    public = [s.name for s in services if not s.is_private] or [s.name for s in services]
    texts = {}
    for lang, field in (("de", "public_text"), ("en", "public_text_en")):
        body = "\n\n".join(t for t in (getattr(s, field).strip() for s in services) if t)
        texts["title" if lang == "de" else "title_en"] = neutral_title(public, lang)
        texts["body" if lang == "de" else "body_en"] = body or _in_language(lang, FIRST_TEXT)
    return texts


FIRST_TEXT = gettext_lazy(
    "We are aware of a disruption and are investigating. We will keep you informed."
)


def _check_writer(actor: User | None, incidents: list[Incident]) -> None:
    """Escalation managers write any public incident; responders only one whose incidents are
    all theirs; executives and customers none. `None` is the system (an auto-publish rule)."""
    if actor is None:
        return
    if role_of(actor) != "staff":
        raise PermissionDenied(_("You may not publish for customers."))
    if actor.is_superuser or actor.groups.filter(name=roles.ESCALATION_MANAGER).exists():
        return
    mine = set(
        selectors.console_incidents_for(actor)
        .filter(pk__in=[i.pk for i in incidents])
        .values_list("pk", flat=True)
    )
    if not incidents or any(i.pk not in mine for i in incidents):
        raise PermissionDenied(_("You may publish only for incidents you work on."))


def _record(incidents: Iterable[Incident], *, kind: str, actor: User | None, data: dict, **kw):
    """One timeline entry on each incident (locked in id order, so two publishers of the same
    incidents never deadlock). Callers holding an instance reload its chain head afterwards."""
    for incident in sorted(incidents, key=lambda i: i.pk):
        timeline_record(incident=incident_lock(incident), kind=kind, actor=actor, data=data, **kw)


def _clean_status(status: str) -> str:
    if status not in PublicStatus.values:
        raise InvalidInput(_("Unknown public status: %(value)s.") % {"value": status}, "status")
    return status


@transaction.atomic
def public_incident_publish(
    *,
    actor: User | None,
    incidents: Iterable[Incident] = (),
    services: Iterable[Service] | None = None,
    title: str = "",
    title_en: str = "",
    body: str = "",
    body_en: str = "",
    status: str = PublicStatus.INVESTIGATING,
    rule: str = "",
) -> PublicIncident:
    """Give one or several incidents a public face and tell customers and subscribers. Empty
    texts take the services' standard texts."""
    incidents = list(incidents)
    _check_writer(actor, incidents)
    status = _clean_status(status)
    if status == PublicStatus.RESOLVED:
        raise InvalidInput(_("A new public incident cannot start resolved."), field="status")
    # Two people publishing one incident at once make one public face: the incidents' row locks
    # (in id order) serialise them, and the second finds the first's face.
    incidents = [incident_lock(i) for i in sorted(incidents, key=lambda i: i.pk)]
    for incident in incidents:
        face = public_face_of(incident)
        if face is not None:
            raise AlreadyPublished(
                _(
                    "Incident #%(incident)d is published already as “%(title)s”: post an update "
                    "there, or link more incidents to it."
                )
                % {"incident": incident.pk, "title": face.title}
            )
    if services is None:
        services = {s.pk: s for i in incidents for s in i.services.all()}.values()
    services = list(services)
    if not incidents and not services:
        raise InvalidInput(_("Name the incidents or services it covers."), field="incidents")
    standard = standard_texts(services)
    texts = {
        key: (value or "").strip()
        for key, value in {
            "title": title,
            "title_en": title_en,
            "body": body,
            "body_en": body_en,
        }.items()
    }
    for key in ("title", "body"):  # a person's words beat a standard text in another language
        if not texts[key]:
            texts[key], texts[f"{key}_en"] = (
                standard[key],
                texts[f"{key}_en"] or standard[f"{key}_en"],
            )
    now = timezone.now()
    face = PublicIncident.objects.create(
        status=status, published_by=actor, published_rule=rule, published_at=now, **texts
    )
    face.services.set(services)
    face.incidents.set(incidents)
    PublicIncidentUpdate.objects.create(
        public_incident=face,
        kind=Kind.PUBLISHED,
        status=status,
        body=texts["body"],
        body_en=texts["body_en"],
        author=actor,
        created_at=now,
    )
    label = {"label": f"system (rule: {rule})"} if rule and actor is None else {}
    _record(
        incidents,
        kind=EventKind.PUBLIC_PUBLISHED,
        actor=actor,
        data={"public_incident": face.pk, "title": face.title, "status": status, "rule": rule},
        **label,
    )
    next_due = _restart_customer_clocks(face, now=now)
    inform_customers(face, key="published", template=None, next_update_at=next_due)
    render_after_commit()
    return face


@transaction.atomic
def public_incident_link(
    *, public_incident: PublicIncident, actor: User | None, incidents: Iterable[Incident]
) -> PublicIncident:
    """Let a public incident cover more incidents (one disruption, several records); their
    services join its affected services."""
    face = PublicIncident.objects.select_for_update().get(pk=public_incident.pk)
    known = set(face.incidents.values_list("pk", flat=True))
    new = [i for i in incidents if i.pk not in known]
    _check_writer(actor, [*face.incidents.all(), *new])
    if not new:
        return face
    face.incidents.add(*new)
    face.services.add(*{s.pk: s for i in new for s in i.services.all()}.values())
    face.save(update_fields=["updated_at"])
    _record(
        new,
        kind=EventKind.PUBLIC_LINKED,
        actor=actor,
        data={"public_incident": face.pk, "title": face.title},
    )
    # Organisations (and subscribers) the newly covered incidents concern hear of it now.
    promise = min((i.next_customer_update_at for i in face.incidents.all()
                   if i.next_customer_update_at), default=None)  # fmt: skip
    key = f"link{min(i.pk for i in new)}"
    inform_customers(face, key=key, template=None, next_update_at=promise, only_new=True)
    render_after_commit()
    return face


@transaction.atomic
def public_incident_update_post(
    *,
    public_incident: PublicIncident,
    actor: User | None,
    body: str = "",
    body_en: str = "",
    status: str = "",
    kind: str = Kind.UPDATE,
) -> PublicIncidentUpdate:
    """A public update: its text and (optionally new) status reach every customer contact and
    subscriber, and the customer update clocks start again. Status "resolved" is the all-clear
    (public_incident_resolve)."""
    face = PublicIncident.objects.select_for_update().get(pk=public_incident.pk)
    _check_writer(actor, list(face.incidents.all()))
    if not face.is_open:
        raise InvalidInput(_("This public incident is resolved."), field="status")
    status = _clean_status(status or face.status)
    if status == PublicStatus.RESOLVED:
        return public_incident_resolve(
            public_incident=face, actor=actor, body=body, body_en=body_en
        )
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("The update needs a text."), field="body")
    now = timezone.now()
    update = PublicIncidentUpdate.objects.create(
        public_incident=face,
        kind=kind,
        status=status,
        body=body,
        body_en=(body_en or "").strip(),
        author=actor,
        created_at=now,
    )
    face.status = status
    face.save(update_fields=["status", "updated_at"])
    _record(
        face.incidents.all(),
        kind=EventKind.PUBLIC_UPDATE,
        actor=actor,
        data={"public_incident": face.pk, "update": update.pk, "status": status, "body": body},
    )
    next_due = _restart_customer_clocks(face, now=now)
    inform_customers(face, key=f"u{update.pk}", template="customer_update", next_update_at=next_due)
    render_after_commit()
    return update


@transaction.atomic
def public_incident_resolve(
    *, public_incident: PublicIncident, actor: User | None, body: str = "", body_en: str = ""
) -> PublicIncidentUpdate:
    """The all-clear: the public incident is resolved; everyone informed on the customer side
    hears it in their language, and the open customer update promises and their clocks end."""
    face = PublicIncident.objects.select_for_update().get(pk=public_incident.pk)
    _check_writer(actor, list(face.incidents.all()))
    if not face.is_open:
        return face.updates.order_by("-created_at", "-pk").first()
    now = timezone.now()
    update = PublicIncidentUpdate.objects.create(
        public_incident=face,
        kind=Kind.RESOLVED,
        status=PublicStatus.RESOLVED,
        body=(body or "").strip() or _in_language("de", ALL_CLEAR),
        body_en=(body_en or "").strip() or ("" if body else _in_language("en", ALL_CLEAR)),
        author=actor,
        created_at=now,
    )
    face.status, face.resolved_at = PublicStatus.RESOLVED, now
    face.save(update_fields=["status", "resolved_at", "updated_at"])
    cancelled = _cancel_customer_clocks(face)
    told = _all_clear(face)
    _record(
        face.incidents.all(),
        kind=EventKind.PUBLIC_RESOLVED,
        actor=actor,
        data={
            "public_incident": face.pk,
            "update": update.pk,
            "informed": told,
            "promises_cancelled": cancelled,
        },
    )
    render_after_commit()
    return update


ALL_CLEAR = gettext_lazy(
    "The disruption has been resolved. All affected services are working normally again. "
    "Thank you for your patience."
)


def public_faces_resolve_if_done(*, incident: Incident, actor: User | None) -> list[int]:
    """After an incident is resolved: give the all-clear for each of its public faces whose
    incidents are now all resolved. Returns the public incidents resolved."""
    done = []
    for face in incident.public_incidents.exclude(status=PublicStatus.RESOLVED):
        if not face.incidents.filter(state__in=OPEN_STATES).exists():
            public_incident_resolve(public_incident=face, actor=None)
            done.append(face.pk)
    return done


REOPENED_TEXT = gettext_lazy(
    "The disruption has occurred again. We are investigating and will keep you informed."
)


def public_face_reopen(*, incident: Incident) -> PublicIncident | None:
    """A reopened incident whose public face had given the all-clear: the face is open again and
    everyone who heard of it (the all-clear included) is told the disruption is back. Nothing if
    the incident never had a public face or has an open one."""
    if public_face_of(incident) is not None:
        return None
    face = incident.public_incidents.order_by("-resolved_at", "-pk").first()
    if face is None:
        return None
    face = PublicIncident.objects.select_for_update().get(pk=face.pk)
    face.status, face.resolved_at = PublicStatus.INVESTIGATING, None
    face.save(update_fields=["status", "resolved_at", "updated_at"])
    public_incident_update_post(
        public_incident=face,
        actor=None,
        body=_in_language("de", REOPENED_TEXT),
        body_en=_in_language("en", REOPENED_TEXT),
        status=PublicStatus.INVESTIGATING,
    )
    return face


def workaround_publish(
    *, incident: Incident, actor: User | None, customer_text: str, customer_text_en: str = ""
) -> None:
    """The workaround step reaches customers as a public update (status "identified" unless it
    is further on already) with the workaround's customer-facing text (and its English one, if
    given, e.g. from a runbook)."""
    face = public_face_of(incident)
    if face is None:
        return
    status = PublicStatus.IDENTIFIED if face.status == PublicStatus.INVESTIGATING else face.status
    texts = {
        lang: (customer_text or "").strip() or _in_language(lang, WORKAROUND_TEXT)
        for lang in ("de", "en")
    }
    public_incident_update_post(
        public_incident=face,
        actor=None,
        body=texts["de"],
        body_en=(customer_text_en or "").strip() or ("" if customer_text.strip() else texts["en"]),
        status=status,
        kind=Kind.WORKAROUND,
    )


WORKAROUND_TEXT = gettext_lazy(
    "A workaround is in place: you can work again, possibly with restrictions. We are working "
    "on a permanent fix."
)


# --- who hears it ---------------------------------------------------------------------------


def _customer_rules(face: PublicIncident, *, open_only: bool = True):
    """(incident, matrix row) for each customer row of the communication matrix that matches an
    incident the public incident covers."""
    for incident in face.incidents.all().order_by("pk"):
        if open_only and incident.state not in OPEN_STATES:
            continue
        for rule in selectors.communication_rules_for(incident):
            if rule.audience == Audience.CUSTOMERS:
                yield incident, rule


def _subject(face: PublicIncident) -> str:
    first = face.incidents.order_by("pk").values_list("pk", flat=True).first()
    return f"incident:{first}" if first else f"public:{face.pk}"


def inform_customers(
    face: PublicIncident,
    *,
    key: str,
    template: str | None,
    next_update_at: datetime | None,
    only_new: bool = False,
) -> list[dict]:
    """One message per customer contact and channel the matrix names for the incidents covered,
    and one per confirmed subscriber of its services or the organisations affected. Without a
    `template`, each contact gets the template of the matrix row that names them (subscribers:
    customer_update). `only_new`: only those not yet told of this public incident (a newly
    covered incident's organisations, a newly escalated incident: no repeat for the others)."""
    now = timezone.now()
    subject = _subject(face)
    sent, seen = [], set()
    told = _informed_addresses(face) if only_new else set()
    for incident, rule in _customer_rules(face):
        for person in _contacts(rule, incident, now):
            for channel in rule.channels:
                address = selectors.address_for(person, channel)
                if not address or (person.pk, channel) in seen or (channel, address) in told:
                    continue
                seen.add((person.pk, channel))
                context = customer_message_context(
                    face,
                    language=person.language,
                    customer_id=person.customer_id,
                    recipient_name=person.display_name,
                    next_update_at=next_update_at,
                )
                notification_enqueue(
                    dedup_key=f"pub:{face.pk}:{key}:{person.pk}:{channel}",
                    channel=channel,
                    address=address,
                    template=template or _customer_template(rule),
                    recipient=person,
                    language=person.language,
                    context=context,
                    subject=subject,
                    **selectors.signing_secrets_for(person, channel, address),
                )
                sent.append({"to": person.username, "channel": channel})
    for subscription in subscribers_for(_scopes(face)):
        if (subscription.channel, subscription.address) in told:
            continue
        context = customer_message_context(
            face,
            language=subscription.language,
            next_update_at=next_update_at,
            unsubscribe_url=subscription_links(subscription)["unsubscribe_url"],
        )
        notification_enqueue(
            dedup_key=f"pub:{face.pk}:{key}:sub{subscription.pk}",
            channel=subscription.channel,
            address=subscription.address,
            template=template or "customer_update",
            language=subscription.language,
            context=context,
            subject=subject,
            **subscription_signing_secrets(subscription),
        )
        sent.append({"to": f"subscriber {subscription.pk}", "channel": subscription.channel})
    return sent


def _customer_template(rule) -> str:
    """A matrix row's own customer template, else customer_update (never a team template such
    as incident_escalated, the row's default)."""
    return rule.template if rule.template.startswith("customer") else "customer_update"


def _informed_addresses(face: PublicIncident) -> set[tuple[str, str]]:
    return set(
        Notification.objects.filter(dedup_key__startswith=f"pub:{face.pk}:").values_list(
            "channel", "address"
        )
    )


def digest_sent(face: PublicIncident, key: str) -> bool:
    """Whether this period's digest went out already (the clock of another incident the public
    incident covers fired first): an alert storm's thousand clocks send one digest."""
    return Notification.objects.filter(dedup_key__startswith=f"pub:{face.pk}:{key}:").exists()


def _contacts(rule, incident: Incident, at: datetime) -> list[User]:
    from .matrix import recipients_for

    return [p for p in recipients_for(rule, incident, at) if p.customer_id]


def _scopes(face: PublicIncident) -> list[str]:
    public = [s for s in face.services.select_related("group") if not s.is_private]
    scopes = [f"service:{s.slug}" for s in public]
    # a subscription to a whole group hears of its public services (present and future)
    scopes += sorted({f"group:{s.group.slug}" for s in public if s.group_id})
    customers = {c.slug for i in face.incidents.all() for c in i.customers.all()}
    return scopes + [f"customer:{slug}" for slug in sorted(customers)]


def _all_clear(face: PublicIncident) -> list[dict]:
    """The all-clear to every address that heard of this public incident, in its language."""
    informed = (
        Notification.objects.filter(dedup_key__startswith=f"pub:{face.pk}:")
        .exclude(status=Notification.Status.CANCELLED)
        .select_related("recipient")
        .order_by("pk")
    )
    sent, seen = [], set()
    for row in informed:
        if (row.channel, row.address) in seen:
            continue
        seen.add((row.channel, row.address))
        person = row.recipient
        context = customer_message_context(
            face,
            language=row.language,
            customer_id=person.customer_id if person else None,
            recipient_name=person.display_name if person else "",
            unsubscribe_url=row.context.get("unsubscribe_url", ""),
        )
        digest = hashlib.sha256(f"{row.channel}:{row.address}".encode()).hexdigest()[:20]
        notification_enqueue(
            dedup_key=f"puballclear:{face.pk}:{digest}",
            channel=row.channel,
            address=row.address,
            template="customer_all_clear",
            recipient=person,
            language=row.language,
            context=context,
            subject=row.subject,
            # a webhook receiver verifies the all-clear with the secret it verified the rest with
            signing_secret=row.signing_secret,
            previous_signing_secret=row.previous_signing_secret,
        )
        sent.append({"to": person.username if person else "subscriber", "channel": row.channel})
    return sent


# --- the customer update clocks -------------------------------------------------------------


def _restart_customer_clocks(face: PublicIncident, *, now: datetime) -> datetime | None:
    """A public update satisfies the customer rows of the matrix: their pending deadlines end and
    the next period starts now. Returns the earliest next deadline (the message promises it)."""
    from .matrix import _schedule, customer_promise_refresh

    dues = []
    for incident, rule in _customer_rules(face):
        if not rule.cadence_minutes:
            continue
        pending = Clock.objects.filter(
            incident=incident,
            status=Clock.Status.PENDING,
            payload__rule=rule.pk,
            kind__in=[Clock.Kind.UPDATE_DUE, Clock.Kind.UPDATE_REMINDER],
        )
        seq = max([c.payload["seq"] for c in pending] or [0]) + 1
        first = pending.first()
        occasion = first.payload["occasion"] if first else f"pub{face.pk}"
        pending.update(status=Clock.Status.CANCELLED)
        due = now + timedelta(minutes=rule.cadence_minutes)
        _schedule(incident=incident, rule=rule, due_at=due, seq=seq, occasion=occasion)
        customer_promise_refresh(incident=incident)
        dues.append(due)
    return min(dues, default=None)


def _cancel_customer_clocks(face: PublicIncident) -> int:
    """The all-clear ends every customer "next update by" promise of the incidents covered."""
    from .matrix import customer_promise_refresh

    cancelled = 0
    for incident in face.incidents.all():
        cancelled += Clock.objects.filter(
            incident=incident,
            status=Clock.Status.PENDING,
            kind__in=[Clock.Kind.UPDATE_DUE, Clock.Kind.UPDATE_REMINDER],
            payload__audience=Audience.CUSTOMERS,
        ).update(status=Clock.Status.CANCELLED)
        customer_promise_refresh(incident=incident)
    return cancelled
