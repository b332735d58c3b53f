"""Business continuity in a real Chromium: an incident opened through the API on a service that
supports a customer's business process; the escalation manager sees the process with its RTO/MTPD
countdowns, applies the offered runbook, records the customer's acceptance, and the customer's
contact reads the workaround in the portal in customer words. Screenshots for the README:
continuity-panel.png and continuity-portal.png (see screenshot_dir())."""

import pytest
from django.test import Client

from escalation.continuity.models import Workaround
from escalation.continuity.services import process_create, runbook_create
from incidents.models import Incident
from tests.browser.chromium import chromium, screenshot_dir
from tests.browser.steps import classify_and_escalate, open_incident
from tests.browser.test_console_flow import wait_for_text
from tests.continuity.conftest import STEPS
from tests.factories import PASSWORD, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_manager_applies_the_runbook_and_the_customer_reads_the_workaround(
    live_server, manager, customer_contact, customer
):
    service = ServiceFactory(slug="ablesung", name="Ablesung")
    service.customers.add(customer)
    process = process_create(
        actor=manager,
        name="Zählerstandserfassung",
        slug="zaehlerstandserfassung",
        rto_minutes=60,
        mtpd_minutes=240,
        services=[service],
        customers=[customer],
    )
    runbook_create(
        actor=manager,
        title="Zählerstände per Telefon",
        process=process,
        steps=STEPS,
        performer="Kundenservice",
        customer_text_de="Bitte geben Sie Zählerstände vorübergehend telefonisch durch.",
        customer_text_en="Please report meter readings by phone for the time being.",
        limitations="Nur werktags 8-18 Uhr",
    )
    api = Client()
    api.force_login(manager)
    response = api.post(
        "/api/v1/incidents/",
        {
            "title": "Ablesung: Zählerstände werden nicht angenommen",
            "services": [service.slug],
            "customers": [customer.slug],
        },
        "application/json",
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()

    with chromium(language="en", window="1280,1400") as d:
        open_incident(d, live_server.url, manager, incident)
        panel = d.find_element("css selector", "section[aria-labelledby=continuity]")
        assert "Zählerstandserfassung" in panel.text and "left" in panel.text  # RTO countdown
        classify_and_escalate(d, impact="medium", urgency="medium", reason="Abrechnung in Gefahr")
        publish = d.find_element("id", "publish-form")
        publish.find_element("css selector", "button[type=submit]").click()
        wait_for_text(d, ".messages", "Published for customers.")

        panel = d.find_element("css selector", "section[aria-labelledby=continuity]")
        panel.find_element(
            "xpath", ".//button[normalize-space()='Apply runbook “Zählerstände per Telefon”']"
        ).click()
        wait_for_text(d, "#state", "Workaround in place")
        panel = d.find_element("css selector", "section[aria-labelledby=continuity]")
        assert "Runbook Zählerstände per Telefon, version 1" in panel.text
        form = panel.find_element("css selector", "form[action$='/concession/']")
        form.find_element("css selector", f"option[value='{customer.pk}']").click()
        form.find_element("css selector", "input[name=accepted_by]").send_keys(
            "Frau Berg (Leitung Abrechnung)"
        )
        form.find_element("css selector", "textarea[name=conditions]").send_keys(
            "Bis zum Monatsabschluss"
        )
        form.find_element("css selector", "button[type=submit]").click()
        wait_for_text(d, ".messages", "The customer's acceptance was recorded.")
        panel = d.find_element("css selector", "section[aria-labelledby=continuity]")
        d.execute_script("arguments[0].scrollIntoView()", panel)
        d.save_screenshot(str(screenshot_dir() / "continuity-panel.png"))

        d.delete_all_cookies()  # the customer's contact, in the same browser
        d.get(f"{live_server.url}/accounts/login/")
        d.find_element("id", "id_username").send_keys(customer_contact.username)
        d.find_element("id", "id_password").send_keys(PASSWORD)
        d.find_element("css selector", "main form button[type=submit]").click()
        wait_for_text(d, "header", customer_contact.username)  # signed in before going on
        d.get(f"{live_server.url}/portal/")
        wait_for_text(d, "section[aria-labelledby=processes]", "running with a workaround")
        section = d.find_element("css selector", "section[aria-labelledby=processes]")
        assert "Please report meter readings by phone for the time being." in section.text
        # The public face's workaround update carries the runbook's English text too.
        assert "Bitte geben Sie" not in d.find_element("css selector", "main").text
        d.save_screenshot(str(screenshot_dir() / "continuity-portal.png"))

    record = Workaround.objects.get()
    assert record.runbook_version.number == 1 and record.decided_by == manager
    assert record.concessions.get().accepted_by == "Frau Berg (Leitung Abrechnung)"
