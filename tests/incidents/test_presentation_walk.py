"""One walk over every customer-facing channel: customer mail and webhooks, subscriber mail and
webhooks, the customer API, the portal (titles and update bodies), the notice kit (text and
PDF), the SLA report (HTML, CSV, PDF), the status page with its feeds and Statuspage JSON.

The incident's internal title names another customer; the internal record holds a description,
a private service of the other customer, a commander and internal and executive updates. Through
the whole lifecycle (escalated, published, customer update, workaround, resolved: the all-clear)
a customer contact, a subscriber and the public read the public face only, rendered by
incidents.presentation with its one redaction rule; the walk also proves that each channel
does show the public face (so the absence of secrets is not an empty page)."""

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from escalation.models import CommunicationRule, ContactMethod, Contract, SlaTarget
from escalation.services import (
    incident_classify,
    incident_provide_workaround,
    incident_resolve,
)
from escalation.services.matrix import update_publish
from escalation.services.public import public_incident_publish
from incidents.services import api_token_create
from incidents.statuspage.render import render_status_page
from notifications.models import Notification, Subscription
from notifications.rendering import render
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

INTERNAL_TITLE = "Logistik Süd meldet: E-Rechnungen kommen nicht an (Queue ZQQUEUE)"
PUBLIC_TITLE = "E-Rechnung: Rechnungen verzögert"
PUBLIC_TITLE_EN = "E-invoicing: invoices delayed"
SECRETS = [
    "Logistik",  # the other organisation (its name, short name and slug)
    "logistik-sued",
    "ZQQUEUE",  # the internal title
    "E-Rechnungen kommen nicht an",
    "ZQDESCRIPTION",  # the internal description
    "Backup & Archivierung",  # the other organisation's private service
    "Backup &amp; Archivierung",
    "ZQINTERNAL",  # internal and executive updates
    "ZQEXECUTIVE",
    "ZQWORKAROUND",  # the internal workaround text
    "ZQRESOLUTION",
    "mara.manager",  # the commander / responders
    "Mara Manager",
    "Eskaliert",  # internal states
    "Escalated",
]  # (priorities are not: the SLA report shows them, as the contract's targets are by priority)


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return " ".join(text.replace("\u2010\n", "").split())  # lines and hyphenation undone


