"""The incident page is live (a colleague's acknowledgement appears without reload, typed text
stays), and the console, dashboard and portal pages fit a phone (390 px, no horizontal scroll)."""

import pytest

from tests.browser.chromium import chromium, screenshot_dir
from tests.browser.steps import open_incident
from tests.browser.test_console_flow import wait_for_text
from tests.factories import PASSWORD, IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_colleagues_acknowledgement_appears_without_reload(live_server, manager, responder):
    incident = IncidentFactory(title="Live", commander=responder)
    with chromium() as mine, chromium() as theirs:
        open_incident(mine, live_server.url, manager, incident)
        body = mine.find_element("tag name", "body")
        body.send_keys("?")  # the shortcuts, listed
        assert mine.find_element("id", "shortcuts").get_attribute("open") is not None
        body = mine.find_element("tag name", "body")
        mine.find_element("css selector", "#shortcuts button").click()
        body.send_keys("u")  # "write an update" puts the cursor in the text
        mine.switch_to.active_element.send_keys("Half-written update")
        open_incident(theirs, live_server.url, responder, incident)
        # the first next step, open already
        theirs.find_element("css selector", "[data-action=acknowledge] button[type=submit]").click()
        wait_for_text(mine, "#incident-live", "Changed meanwhile by rolf.responder", seconds=20)
        assert "acknowledged" in mine.find_element("id", "timeline-list").text
        typed = mine.find_element("id", "update-body").get_attribute("value")
        assert typed == "Half-written update"  # the forms are not polled


PHONE_PAGES = {
    "manager": [
        "/console/",
        "/console/incidents/{pk}/",
        "/console/incidents/new/",
        "/console/incidents/{pk}/communication/",
        "/console/oncall/",
        "/console/matrix/",
        "/console/integrations/",
        "/console/integrations/{integration}/",
        "/console/questions/",
        "/console/reports/",
        "/console/maintenance/",
        "/console/problems/",
        "/console/continuity/processes/",
        "/console/reporting/",
        "/console/actions/",
        "/console/handbook/",
        "/console/incidents/{pk}/review/",
        "/console/oncall/{schedule}/",
        "/accounts/profile/",
    ],
    "executive": ["/dashboard/"],
    "customer_contact": ["/portal/", "/portal/incidents/{pk}/", "/portal/subscriptions/"],
}


# What sticks out (for the failure message): the outermost elements wider than the screen.
WIDEST = """return Array.from(document.querySelectorAll('main *')).filter(e =>
  e.getBoundingClientRect().right > 391 && e.parentElement.getBoundingClientRect().right <= 391
).slice(0, 5).map(e => e.outerHTML.slice(0, 120));"""


def test_every_page_fits_a_phone(live_server, request, customer):
    from escalation.models import OnCallSchedule
    from escalation.services.integrations import integration_create, integration_rules_set
    from incidents.models import State, User
    from tests.factories import ServiceFactory, drive

    service = ServiceFactory(name="Kundenportal Mein Rheinaue mit einem langen Namen")
    service.customers.add(customer)
    incident = IncidentFactory(title="Kundenportal: Login-Antwortzeiten über 8 Sekunden")
    incident.services.add(service)
    incident.customers.add(customer)
    drive(incident, State.ESCALATED)
    schedule = OnCallSchedule.objects.create(name="Plattform-Bereitschaft mit langem Namen")
    integration = integration_create(
        kind="alertmanager", service=service, name="Prometheus Rechenzentrum Nord mit langem Namen"
    )
    integration_rules_set(
        integration=integration,
        actor=None,
        group_labels=["alertname", "kubernetes_namespace", "kubernetes_pod_name", "cluster"],
        group_window=30,
        flap_window=10,
    )
    ids = {"pk": incident.pk, "schedule": schedule.pk, "integration": integration.pk}
    wide = []
    with chromium(window="500,844") as d:
        d.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
        )
        for language in ("de", "en"):  # German words are longer: both must fit
            for who, paths in PHONE_PAGES.items():
                user = request.getfixturevalue(who)
                User.objects.filter(pk=user.pk).update(language=language)
                d.delete_all_cookies()
                d.get(f"{live_server.url}/accounts/login/")
                d.find_element("id", "id_username").send_keys(user.username)
                d.find_element("id", "id_password").send_keys(PASSWORD)
                d.find_element("css selector", "main form button[type=submit]").click()
                wait_for_text(d, "header", user.username)  # signed in
                for path in paths:
                    d.get(live_server.url + path.format(**ids))
                    width = d.execute_script("return document.documentElement.scrollWidth")
                    if width > 390:
                        wide.append((language, path, width, d.execute_script(WIDEST)))
                    if language == "en" and path in ("/console/", "/console/incidents/{pk}/"):
                        name = "phone-board" if path == "/console/" else "phone-incident"
                        d.save_screenshot(str(screenshot_dir() / f"{name}.png"))
    assert not wide, f"wider than the phone (390 px): {wide}"
