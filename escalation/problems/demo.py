"""Demo data of problem management (called at the end of load_demo): one known error in the
customer portal's meter-reading upload, with three linked historical incidents. Idempotent: a
second run finds the problem and does nothing."""

from datetime import timedelta

import time_machine
from django.db import transaction
from django.utils import timezone

from escalation.services import incident_classify, incident_close, incident_resolve
from incidents.models import Service, User
from incidents.services import incident_create

from .models import Problem
from .services import problem_create, problem_link_incident, problem_transition

SERVICE = "kundenportal-rheinaue"
STATEMENT = "Zählerstandserfassung im Kundenportal bricht nachts mit Zeitüberschreitung ab"
INCIDENTS = [  # (days ago, title)
    (27, "Kundenportal: Zählerstand speichern schlägt fehl (Timeout)"),
    (16, "Mein Rheinaue: Zählerstände werden nicht übernommen"),
    (5, "Kundenportal langsam, Zählerstandserfassung bricht ab"),
]
PROBLEM = {
    "description": "Dreimal in vier Wochen: zwischen 01:00 und 03:00 laufen Speichervorgänge der "
    "Zählerstandserfassung in eine Zeitüberschreitung; tagsüber tritt der Fehler nicht auf.",
    "root_cause": "Der nächtliche Abrechnungsexport sperrt die Tabelle der Zählerstände für "
    "mehrere Minuten (Tabellen- statt Zeilensperre).",
    "root_cause_method": "five_whys",
    "root_cause_analysis": {
        "whys": [
            "Warum schlägt das Speichern fehl? Die Datenbank antwortet nicht innerhalb von 30 s.",
            "Warum antwortet sie nicht? Die Tabelle der Zählerstände ist gesperrt.",
            "Warum ist sie gesperrt? Der Abrechnungsexport läuft und sperrt die ganze Tabelle.",
            "Warum die ganze Tabelle? Der Export nutzt LOCK TABLE statt Snapshot-Isolation.",
            "Warum nachts? Der Export ist für 01:30 geplant, zur Zeit der Smart-Meter-Uploads.",
        ]
    },
    "workaround": "Abrechnungsexport im Scheduler anhalten und nach 03:00 neu starten; Kunden "
    "bitten, Zählerstände tagsüber zu erfassen.",
    "alert_labels": {"alertname": "PortalSaveTimeout", "service": "kundenportal"},
    "fix_change_ref": "CHG-2026-118",
    "fix_description": "Export auf Snapshot-Isolation umstellen (geplant, noch nicht ausgerollt).",
}


@transaction.atomic
def load_problems_demo() -> Problem | None:
    """The demo's known error, unless it is there already (or its service or people are not)."""
    if Problem.objects.filter(statement=STATEMENT).exists():
        return None
    service = Service.objects.filter(slug=SERVICE).first()
    manager = User.objects.filter(username="manager").first()
    responder = User.objects.filter(username="responder").first() or manager
    if service is None or manager is None:
        return None
    now = timezone.now()
    problem = None
    for days, title in INCIDENTS:
        # Each step at the time it happened (as load_demo's own history), not at load time: the
        # problem is opened after the first of these incidents, the later ones are linked to it
        # as they recur, and it becomes a known error after the third.
        detected = now - timedelta(days=days, hours=-1)
        with time_machine.travel(detected, tick=False):
            incident = incident_create(
                actor=manager, title=title, services=[service], detected_at=detected
            )
        with time_machine.travel(detected + timedelta(minutes=12), tick=False):
            incident = incident_classify(
                incident=incident, actor=responder, impact="low", urgency="medium"
            )
        with time_machine.travel(detected + timedelta(hours=2), tick=False):
            incident = incident_resolve(
                incident=incident, actor=responder, resolution="Export angehalten, Portal normal."
            )
        closed = min(detected + timedelta(hours=20), now - timedelta(minutes=3))
        with time_machine.travel(closed, tick=False):
            incident = incident_close(incident=incident, actor=manager, review="")
        with time_machine.travel(closed + timedelta(minutes=1), tick=False):
            if problem is None:
                problem = problem_create(
                    actor=manager,
                    statement=STATEMENT,
                    incidents=[incident],
                    owner=manager,
                    **PROBLEM,
                )
                problem = problem_transition(problem=problem, action="investigate", actor=manager)
            else:
                problem_link_incident(problem=problem, incident=incident, actor=manager)
    with time_machine.travel(closed + timedelta(minutes=2), tick=False):
        return problem_transition(problem=problem, action="known_error", actor=manager)
