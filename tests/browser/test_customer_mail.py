"""The customer side of the communication lifecycle, run in a real Chromium and checked in the
mailboxes (aiosmtpd): an escalation manager classifies and escalates (customers hear nothing),
publishes the disruption for customers, writes a customer update, provides a workaround with a
customer text and resolves. After each step the outbox is delivered over SMTP, and a German
customer contact and an English anonymous subscriber each have exactly one new mail: the public
title and status in their language, never the internal title or another organisation's name,
links to the status page (and the contact's portal page), and at the end the all-clear that
promises nothing more. Executives: tests/browser/test_executive_mail.py."""

import pytest

from escalation.models import CommunicationRule
from notifications.models import Notification, Subscription
from notifications.tasks import deliver
from tests.browser import steps
from tests.browser.chromium import chromium
from tests.browser.test_console_flow import wait_for_text
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

INTERNAL_TITLE = "Logistik Süd: Zertifikat auf lb-07 abgelaufen"
PUBLIC_TITLE = {"de": "Kundenportal: Anmeldung gestört", "en": "Customer portal: sign-in failing"}
# What each recipient must read after each step: (subject contains, body contains).
EXPECTED = {
    "publish": {
        "de": ("Wird untersucht", PUBLIC_TITLE["de"]),
        "en": ("Investigating", PUBLIC_TITLE["en"]),
    },
    "update": {
        "de": ("Wird untersucht", "Wir arbeiten an einer Lösung."),
        "en": ("Investigating", "Wir arbeiten an einer Lösung."),
    },
    "workaround": {
        "de": ("Ursache gefunden", "Bitte melden Sie sich über die App an."),
        "en": ("Identified", "Bitte melden Sie sich über die App an."),
    },
    "resolve": {
        "de": (f"Behoben: {PUBLIC_TITLE['de']}", "Entwarnung"),
        "en": (f"Resolved: {PUBLIC_TITLE['en']}", "All clear"),
    },
}
PROMISE = {"de": "Nächste Information spätestens", "en": "Next update by"}


def test_a_contact_and_a_subscriber_get_each_step_in_their_language(
    live_server, settings, smtp_server, manager, customer, other_customer, customer_contact
):
    settings.BASE_URL = live_server.url
    customer_contact.language = "de"
    customer_contact.save()
    portal = ServiceFactory(slug="portal", name="Kundenportal")
    portal.customers.add(customer)
    CommunicationRule.objects.create(
        audience="customers", channels=["email"], cadence_minutes=30, template="customer_update"
    )
    Subscription.objects.create(
        channel="email",
        address="leser@example.org",
        scope="service:portal",
        scope_label="Kundenportal",
        language="en",
        confirmed_at="2026-11-01T00:00:00Z",
    )
    incident = IncidentFactory(
        services=[portal], customers=[customer], title=INTERNAL_TITLE, actor=manager
    )
    recipients = {"de": customer_contact.email, "en": "leser@example.org"}
    mailbox: dict[str, list] = {"de": [], "en": []}

    def delivered():
        for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
            deliver(pk)
        for message in smtp_server.messages:
            for language, address in recipients.items():
                if address in message["To"] and message not in mailbox[language]:
                    mailbox[language].append(message)

    def check(step: str):
        delivered()
        for language in ("de", "en"):
            assert len(mailbox[language]) == list(EXPECTED).index(step) + 1, (step, language)
            mail = mailbox[language][-1]
            text = mail.get_body(("plain",)).get_content()
            subject, body = EXPECTED[step][language]
            assert subject in mail["Subject"], (step, language, mail["Subject"])
            assert PUBLIC_TITLE[language] in mail["Subject"], (step, language, mail["Subject"])
            assert body in text, (step, language, text)
            for secret in ("lb-07", "Logistik", other_customer.name, "Eskaliert", "Escalated"):
                assert secret not in text and secret not in mail["Subject"], (step, secret)
            assert (PROMISE[language] in text) == (step != "resolve"), (step, language, text)
            if step != "resolve":
                assert f"{live_server.url}/status/" in text, (step, language)
        contact_text = mailbox["de"][-1].get_body(("plain",)).get_content()
        if step != "resolve":
            assert f"{live_server.url}/portal/incidents/{incident.pk}/" in contact_text
        subscriber = mailbox["en"][-1]
        assert subscriber["List-Unsubscribe"] and "/portal/" not in str(subscriber)

    with chromium(language="en") as d:
        steps.open_incident(d, live_server.url, manager, incident)
        steps.classify_and_escalate(d, impact="high", urgency="low", reason="Alle Kunden")
        delivered()
        assert mailbox == {"de": [], "en": []}  # nothing reaches customers before publishing

        publish = d.find_element("id", "publish-form")
        publish.find_element("id", "id_title").clear()
        publish.find_element("id", "id_title").send_keys(PUBLIC_TITLE["de"])
        publish.find_element("id", "id_title_en").clear()
        publish.find_element("id", "id_title_en").send_keys(PUBLIC_TITLE["en"])
        publish.find_element(
            "xpath", ".//button[normalize-space()='Publish for customers']"
        ).click()
        wait_for_text(d, ".messages", "Published for customers.")
        check("publish")

        composer = d.find_element("css selector", "section[aria-labelledby=composer]")
        composer.find_element("css selector", "input[name=audience][value=customer]").click()
        composer.find_element("id", "update-body").send_keys("Wir arbeiten an einer Lösung.")
        composer.find_element("xpath", ".//button[normalize-space()='Publish']").click()
        wait_for_text(d, ".messages", "The update was published.")
        check("update")

        steps.provide_workaround(
            d, "lb-07 aus dem Pool genommen.", "Bitte melden Sie sich über die App an."
        )
        check("workaround")

        steps.resolve(d, "Zertifikat auf lb-07 erneuert.")
        check("resolve")
