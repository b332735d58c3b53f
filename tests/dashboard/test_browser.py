"""The dashboard in a real Chromium: an executive logs in, reads the open escalation, sees a new
executive update arrive without reloading (htmx polling), and asks the escalation manager."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from escalation.models import Question
from incidents.models import Update
from notifications.models import Notification
from tests.browser.chromium import chromium
from tests.browser.test_console_flow import wait_for_text
from tests.factories import PASSWORD

from .conftest import make_escalation

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Set DASHBOARD_SCREENSHOTS=/some/dir to keep what the browser saw.
SCREENSHOTS = os.environ.get("DASHBOARD_SCREENSHOTS", "")


@pytest.fixture
def browser():
    with chromium(window="1280,1400") as driver:
        driver.implicitly_wait(2)
        yield driver


def test_executive_reads_live_state_and_asks_the_manager(live_server, browser, executive, manager):
    incident = make_escalation(title="Rechenzentrum Nord: Stromausfall", commander=manager)
    d = browser
    d.get(f"{live_server.url}/dashboard/")
    d.find_element("id", "id_username").send_keys(executive.username)
    d.find_element("id", "id_password").send_keys(PASSWORD)
    d.find_element("css selector", "main form button[type=submit]").click()
    wait_for_text(d, "#live", "Newest for executives: Rechenzentrum Nord")
    assert len(d.find_elements("css selector", "#live svg[role=img]")) == 5  # + MTTA, MTTW, MTTR

    Update.objects.create(
        incident=incident,
        audience="executive",
        body="Notstrom läuft, Kunden informiert",
        created_at=timezone.now() + timedelta(minutes=1),
    )
    wait_for_text(d, "#live", "Notstrom läuft, Kunden informiert", seconds=25)  # no reload
    if SCREENSHOTS:
        d.save_screenshot(str(Path(SCREENSHOTS) / "dashboard.png"))

    d.find_element("id", "q-text").send_keys("Müssen wir die Presse informieren?")
    d.find_element("css selector", "#q-incident").send_keys(f"#{incident.pk}")
    d.find_element("css selector", "form[action='/dashboard/questions/'] button").click()
    wait_for_text(d, "#questions", "Müssen wir die Presse informieren?")
    question = Question.objects.get()
    assert question.incident_id == incident.pk and question.asked_by_id == executive.pk
    assert list(
        Notification.objects.filter(template="question_asked").values_list("recipient", flat=True)
    ) == [manager.pk]
    if SCREENSHOTS:
        d.get(f"{live_server.url}/dashboard/?days=90")
        d.save_screenshot(str(Path(SCREENSHOTS) / "dashboard-90.png"))
