"""Problems: the state machine and its guards, links (with the incident's timeline), the history,
and the flag when an incident of a resolved or closed problem is reopened."""

from datetime import UTC, datetime

import pytest

from escalation.problems.models import Problem, ProblemEvent, ProblemLink, ProblemState
from escalation.problems.services import (
    IncidentAlreadyLinked,
    ProblemTransitionNotAllowed,
    problem_create,
    problem_flag_clear,
    problem_link_incident,
    problem_transition,
    problem_unlink_incident,
    problem_update,
)
from escalation.services import incident_reopen
from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import IncidentEvent, State
from tests.factories import IncidentFactory, ServiceFactory, drive

pytestmark = pytest.mark.django_db

FIXED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def service(db):
    return ServiceFactory(slug="zaehlerportal", name="Zählerportal")


@pytest.fixture
def incident(service, manager):
    return IncidentFactory(title="Zählerportal antwortet nicht", services=[service], actor=manager)


@pytest.fixture
def problem(manager, incident):
    return problem_create(
        actor=manager, statement="Zählerportal fällt nachts aus", incidents=[incident]
    )


def kinds(problem):
    return list(problem.events.order_by("pk").values_list("kind", flat=True))


def test_created_from_an_incident_takes_its_services_links_it_and_records_both_sides(
    problem, incident, service, manager
):
    assert problem.state == ProblemState.NEW
    assert problem.owner == manager  # the creator, unless someone else is named
    assert list(problem.services.all()) == [service]
    assert ProblemLink.objects.get(incident=incident).problem == problem
    assert kinds(problem) == ["created", "incident_linked"]
    entry = IncidentEvent.objects.filter(incident=incident).order_by("seq").last()
    assert entry.kind == "problem_linked"
    assert entry.data["reference"] == problem.reference


def test_a_problem_needs_a_statement(manager):
    with pytest.raises(InvalidInput):
        problem_create(actor=manager, statement="  ")
    assert not Problem.objects.exists()


def test_the_main_path_with_its_guards(problem, manager):
    with pytest.raises(ProblemTransitionNotAllowed, match="not possible in state"):
        problem_transition(problem=problem, action="close", actor=manager)
    problem = problem_transition(problem=problem, action="investigate", actor=manager)
    assert problem.state == ProblemState.INVESTIGATING
    assert problem.investigating_at is not None

    # A known error needs its cause and a workaround.
    with pytest.raises(ProblemTransitionNotAllowed, match="root cause is not documented"):
        problem_transition(problem=problem, action="known_error", actor=manager)
    problem_update(
        problem=problem,
        actor=manager,
        root_cause="Nächtlicher Export sperrt die Tabelle",
        root_cause_method="five_whys",
        root_cause_analysis={"whys": ["Portal hängt", "DB gesperrt", "Export läuft"]},
    )
    with pytest.raises(ProblemTransitionNotAllowed, match="workaround is required"):
        problem_transition(problem=problem, action="known_error", actor=manager)
    problem_update(problem=problem, actor=manager, workaround="Export manuell anhalten")
    problem = problem_transition(problem=problem, action="known_error", actor=manager)
    assert problem.state == ProblemState.KNOWN_ERROR

    problem = problem_transition(problem=problem, action="resolve", actor=manager)
    # Closing requires the fix to be recorded: a change reference and its date.
    with pytest.raises(ProblemTransitionNotAllowed, match="permanent fix"):
        problem_transition(problem=problem, action="close", actor=manager)
    problem_update(problem=problem, actor=manager, fix_change_ref="CHG-4711")
    with pytest.raises(ProblemTransitionNotAllowed, match="permanent fix"):
        problem_transition(problem=problem, action="close", actor=manager)
    problem_update(problem=problem, actor=manager, fixed_at=FIXED)
    problem = problem_transition(problem=problem, action="close", actor=manager)
    assert problem.state == ProblemState.CLOSED
    assert problem.closed_at is not None

    history = list(problem.events.filter(kind="transition").values_list("from_state", "to_state"))
    assert history == [
        ("new", "investigating"),
        ("investigating", "known_error"),
        ("known_error", "resolved"),
        ("resolved", "closed"),
    ]
    changed = problem.events.filter(kind="changed").values_list("data", flat=True)
    assert [d["changed"] for d in changed] == [
        ["root_cause", "root_cause_method", "root_cause_analysis"],
        ["workaround"],
        ["fix_change_ref"],
        ["fixed_at"],
    ]


def test_a_refused_transition_changes_nothing(problem, manager):
    before = kinds(problem)
    with pytest.raises(ProblemTransitionNotAllowed):
        problem_transition(problem=problem, action="resolve", actor=manager)
    problem.refresh_from_db()
    assert problem.state == ProblemState.NEW
    assert kinds(problem) == before


