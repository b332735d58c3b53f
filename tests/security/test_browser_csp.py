"""The Content-Security-Policy breaks nothing: every kind of page in a real Chromium, with the
policy in force, reports no refused script, style or connection, and what used to be inline
script (language switch, confirmations, copying the notice) works from console/site.js."""

import time

import pytest
from django.conf import settings
from django.test import Client

from incidents.models import State
from tests.browser.chromium import chromium
from tests.factories import IncidentFactory, drive

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def sign_in(driver, live_server, user):
    client = Client()
    client.force_login(user)
    driver.get(f"{live_server.url}/accounts/login/")
    driver.add_cookie(
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        }
    )


def policy_errors(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def test_every_kind_of_page_runs_under_the_policy(live_server, manager, customer_contact, customer):
    incident = drive(
        IncidentFactory(actor=manager, customers=[customer], commander=manager),
        State.ESCALATED,
        actor=manager,
    )
    pages = {
        manager: [
            "/console/",
            f"/console/incidents/{incident.pk}/",
            f"/console/incidents/{incident.pk}/communication/",
            "/console/matrix/",
            "/console/oncall/",
            "/console/reports/",
            "/dashboard/",
            "/admin/",
            f"/admin/incidents/incident/{incident.pk}/change/",
            f"/admin/incidents/incident/{incident.pk}/action/resolve/",
            "/api/v1/docs/",
            "/status/",
            "/subscribe/",
        ],
        customer_contact: [
            "/portal/",
            f"/portal/incidents/{incident.pk}/",
            "/portal/subscriptions/",
        ],
    }
    with chromium() as driver:
        for user, paths in pages.items():
            driver.delete_all_cookies()
            sign_in(driver, live_server, user)
            for path in paths:
                driver.get(f"{live_server.url}{path}")
                time.sleep(0.3)  # htmx's first requests, Swagger UI's script
                assert policy_errors(driver) == [], path
        # Swagger UI really rendered (its start script is a file of its own now).
        driver.get(f"{live_server.url}/api/v1/docs/")
        driver.implicitly_wait(5)
        assert driver.find_element("css selector", ".swagger-ui .info")


def test_site_js_replaces_the_inline_handlers(live_server, manager, customer_contact, customer):
    incident = drive(
        IncidentFactory(actor=manager, customers=[customer], commander=manager),
        State.ESCALATED,
        actor=manager,
    )
    with chromium() as driver:
        driver.implicitly_wait(3)
        sign_in(driver, live_server, manager)
        driver.get(f"{live_server.url}/console/incidents/{incident.pk}/")
        # The language switch submits on change.
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element("id", "language")).select_by_value("de")
        for _ in range(50):
            if driver.find_element("tag name", "html").get_attribute("lang") == "de":
                break
            time.sleep(0.1)
        assert driver.find_element("tag name", "html").get_attribute("lang") == "de"
        # A confirmation that is declined submits nothing.
        driver.execute_script("window.confirm = () => false")
        button = driver.find_element("css selector", "button[data-confirm]")
        driver.execute_script("arguments[0].closest('details').open = true", button)
        button.click()
        time.sleep(0.5)
        incident.refresh_from_db()
        assert incident.state == State.ESCALATED
        assert policy_errors(driver) == []
