"""The escalation manager's steps in the console, in English, as the browser tests that check
mailboxes take them (tests/browser/test_customer_mail.py, test_executive_mail.py)."""

from tests.browser.test_console_flow import open_step, wait_for_text
from tests.factories import PASSWORD


def open_incident(d, base_url: str, user, incident) -> None:
    """Log in and open the incident's page."""
    d.implicitly_wait(2)
    d.get(f"{base_url}/accounts/login/")
    d.find_element("id", "id_username").send_keys(user.username)
    d.find_element("id", "id_password").send_keys(PASSWORD)
    d.find_element("css selector", "main form button[type=submit]").click()
    wait_for_text(d, "h1", "Active incidents")
    d.get(f"{base_url}/console/incidents/{incident.pk}/")
    wait_for_text(d, "#state", "Detected")


def classify_and_escalate(d, *, impact: str, urgency: str, reason: str) -> None:
    step = open_step(d, "Classify")
    step.find_element(
        "css selector", f"select[name=classify-impact] option[value={impact}]"
    ).click()
    step.find_element(
        "css selector", f"select[name=classify-urgency] option[value={urgency}]"
    ).click()
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", "Classified")
    step = open_step(d, "Escalate")
    step.find_element("css selector", "textarea[name=escalate-reason]").send_keys(reason)
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", "Escalated")


def provide_workaround(d, workaround: str, customer_text: str = "") -> None:
    step = open_step(d, "Provide workaround")
    step.find_element("css selector", "textarea[name=provide_workaround-workaround]").send_keys(
        workaround
    )
    if customer_text:
        step.find_element(
            "css selector", "textarea[name=provide_workaround-customer_text]"
        ).send_keys(customer_text)
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", "Workaround in place")


def resolve(d, resolution: str) -> None:
    step = open_step(d, "Resolve")
    step.find_element("css selector", "textarea[name=resolve-resolution]").send_keys(resolution)
    d.execute_script("window.confirm = () => true")
    step.find_element("css selector", "button[type=submit]").click()
    wait_for_text(d, "#state", "Resolved")
