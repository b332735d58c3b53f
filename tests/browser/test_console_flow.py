"""A new user in a real Chromium: logs in, creates an incident, classifies, escalates, writes a
customer update, provides a workaround, resolves; a second tab with the board follows each step
without a reload. Screenshots of the board and the incident page: see screenshot_dir()."""

import pytest

from incidents.models import Incident
from tests.browser.chromium import chromium, screenshot_dir
from tests.factories import PASSWORD, CustomerFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What the user reads and clicks, in both languages the product ships.
TEXT = {
    "en": {
        "board": "Active incidents",
        "Classify": "Classify",
        "Escalate": "Escalate",
        "Provide workaround": "Provide workaround",
        "Resolve": "Resolve",
        "Preview": "Preview",
        "Publish": "Publish",
        "Detected": "Detected",
        "Classified": "Classified",
        "Escalated": "Escalated",
        "Workaround": "Workaround",
        "Resolved": "Resolved",
        "published": "The update was published.",
        "publish for customers": "Publish for customers",
        "published for customers": "Published for customers.",
        "empty": "No open incidents",
    },
    "de": {
        "board": "Aktive Vorfälle",
        "Classify": "Klassifizieren",
        "Escalate": "Eskalieren",
        "Provide workaround": "Workaround bereitstellen",
        "Resolve": "Lösen",
        "Preview": "Vorschau",
        "Publish": "Veröffentlichen",
        "Detected": "Erkannt",
        "Classified": "Klassifiziert",
        "Escalated": "Eskaliert",
        "Workaround": "Workaround",
        "Resolved": "Gelöst",
        "published": "Die Statusmeldung wurde veröffentlicht.",
        "publish for customers": "Für Kunden veröffentlichen",
        "published for customers": "Für Kunden veröffentlicht.",
        "empty": "Keine offenen Vorfälle",
    },
}


@pytest.fixture(params=["en", "de"])
def language(request):
    return request.param


@pytest.fixture
def browser(language):
    with chromium(language=language) as driver:
        driver.implicitly_wait(2)
        yield driver


def wait_for_text(driver, css: str, text: str, seconds: float = 12):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    present = ec.text_to_be_present_in_element(("css selector", css), text)

    def settled(driver) -> bool:
        """htmx may swap the element between finding it and reading it: Chromium then reports
        a node that no longer belongs to the document (not a stale-element error). Look again."""
        try:
            return present(driver)
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return False
            raise

    WebDriverWait(driver, seconds).until(settled)


def open_step(driver, label: str):
    summary = driver.find_element("xpath", f"//summary[normalize-space()='{label}']")
    summary.click()
    return summary.find_element("xpath", "..")


def test_new_user_reaches_a_resolved_incident_and_the_board_follows(
    live_server, browser, language, manager
):
    t = TEXT[language]
    customer = CustomerFactory(slug="stadtwerke", name="Stadtwerke")
    ServiceFactory(slug="portal", name="Kundenportal").customers.add(customer)
    d = browser
    d.get(f"{live_server.url}/")
    d.find_element("id", "id_username").send_keys(manager.username)
    d.find_element("id", "id_password").send_keys(PASSWORD)
    d.find_element("css selector", "main form button[type=submit]").click()
    wait_for_text(d, "h1", t["board"])
    board = d.current_window_handle

    d.switch_to.new_window("tab")
    d.get(f"{live_server.url}/console/incidents/new/")
    incident_tab = d.current_window_handle
    d.find_element("id", "id_title").send_keys("Kundenportal: Login schlägt fehl")
    d.find_element("id", "id_description").send_keys("Seit 09:12 Fehler 502 beim Login.")
    d.find_element("xpath", "//label[contains(., 'Kundenportal')]/input").click()
    d.find_element("css selector", "main form button[type=submit]").click()
    wait_for_text(d, "#state", t["Detected"])
    incident = Incident.objects.get()

    def board_shows(text):
        d.switch_to.window(board)
        wait_for_text(d, "#board", text)
        d.switch_to.window(incident_tab)

    board_shows("Kundenportal: Login schlägt fehl")

    step = open_step(d, t["Classify"])
    step.find_element("css selector", "select[name=classify-impact] option[value=medium]").click()
    step.find_element("css selector", "select[name=classify-urgency] option[value=medium]").click()
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", t["Classified"])
    board_shows(t["Classified"])

    step = open_step(d, t["Escalate"])
    step.find_element("css selector", "textarea[name=escalate-reason]").send_keys("Alle Kunden")
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", t["Escalated"])
    board_shows(t["Escalated"])

    # Customers hear nothing until a person publishes: the form comes prefilled with the
    # service's standard texts in both languages.
    publish = d.find_element("id", "publish-form")
    assert publish.find_element("id", "id_title").get_attribute("value") == "Störung: Kundenportal"
    publish.find_element("id", "id_title").clear()
    publish.find_element("id", "id_title").send_keys("Kundenportal: Anmeldung gestört")
    d.execute_script("arguments[0].scrollIntoView()", d.find_element("id", "public-face"))
    suffix = "" if language == "en" else f"-{language}"
    d.save_screenshot(str(screenshot_dir() / f"console-publish{suffix}.png"))
    publish.find_element(
        "xpath", f".//button[normalize-space()='{t['publish for customers']}']"
    ).click()
    wait_for_text(d, ".messages", t["published for customers"])
    assert incident.public_incidents.get().title == "Kundenportal: Anmeldung gestört"

    composer = d.find_element("css selector", "section[aria-labelledby=composer]")
    composer.find_element("css selector", "input[name=audience][value=customer]").click()
    composer.find_element("id", "update-body").send_keys("Wir arbeiten an einer Lösung.")
    composer.find_element("xpath", f".//button[normalize-space()='{t['Preview']}']").click()
    wait_for_text(d, "#preview", "Wir arbeiten an einer Lösung.")
    composer = d.find_element("css selector", "section[aria-labelledby=composer]")
    composer.find_element("xpath", f".//button[normalize-space()='{t['Publish']}']").click()
    wait_for_text(d, ".messages", t["published"])

    step = open_step(d, t["Provide workaround"])
    step.find_element("css selector", "textarea[name=provide_workaround-workaround]").send_keys(
        "Login über die App funktioniert."
    )
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", t["Workaround"])
    board_shows(t["Workaround"])
    shots = screenshot_dir()
    suffix = "" if language == "en" else f"-{language}"
    d.save_screenshot(str(shots / f"console-incident{suffix}.png"))
    d.switch_to.window(board)
    d.save_screenshot(str(shots / f"console-board{suffix}.png"))
    d.switch_to.window(incident_tab)

    step = open_step(d, t["Resolve"])
    step.find_element("css selector", "textarea[name=resolve-resolution]").send_keys(
        "Loadbalancer-Zertifikat erneuert."
    )
    d.execute_script("window.confirm = () => true")
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", t["Resolved"])
    d.switch_to.window(board)
    wait_for_text(d, "#board", t["empty"])

    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.workaround.startswith("Login über")
    assert incident.updates.get().audience == "customer"