def test_only_escalation_managers_close(problem, manager, responder):
    problem_update(
        problem=problem, actor=manager, root_cause="x", fix_change_ref="CHG-1", fixed_at=FIXED
    )
    problem_transition(problem=problem, action="investigate", actor=responder)
    problem_transition(problem=problem, action="resolve", actor=responder)
    with pytest.raises(PermissionDenied):
        problem_transition(problem=problem, action="close", actor=responder)
    assert problem_transition(problem=problem, action="close", actor=manager).state == "closed"


def test_state_cannot_be_set_directly(problem):
    with pytest.raises(AttributeError):
        problem.state = ProblemState.CLOSED


def test_an_incident_has_one_problem(problem, incident, manager):
    other = problem_create(actor=manager, statement="Anderes Problem")
    with pytest.raises(IncidentAlreadyLinked, match=problem.reference):
        problem_link_incident(problem=other, incident=incident, actor=manager)
    # linking again to the same problem is no change
    problem_link_incident(problem=problem, incident=incident, actor=manager)
    assert kinds(problem) == ["created", "incident_linked"]

    problem_unlink_incident(problem=problem, incident=incident, actor=manager)
    assert kinds(problem)[-1] == "incident_unlinked"
    assert IncidentEvent.objects.filter(incident=incident).last().kind == "problem_unlinked"
    problem_link_incident(problem=other, incident=incident, actor=manager)
    assert incident.problem_link.problem == other
    with pytest.raises(InvalidInput):
        problem_unlink_incident(problem=problem, incident=incident, actor=manager)


def _closed(problem, manager):
    problem_update(
        problem=problem, actor=manager, root_cause="x", fix_change_ref="CHG-1", fixed_at=FIXED
    )
    for action in ("investigate", "resolve", "close"):
        problem = problem_transition(problem=problem, action=action, actor=manager)
    return problem


def test_reopening_an_incident_of_a_closed_problem_flags_the_problem(problem, incident, manager):
    problem = _closed(problem, manager)
    incident = drive(incident, State.RESOLVED, actor=manager)
    incident_reopen(incident=incident, actor=manager, reason="Wieder ausgefallen")
    problem.refresh_from_db()
    assert problem.flagged_at is not None
    assert problem.flag_reason == f"incident #{incident.pk} reopened"
    assert kinds(problem)[-1] == "flagged"

    problem_flag_clear(problem=problem, actor=manager, reason="anderer Auslöser")
    problem.refresh_from_db()
    assert problem.flagged_at is None

    # Reopening the problem clears a flag too.
    incident = drive_resolved_again(incident, manager)
    incident_reopen(incident=incident, actor=manager, reason="Schon wieder")
    problem = problem_transition(
        problem=Problem.objects.get(pk=problem.pk), action="reopen", actor=manager
    )
    assert (problem.state, problem.flagged_at, problem.closed_at) == ("investigating", None, None)


def drive_resolved_again(incident, manager):
    from escalation.services import incident_resolve

    return incident_resolve(incident=incident, actor=manager, resolution="Neustart")


def test_reopening_an_incident_of_an_open_problem_flags_nothing(problem, incident, manager):
    incident = drive(incident, State.RESOLVED, actor=manager)
    incident_reopen(incident=incident, actor=manager, reason="Wieder ausgefallen")
    problem.refresh_from_db()
    assert problem.flagged_at is None
    assert not ProblemEvent.objects.filter(kind="flagged").exists()


def test_demo_data_has_a_known_error_with_three_incidents(manager):
    from escalation.problems.demo import SERVICE, load_problems_demo

    manager.username = "manager"  # the demo's escalation manager
    manager.save()
    ServiceFactory(slug=SERVICE)
    problem = load_problems_demo()
    assert problem.state == ProblemState.KNOWN_ERROR
    assert problem.incidents.filter(state=State.CLOSED).count() == 3
    assert load_problems_demo() is None  # once


def test_dossier_and_handbook_sections(problem, incident, manager):
    from django.utils import timezone

    from escalation import hooks

    problem_update(
        problem=problem,
        actor=manager,
        root_cause="Tabellensperre",
        root_cause_method="five_whys",
        root_cause_analysis={"whys": ["a"]},
    )
    sections = [s(incident) for s in hooks.dossier_sections]
    [mine] = [s for s in sections if s and s["key"] == "problems"]
    assert mine["items"][0]["reference"] == problem.reference
    assert mine["items"][0]["root_cause_analysis"] == {"whys": ["a"]}
    other = IncidentFactory(actor=manager)
    assert all(s(other) is None or s(other)["key"] != "problems" for s in hooks.dossier_sections)

    handbooks = (h(timezone.now()) for h in hooks.handbook_sections)
    [handbook] = [s for s in handbooks if s and s["key"] == "problems"]
    assert "3 or more incidents within 30 days" in handbook["html"]
    from django.utils.safestring import SafeString

    assert isinstance(handbook["html"], SafeString)  # shown as HTML, not escaped
