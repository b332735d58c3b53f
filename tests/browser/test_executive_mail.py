"""The communication lifecycle run in a real Chromium, checked in the mailboxes: an escalation
manager classifies, escalates, writes an executive update, provides a workaround and resolves in
the console; after each step the outbox is delivered over SMTP (aiosmtpd) and each executive has
exactly one new mail, in their own language, naming the step and linking the dashboard, the last
one the all-clear promising nothing more. (Customers and subscribers:
tests/browser/test_customer_mail.py.)"""

import pytest

from escalation import roles
from escalation.models import CommunicationRule
from notifications.models import Notification
from notifications.tasks import deliver
from tests.browser import steps
from tests.browser.chromium import chromium
from tests.browser.test_console_flow import wait_for_text
from tests.factories import IncidentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What each executive must read after each step: (subject contains, body contains).
EXPECTED = {
    "escalate": {
        "de": ("Eskaliert: Portal down", "eine Störung wurde eskaliert"),
        "en": ("Escalated: Portal down", "A disruption has been escalated"),
    },
    "update": {
        "de": ("Eskaliert: Portal down", "Ursache eingegrenzt, Fix in Arbeit."),
        "en": ("Escalated: Portal down", "Ursache eingegrenzt, Fix in Arbeit."),
    },
    "workaround": {
        "de": ("Workaround aktiv: Portal down", "ist ein Workaround aktiv"),
        "en": ("Workaround in place: Portal down", "A workaround is in place"),
    },
    "resolve": {
        "de": ("Entwarnung – Gelöst: Portal down", "Entwarnung: Die eskalierte Störung"),
        "en": ("All clear – Resolved: Portal down", "All clear: the escalated disruption"),
    },
}
PROMISE = {"de": "Nächste Information spätestens", "en": "Next update by"}


@pytest.fixture
def executives(executive):
    from django.contrib.auth.models import Group

    executive.language = "de"
    executive.save()
    english = UserFactory(username="ed.executive", language="en", time_zone="Europe/London")
    english.groups.add(Group.objects.get(name=roles.EXECUTIVE))
    return {"de": executive, "en": english}


def test_executives_get_each_step_in_their_language(
    live_server, settings, smtp_server, manager, executives
):
    settings.BASE_URL = live_server.url
    CommunicationRule.objects.create(
        audience="executives", channels=["email"], cadence_minutes=30, template="executive_update"
    )
    incident = IncidentFactory(
        services=[ServiceFactory(slug="portal", name="Kundenportal")],
        title="Portal down",
        actor=manager,
    )
    mailbox: dict[str, list] = {"de": [], "en": []}

    def delivered():
        for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
            deliver(pk)
        for message in smtp_server.messages:
            for language, person in executives.items():
                if person.email in message["To"] and message not in mailbox[language]:
                    mailbox[language].append(message)

    def check(step: str):
        delivered()
        for language in ("de", "en"):
            assert len(mailbox[language]) == list(EXPECTED).index(step) + 1, (step, language)
            mail = mailbox[language][-1]
            text = mail.get_body(("plain",)).get_content()
            subject, body = EXPECTED[step][language]
            assert subject in mail["Subject"], (step, language, mail["Subject"])
            assert body in text, (step, language, text)
            assert f"{live_server.url}/dashboard/" in text
            assert (PROMISE[language] in text) == (step != "resolve"), (step, language)

    with chromium(language="en") as d:
        steps.open_incident(d, live_server.url, manager, incident)
        steps.classify_and_escalate(d, impact="medium", urgency="medium", reason="Alle Kunden")
        check("escalate")

        d.find_element("css selector", "input[name=audience][value=executive]").click()
        d.find_element("id", "update-body").send_keys("Ursache eingegrenzt, Fix in Arbeit.")
        d.find_element("xpath", "//button[normalize-space()='Preview']").click()
        wait_for_text(d, "#preview", "Next update by")  # the preview promises as the mail does
        d.find_element("xpath", "//button[normalize-space()='Publish']").click()
        wait_for_text(d, ".messages", "The update was published.")
        check("update")

        steps.provide_workaround(d, "Bestellungen telefonisch annehmen.")
        check("workaround")

        steps.resolve(d, "Zertifikat erneuert.")
        check("resolve")

        d.get(f"{live_server.url}/console/incidents/{incident.pk}/communication/")
        wait_for_text(d, "#still-due", "Nothing more is due: the all-clear went out at")
