"""The handbook and the dossier as a reader sees them, in Chromium: the escalation manager opens
the process handbook, and the dossier's first page (the HTML WeasyPrint prints, opened as a
file). Screenshots for the README: see tests.browser.chromium.screenshot_dir()."""

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from escalation.evidence.dossier import incident_dossier
from escalation.evidence.selectors import dossier_incidents_for
from escalation.evidence.views import with_datetimes
from escalation.models import CommunicationRule, EscalationLevel, EscalationPolicy
from escalation.services import incident_acknowledge, incident_classify
from tests.browser.chromium import chromium, screenshot_dir
from tests.browser.test_console_flow import wait_for_text
from tests.factories import PASSWORD, IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_manager_reads_the_handbook_and_a_dossiers_first_page(live_server, manager, responder):
    service = ServiceFactory(slug="kundenportal", name="Kundenportal")
    policy = EscalationPolicy.objects.create(name="Kundenportal", repeat=0)
    policy.services.add(service)
    EscalationLevel.objects.create(policy=policy, position=0).users.add(responder)
    CommunicationRule.objects.create(audience="responders", channels=["email"], cadence_minutes=30)
    incident = IncidentFactory(
        title="Kundenportal: Login schlägt fehl", services=[service], actor=manager
    )
    incident = incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
    incident_acknowledge(incident=incident, actor=responder)
    incident = dossier_incidents_for(manager).get(pk=incident.pk)
    with translation.override("en"), timezone.override("Europe/Berlin"):
        dossier = incident_dossier(incident, at=timezone.now(), full=True)
        html = render_to_string(
            "evidence/dossier_pdf.html",
            {"dossier": with_datetimes(dossier), "script": dossier["timeline"]["script"]},
        )
    page = screenshot_dir() / "dossier-first-page.html"
    page.write_text(html, encoding="utf-8")

    with chromium(language="en", window="1000,1300") as d:
        d.implicitly_wait(2)
        d.get(f"{live_server.url}/accounts/login/")
        d.find_element("id", "id_username").send_keys(manager.username)
        d.find_element("id", "id_password").send_keys(PASSWORD)
        d.find_element("css selector", "main form button[type=submit]").click()
        wait_for_text(d, "h1", "Active incidents")
        d.get(f"{live_server.url}/console/handbook/")
        wait_for_text(d, "h1", "Process handbook")
        wait_for_text(d, "#communication", "every 30 minutes")
        d.save_screenshot(str(screenshot_dir() / "handbook.png"))

        d.get(page.as_uri())
        wait_for_text(d, "body", "hash chain intact")
        d.save_screenshot(str(screenshot_dir() / "dossier.png"))
    page.unlink()