def test_every_customer_facing_channel_shows_the_public_face_only(
    manager, customer, other_customer, customer_contact, settings, tmp_path
):
    settings.BASE_URL = "https://escalation.example.org"
    manager.first_name, manager.last_name = "Mara", "Manager"
    manager.save()
    customer_contact.language = "de"
    customer_contact.save()
    e_invoice = ServiceFactory(slug="e-rechnung", name="E-Rechnung")
    e_invoice.customers.add(customer, other_customer)
    backup = ServiceFactory(slug="backup", name="Backup & Archivierung", is_private=True)
    backup.customers.add(other_customer)
    contract = Contract.objects.create(
        customer=customer,
        name="Rahmenvertrag",
        monthly_fee=Decimal("1000.00"),
        valid_from=date(2020, 1, 1),
    )
    contract.services.add(e_invoice)
    SlaTarget.objects.create(
        contract=contract, priority=1, response_minutes=15, restore_minutes=240
    )
    CommunicationRule.objects.create(
        priority=1, audience="customers", channels=["email", "webhook"], cadence_minutes=30
    )
    ContactMethod.objects.create(
        user=customer_contact, channel="webhook", address="https://kunde.example.org/hook"
    )
    confirmed = timezone.now() - timedelta(days=1)
    for channel, address in (("email", "leser@example.org"), ("webhook", "https://x.example/h")):
        Subscription.objects.create(
            channel=channel,
            address=address,
            scope="service:e-rechnung",
            scope_label="E-Rechnung",
            language="en",
            confirmed_at=confirmed,
        )

    # The internal record: escalated at once by classification (P1).
    incident = IncidentFactory(
        title=INTERNAL_TITLE,
        description="ZQDESCRIPTION Analyse der Queue",
        services=[e_invoice, backup],
        commander=manager,
    )
    incident = incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
    assert incident.state == "escalated"
    for audience in ("internal", "executive"):
        update_publish(
            incident=incident, actor=manager, audience=audience, body=f"ZQ{audience.upper()} x"
        )
    assert not Notification.objects.filter(recipient=customer_contact).exists()
    assert not Notification.objects.filter(recipient__isnull=True).exists()  # no subscriber

    # Published by a person; the public text itself names the other organisation (redacted).
    public_incident_publish(
        actor=manager,
        incidents=[incident],
        title=PUBLIC_TITLE,
        title_en=PUBLIC_TITLE_EN,
        body="Eingehende Rechnungen (gemeldet von Logistik Süd) kommen verzögert an.",
        body_en="Incoming invoices arrive late.",
    )
    update_publish(
        incident=incident,
        actor=manager,
        audience="customer",
        body="Wir haben die Ursache gefunden (Hinweis von Logistik Süd).",
    )
    incident_provide_workaround(
        incident=incident,
        actor=manager,
        workaround="ZQWORKAROUND Queue auf Node 3",
        customer_text="Bitte laden Sie Rechnungen im Portal hoch.",
    )
    shown: dict[str, str] = {}  # channel -> what it showed

    def walk_open_channels(stage: str, *, pdfs: bool = True) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=customer_contact)[1]}")
        face = incident.public_incidents.get()
        for url in (
            "/api/v1/incidents/",
            f"/api/v1/incidents/{incident.pk}/",
            f"/api/v1/incidents/{incident.pk}/updates/",
            "/api/v1/public-incidents/",
            f"/api/v1/public-incidents/{face.pk}/",
        ):
            response = api.get(url, HTTP_ACCEPT_LANGUAGE="de")
            assert response.status_code == 200, url
            shown[f"{stage} api {url}"] = response.content.decode()
        portal = Client(HTTP_ACCEPT_LANGUAGE="de")
        portal.force_login(customer_contact)
        names = ("portal:home", "portal:incident", "portal:notice", "portal:notice_pdf")
        for name in names if pdfs else names[:3]:
            args = [] if name == "portal:home" else [incident.pk]
            for lang in ("de", "en"):
                response = portal.get(reverse(name, args=args), {"lang": lang})
                assert response.status_code == 200, name
                body = response.content
                shown[f"{stage} {name} {lang}"] = (
                    pdf_text(body) if name.endswith("pdf") else body.decode()
                )
        last_month = timezone.localdate().replace(day=1)
        report_args = [customer.slug, f"{last_month.year:04d}", f"{last_month.month:02d}"]
        names = ("console:sla_report", "console:sla_report_csv", "console:sla_report_pdf")
        for name in names if pdfs else names[:2]:
            response = portal.get(reverse(name, args=report_args))
            assert response.status_code == 200, name
            body = response.content
            shown[f"{stage} {name}"] = pdf_text(body) if name.endswith("pdf") else body.decode()
        result = render_status_page()
        for path in result.directory.rglob("*"):
            if path.is_file() and not path.name.startswith(".") and path.name != "manifest.json":
                shown[f"{stage} status {path.name}"] = path.read_text()

    walk_open_channels("open")
    with_title = [k for k, v in shown.items() if PUBLIC_TITLE in v or PUBLIC_TITLE_EN in v]
    # All but the update list (bodies only), the status page's component-only documents and its
    # maintenance documents (no window here).
    missing = set(shown) - set(with_title)
    assert missing == {
        f"open api /api/v1/incidents/{incident.pk}/updates/",
        "open status components.json",
        "open status status.json",
        "open status active.json",
        "open status upcoming.json",
        "open status scheduled-maintenances.json",
    }, sorted(missing)
    assert "Bitte laden Sie Rechnungen im Portal hoch." in shown["open portal:incident de"]
    assert "Ursache gefunden" in shown["open portal:incident de"]  # update bodies, redacted
    assert "Ursache gefunden" in shown["open status index.de.html"]

    incident_resolve(incident=incident, actor=manager, resolution="ZQRESOLUTION Neustart")
    walk_open_channels("resolved", pdfs=False)  # the PDFs are made of what these pages show

    # Every message to the customer side, rendered as it is sent (mail, chat, webhook JSON).
    messages = Notification.objects.filter(
        recipient=customer_contact
    ) | Notification.objects.filter(recipient__isnull=True)
    templates = set()
    for notification in messages:
        message = render(notification)
        templates.add(notification.template)
        payload = json.dumps(message.payload, ensure_ascii=False)
        shown[f"message {notification.pk} {notification.channel}"] = "\n".join(
            [message.subject, message.text, message.html, message.chat, payload]
        )
        assert notification.context["title"] in (PUBLIC_TITLE, PUBLIC_TITLE_EN)
    assert templates == {"customer_update", "customer_all_clear"}
    channels = {(n.channel, n.recipient_id is None) for n in messages}
    assert channels == {("email", False), ("webhook", False), ("email", True), ("webhook", True)}

    for where, text in shown.items():
        for secret in SECRETS:
            assert secret not in text, (where, secret)
