"""The notice kit: a ready-to-forward text about one incident for a customer's own staff and
customers, in German and English (written per language in templates/portal/notice.<lang>.txt, not
gettext), and the same text as a PDF.

It says what is affected (only this organisation's services), since when, what it means, what to
do now, when the next update comes, where to check, and whom to ask. It never carries internal or
executive updates, the internal description, the priority, commander or other customers' names:
the context below is all a template gets.
"""

import re
import zoneinfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from incidents.models import Customer, Incident, User
from incidents.pdf import render_pdf

LANGUAGES = ("de", "en")


def notice_language(value: str | None, *, default: str) -> str:
    """`?lang=` if it is one we write, else the default (never an error)."""
    if value in LANGUAGES:
        return value
    return default if default in LANGUAGES else LANGUAGES[0]


def _zone(customer: Customer):
    try:
        return zoneinfo.ZoneInfo(customer.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def notice_context(incident: Incident, *, customer: Customer, contact: User) -> dict:
    """Everything a notice shows. `incident` comes from portal_incident_for (own_services,
    service_status, and `public`: its public face as incidents.presentation renders it for this
    organisation, never the internal title, workaround text or updates)."""
    is_open = incident.is_open
    return {
        "title": incident.customer_title,
        "number": incident.pk,
        "services": [service.name for service in incident.own_services],
        "is_open": is_open,
        "impact": incident.service_status,
        "started_at": incident.detected_at,
        "resolved_at": None if is_open else incident.resolved_at,
        "workaround": incident.public["workaround"] if is_open else "",
        "next_update_at": incident.public["next_update_at"] if is_open else None,
        "status_url": f"{settings.BASE_URL}/status/",
        "portal_url": f"{settings.BASE_URL}{reverse('portal:incident', args=[incident.pk])}",
        "organisation": customer.name,
        "contact_name": contact.display_name,
        "contact_email": contact.email,
    }


def notice_text(incident: Incident, *, customer: Customer, contact: User, language: str) -> str:
    """The notice in one language, times in the organisation's time zone."""
    context = notice_context(incident, customer=customer, contact=contact)
    with translation.override(language), timezone.override(_zone(customer)):
        text = render_to_string(f"portal/notice.{language}.txt", context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def notice_pdf(
    incident: Incident,
    *,
    customer: Customer,
    contact: User,
    language: str,
    base_url: str | None = None,
) -> bytes:
    """The same text as a printable PDF: first line as heading, each question as a subheading."""
    text = notice_text(incident, customer=customer, contact=contact, language=language)
    heading, _, rest = text.partition("\n")
    sections = []
    for block in rest.strip().split("\n\n"):
        first, _, body = block.partition("\n")
        if first.endswith("?") and body:
            sections.append({"heading": first, "body": body})
        else:
            sections.append({"heading": "", "body": block})
    html = render_to_string(
        "portal/notice_pdf.html",
        {
            "language": language,
            "heading": heading,
            "sections": sections,
            "organisation": customer.name,
        },
    )
    return render_pdf(html, base_url=base_url)
