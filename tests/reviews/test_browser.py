"""The one browser test of reviews: an escalation manager reads an approved review with its
actions in the console; its screenshot is the README's picture of a PIR (screenshot_dir())."""

from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.reviews.models import Action
from escalation.reviews.services import action_create, review_edit
from escalation.services import incident_resolve
from incidents.models import State
from tests.browser.chromium import chromium, screenshot_dir
from tests.browser.test_console_flow import wait_for_text
from tests.factories import PASSWORD, IncidentFactory, ServiceFactory, drive, review_approved

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_approved_review_reads_well_in_the_console(live_server, manager):
    service = ServiceFactory(slug="kundenportal", name="Kundenportal")
    incident = drive(
        IncidentFactory(title="Kundenportal nach RZ-Failover nicht erreichbar", services=[service]),
        State.WORKAROUND,
        actor=manager,
    )
    incident = incident_resolve(
        incident=incident, actor=manager, resolution="Zertifikate im Load Balancer erneuert"
    )
    review = incident.pir
    review_edit(
        review=review,
        actor=manager,
        summary="Nach dem geplanten Failover lieferte der Load Balancer abgelaufene "
        "Zertifikate aus; das Kundenportal war 3 Stunden nicht erreichbar.",
        customer_impact="Rund 40.000 Endkunden konnten keine Zählerstände melden.",
        root_cause="Die Zertifikatsablage im RZ Nord war nicht Teil der Failover-Checkliste.",
        went_well="Wartungsseite mit Hotline nach 25 Minuten.",
        went_badly="Diagnose begann beim Portal statt beim Load Balancer.",
    )
    today = timezone.localdate()
    action_create(
        actor=manager,
        review=review,
        title="Zertifikate zentral im Vault, Abgleich beider RZ",
        kind=Action.Kind.CORRECTIVE,
        owner=manager,
        due_on=today + timedelta(days=10),
        check_on=today + timedelta(days=100),
        check_criterion="Keine Störung durch Zertifikate für 90 Tage",
    )
    review_approved(incident)
    with chromium(language="en", window="1280,1800") as d:
        d.implicitly_wait(2)
        d.get(f"{live_server.url}/accounts/login/")
        d.find_element("id", "id_username").send_keys(manager.username)
        d.find_element("id", "id_password").send_keys(PASSWORD)
        d.find_element("css selector", "main form button[type=submit]").click()
        wait_for_text(d, "h1", "Active incidents")  # signed in
        d.get(f"{live_server.url}/console/incidents/{incident.pk}/review/")
        wait_for_text(d, "main", "Approved")
        wait_for_text(d, "main", "Zertifikate zentral im Vault")
        d.save_screenshot(str(screenshot_dir() / "console-review.png"))
