"""How every customer-facing channel presents a disruption: one module, one redaction rule.

Customer mail, subscriber mail and webhooks, the customer API, the portal, the notice kit, the
SLA report, the status page and its feeds and JSON all render what customers see through the
functions here. What they show is the public face of a disruption (PublicIncident): its public
title and text, its public status (PublicStatus, DESIGN.md's glossary), its public updates, its
public services (and a contact's own). Never the internal title or description, internal states,
private services of others, responders, or internal and executive updates; and in every text the
names of other organisations are replaced by "[…]" (`customer_names`, `Redactor`).
"""

import re
from datetime import datetime

from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _

from . import glossary
from .models import (
    OPEN_STATES,
    Customer,
    Incident,
    PublicIncident,
    PublicStatus,
)

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


def public_status_label(status: str, language: str) -> str:
    """The glossary's word for a public status in `language` (Wird untersucht, Behoben, ...)."""
    with translation.override(language):
        return glossary.public_status_label(status) if status in PublicStatus.values else ""


def redactor_for(customer_id: int | None = None) -> Redactor:
    """The redaction for one reader: a contact of `customer_id` keeps their own organisation's
    name; everybody else (subscribers, the public) sees no organisation named at all."""
    customers = {
        pk: (name, slug) for pk, name, slug in Customer.objects.values_list("pk", "name", "slug")
    }
    own_name, _own_slug = customers.pop(customer_id, ("", ""))
    redactor = Redactor([])
    redactor.pattern = customer_names(customers.values(), keep=own_name)
    return redactor


def _visible_services(public_incident: PublicIncident, customer_id: int | None) -> list[str]:
    """Public services, and a contact's own private ones; never another's private service."""
    names = []
    for service in public_incident.services.all():
        if not service.is_private or (
            customer_id and any(c.pk == customer_id for c in service.customers.all())
        ):
            names.append(service.name)
    return names


def public_started_at(public_incident: PublicIncident) -> datetime:
    starts = [i.detected_at for i in public_incident.incidents.all()]
    return min(starts, default=public_incident.published_at)


def public_next_update_at(public_incident: PublicIncident) -> datetime | None:
    """The earliest customer update still promised by an open incident it covers."""
    if not public_incident.is_open:
        return None
    promises = [
        i.next_customer_update_at
        for i in public_incident.incidents.all()
        if i.state in OPEN_STATES and i.next_customer_update_at
    ]
    return min(promises, default=None)


def public_incident_view(
    public_incident: PublicIncident,
    *,
    language: str,
    customer_id: int | None = None,
    redact: Redactor | None = None,
) -> dict:
    """A public incident as one reader sees it (a contact of `customer_id`, or the public)."""
    redact = redact or redactor_for(customer_id)
    updates = [
        {
            "id": update.pk,
            "kind": update.kind,
            "status": update.status,
            "status_label": public_status_label(update.status, language),
            "body": redact(update.body_in(language)),
            "created_at": update.created_at,
        }
        for update in sorted(
            public_incident.updates.all(), key=lambda u: (u.created_at, u.pk), reverse=True
        )
    ]
    latest = updates[0] if updates else None
    return {
        "id": public_incident.pk,
        # The customer-facing workaround (a public update of that kind), while it is the latest.
        "workaround": latest["body"]
        if latest and latest["kind"] == "workaround" and public_incident.is_open
        else "",
        "title": redact(public_incident.title_in(language)),
        "body": redact(public_incident.body_in(language)),
        "status": public_incident.status,
        "status_label": public_status_label(public_incident.status, language),
        "is_open": public_incident.is_open,
        "services": _visible_services(public_incident, customer_id),
        "started_at": public_started_at(public_incident),
        "published_at": public_incident.published_at,
        "resolved_at": public_incident.resolved_at,
        "next_update_at": public_next_update_at(public_incident),
        "updates": updates,
    }


