"""Problem management in a real Chromium: a new incident on a service with a known error shows
the known error and its workaround at once; the manager links the incident to the problem from
the incident page and reads the problem (root cause, linked incidents, history). Screenshots of
both pages: see screenshot_dir()."""

import pytest

from escalation.problems.services import problem_create, problem_transition
from tests.browser import steps
from tests.browser.chromium import chromium, screenshot_dir
from tests.browser.test_console_flow import wait_for_text
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WORKAROUND = "Abrechnungsexport anhalten und nach 03:00 neu starten."


def test_a_known_error_shows_on_a_new_incident_and_the_incident_is_linked(live_server, manager):
    portal = ServiceFactory(name="Kundenportal Mein Rheinaue", slug="kundenportal")
    history = [
        IncidentFactory(
            title=f"Zählerstand speichert nicht ({n})", services=[portal], actor=manager
        )
        for n in (1, 2)
    ]
    problem = problem_create(
        actor=manager,
        statement="Zählerstandserfassung bricht nachts ab",
        incidents=history,
        root_cause="Der nächtliche Export sperrt die Tabelle der Zählerstände.",
        root_cause_method="five_whys",
        root_cause_analysis={
            "whys": [
                "Speichern scheitert: die Datenbank antwortet nicht.",
                "Die Tabelle ist gesperrt.",
                "Der Export sperrt die ganze Tabelle.",
            ]
        },
        workaround=WORKAROUND,
    )
    problem_transition(problem=problem, action="known_error", actor=manager)
    incident = IncidentFactory(
        title="Zählerstand speichert nicht (3)", services=[portal], actor=manager
    )

    with chromium() as d:
        steps.open_incident(d, live_server.url, manager, incident)
        wait_for_text(d, "#known-errors", WORKAROUND)
        d.execute_script("document.getElementById('problem-panel').scrollIntoView()")
        d.save_screenshot(str(screenshot_dir() / "console-known-error.png"))

        d.find_element("xpath", "//button[normalize-space()='Link to this problem']").click()
        wait_for_text(d, "#problem-panel", "Caused by")
        d.get(f"{live_server.url}/console/problems/{problem.pk}/")
        wait_for_text(d, "#problem-state", "Known error")
        wait_for_text(d, "main", "Zählerstand speichert nicht (3)")
        d.save_screenshot(str(screenshot_dir() / "console-problem.png"))
    assert incident.problem_link.problem == problem
