"""Regulatory reporting in a real Chromium: an escalation manager assesses an incident as
NIS2-significant and as a GDPR personal data breach; both clocks show; the NIS2 early warning is
drafted and marked submitted, then the notification, and the final report's deadline follows.
The screenshot of the reporting page is the README's (UPDATE_SCREENSHOTS=1)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.regulatory.models import Report
from tests.browser import steps
from tests.browser.chromium import chromium, screenshot_dir
from tests.browser.test_console_flow import wait_for_text
from tests.factories import CustomerFactory, IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _assess(d, regime: str, reason: str, criteria: list[str], personal_data: str = "") -> None:
    section = d.find_element("css selector", f"section[data-regime={regime}]")
    for key in criteria:
        section.find_element("css selector", f"input[type=checkbox][value={key}]").click()
    if personal_data:
        section.find_element(
            "css selector", f"select[name$=personal_data] option[value={personal_data}]"
        ).click()
    section.find_element("css selector", "input[name$=decision][value=reportable]").click()
    section.find_element("css selector", "textarea[name$=reason]").send_keys(reason)
    section.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "main", "The assessment was recorded on the timeline.")


def _submit(d, report: str, reference: str) -> None:
    d.find_element("css selector", f"tr[data-report='{report}'] a").click()
    wait_for_text(d, "h1", "NIS2")
    d.find_element("css selector", "input[name=reference]").send_keys(reference)
    d.find_element("css selector", "form[action$='/submit/'] button[type=submit]").click()
    wait_for_text(d, "main", "The report is marked submitted; its text is frozen.")


def test_nis2_and_gdpr_clocks_run_and_the_early_warning_is_submitted(live_server, manager):
    shop = ServiceFactory(slug="webshop", name="Webshop-Hosting")
    customer = CustomerFactory(name="Modehaus Kranz", slug="modehaus-kranz")
    incident = IncidentFactory(
        actor=manager,
        title="Datenbank-Cluster ausgefallen, Kundendaten möglicherweise einsehbar",
        services=[shop],
        customers=[customer],
    )
    incident.detected_at = timezone.now() - timedelta(hours=2, minutes=50)
    incident.save(update_fields=["detected_at"])

    with chromium(language="en", window="1280,1400") as d:
        steps.open_incident(d, live_server.url, manager, incident)
        wait_for_text(d, "#regulatory-reporting", "Regulatory reporting")
        d.find_element("link text", "Reportable? Assess and draft the reports").click()
        wait_for_text(d, "h1", "Regulatory reporting")

        _assess(d, "nis2", "Webshop 3 h down for all hosting customers", ["unavailable_30min"])
        _assess(
            d,
            "gdpr",
            "Customer addresses were readable without login",
            ["personal_data", "breach", "risk"],
            personal_data="yes",
        )
        wait_for_text(d, "li[data-report='nis2.early_warning']", "due in 21 h")
        wait_for_text(d, "li[data-report='gdpr.notification']", "due in 2 d 21 h")
        d.save_screenshot(str(screenshot_dir() / "regulatory-deadlines.png"))

        d.find_element("css selector", "tr[data-report='nis2.early_warning'] a").click()
        wait_for_text(d, "h1", "Early warning")
        draft = d.find_element("css selector", "textarea[name=text_en]")
        assert incident.title in draft.get_attribute("value")
        draft.send_keys("\nNo indication of a malicious act so far.")
        d.find_element("css selector", "form.card button[type=submit]").click()
        wait_for_text(d, "main", "The draft was saved.")
        d.find_element("css selector", "input[name=reference]").send_keys("BSI-2026-0815")
        d.find_element("css selector", "form[action$='/submit/'] button[type=submit]").click()
        wait_for_text(d, "main", "The report is marked submitted; its text is frozen.")

        early = Report.objects.get(
            report_type__regime__code="nis2", report_type__code="early_warning"
        )
        assert early.state == Report.State.SUBMITTED and early.reference == "BSI-2026-0815"
        assert early.text_en.endswith("No indication of a malicious act so far.")
        clocks = d.find_element("css selector", "#reg-deadlines").find_element("xpath", "..")
        assert "Early warning" not in clocks.text
        assert "Incident notification" in clocks.text and "Notification to the" in clocks.text

        _submit(d, "nis2.notification", "BSI-2026-0816")
        wait_for_text(d, "li[data-report='nis2.final']", "due in ")
        final = Report.objects.get(report_type__regime__code="nis2", report_type__code="final")
        assert final.due_at.date() > (timezone.now() + timedelta(days=27)).date()