def customer_message_context(
    public_incident: PublicIncident,
    *,
    language: str,
    customer_id: int | None = None,
    recipient_name: str = "",
    next_update_at: datetime | None = None,
    unsubscribe_url: str = "",
    **extra,
) -> dict:
    """The context of every message to a customer contact or subscriber (mail, chat, webhook:
    a webhook posts this context as its JSON, so it holds nothing a customer may not read)."""
    from django.conf import settings
    from django.urls import reverse

    view = public_incident_view(public_incident, language=language, customer_id=customer_id)
    latest = view["updates"][0] if view["updates"] else None
    # Customer mail links the status page, and a contact's also the portal (their organisation's
    # view of it); an anonymous subscriber only the status page.
    status_url = settings.BASE_URL + reverse("statuspage:index")
    portal_url = ""
    if customer_id:  # the portal's page of the contact's own incident, else its overview
        own = public_incident.incidents.filter(customers=customer_id).order_by("pk").first()
        page = reverse("portal:incident", args=[own.pk]) if own else reverse("portal:home")
        portal_url = settings.BASE_URL + page
    workaround = latest["body"] if latest and latest["kind"] == "workaround" else ""
    return {
        "public_incident_id": public_incident.pk,
        "title": view["title"],
        "body": view["body"],
        "description": "",
        "priority": None,
        "state": view["status_label"],
        "public_status": view["status"],
        "incident_url": portal_url or status_url,
        "status_url": status_url,
        "portal_url": portal_url,
        "services": view["services"],
        "customers": [],
        "detected_at": view["started_at"].isoformat(),
        "resolved_at": view["resolved_at"].isoformat() if view["resolved_at"] else None,
        "workaround": workaround,
        "latest_update": (latest["body"] if latest and not workaround else "") or view["body"],
        "next_update_at": next_update_at.isoformat() if next_update_at else None,
        "recipient_name": recipient_name,
        "unsubscribe_url": unsubscribe_url,
        **extra,
    }


def neutral_title(services: list[str], language: str) -> str:
    """The name of a disruption without a public face: its services, never its internal title."""
    with translation.override(language):
        if services:
            return _("Disruption: %(services)s") % {"services": ", ".join(services)}
        return _("Disruption")


def incident_for_customer(
    incident: Incident, *, language: str, customer_id: int | None, redact: Redactor | None = None
) -> dict:
    """An internal incident as a customer may see it (portal, customer API, SLA report): the
    public title, status and updates of its latest public face, else only a neutral name from
    the reader's services and no status beyond open/resolved."""
    faces = sorted(
        incident.public_incidents.all(), key=lambda p: (p.published_at, p.pk), reverse=True
    )
    own = [
        s.name
        for s in incident.services.all()
        if not s.is_private or any(c.pk == customer_id for c in s.customers.all())
    ]
    if faces:
        view = public_incident_view(
            faces[0], language=language, customer_id=customer_id, redact=redact
        )
        return {**view, "incident_id": incident.pk, "public": True}
    status = PublicStatus.RESOLVED if incident.state not in OPEN_STATES else ""
    return {
        "id": None,
        "workaround": "",
        "incident_id": incident.pk,
        "public": False,
        "title": neutral_title(own, language),
        "body": "",
        "status": status,
        "status_label": public_status_label(status, language) if status else "",
        "is_open": incident.state in OPEN_STATES,
        "services": own,
        "started_at": incident.detected_at,
        "published_at": None,
        "resolved_at": incident.resolved_at,
        "next_update_at": None,
        "updates": [],
    }


def customer_titles(incidents, *, language: str, customer_id: int | None) -> dict[int, str]:
    """{incident id: the title a customer sees} for many incidents (SLA report rows)."""
    ids = [i.pk if isinstance(i, Incident) else i for i in incidents]
    found = (
        Incident.objects.filter(pk__in=ids)
        .prefetch_related(faces_prefetch(), "services__customers")
        .order_by()
    )
    redact = redactor_for(customer_id)
    return {
        incident.pk: incident_for_customer(
            incident, language=language, customer_id=customer_id, redact=redact
        )["title"]
        for incident in found
    }


def faces_prefetch() -> Prefetch:
    """Prefetch an incident's public faces with all incident_for_customer reads of them."""
    return Prefetch(
        "public_incidents",
        queryset=PublicIncident.objects.prefetch_related(
            "updates", "services__customers", "incidents"
        ),
    )
