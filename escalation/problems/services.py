"""Writes of problems: each one use case in one transaction, with its entry on the problem's
history (and, for links, on the incident's timeline)."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from escalation.models import IncidentAlert
from escalation.selectors import is_responder_only
from incidents.exceptions import ApplicationError, InvalidInput, PermissionDenied
from incidents.models import Incident, Service, User
from incidents.services import actor_label, incident_lock, timeline_record

from .models import (
    ACTION_LABELS,
    CONDITION_MESSAGES,
    Problem,
    ProblemEvent,
    ProblemLink,
    ProblemState,
)

# The incident timeline's kinds for links (plain strings, as the core's own escalation kinds).
EV_PROBLEM_LINKED = "problem_linked"
EV_PROBLEM_UNLINKED = "problem_unlinked"

# Fields a person edits (create and update); the state only changes through transitions.
FIELDS = (
    "statement",
    "description",
    "owner",
    "root_cause",
    "root_cause_method",
    "root_cause_analysis",
    "workaround",
    "dedup_keys",
    "alert_labels",
    "fix_change_ref",
    "fix_description",
    "fixed_at",
)

# What a transition may change (the state, its timestamps; reopening clears the flag).
TRANSITION_FIELDS = [
    "state",
    "investigating_at",
    "known_error_at",
    "resolved_at",
    "closed_at",
    "flagged_at",
    "flag_reason",
    "updated_at",
]


class ProblemTransitionNotAllowed(ApplicationError):
    """The problem's state (or a condition) forbids this transition. Nothing changed."""

    code = "transition_not_allowed"
    http_status = 409


class IncidentAlreadyLinked(ApplicationError):
    code = "already_linked"
    http_status = 409


def _record(problem: Problem, kind: str, actor: User | None, **extra) -> ProblemEvent:
    return ProblemEvent.objects.create(
        problem=problem,
        kind=kind,
        actor=actor,
        actor_label=actor_label(actor),
        created_at=timezone.now(),
        **extra,
    )


def _lock(problem: Problem) -> Problem:
    return Problem.objects.select_for_update().get(pk=problem.pk)


def _check(problem: Problem) -> None:
    if not problem.statement.strip():
        raise InvalidInput(_("A problem statement is required."), field="statement")
    if problem.owner is not None and not problem.owner.is_staff:
        raise InvalidInput(_("The owner must be a member of the team."), field="owner")


def signature_of(incidents: Iterable[Incident]) -> tuple[list[str], dict]:
    """The alert signature shared by incidents: their dedup keys, and the alert labels every one
    of their alerts carries (empty when they share none)."""
    incidents = list(incidents)
    keys = sorted({i.dedup_key for i in incidents if i.dedup_key})
    common: dict | None = None
    for alert in IncidentAlert.objects.filter(incident__in=incidents).only("labels"):
        labels = {k: v for k, v in (alert.labels or {}).items() if isinstance(v, str)}
        common = (
            labels if common is None else {k: v for k, v in common.items() if labels.get(k) == v}
        )
    return keys, common or {}


@transaction.atomic
def problem_create(
    *,
    actor: User | None,
    statement: str,
    services: Iterable[Service] = (),
    incidents: Iterable[Incident] = (),
    **fields,
) -> Problem:
    """A problem, on its own or from incidents: their services join the affected services, they
    are linked to it, and (unless given) their alert signature becomes the problem's."""
    incidents = list(incidents)
    problem = Problem(statement=statement, created_by=actor, created_at=timezone.now())
    for name in FIELDS:
        if name in fields and name != "statement":
            setattr(problem, name, fields[name])
    if problem.owner is None and actor is not None and actor.is_staff:
        problem.owner = actor
    if incidents and "dedup_keys" not in fields and "alert_labels" not in fields:
        problem.dedup_keys, problem.alert_labels = signature_of(incidents)
    _check(problem)
    problem.save()
    affected = {s.pk: s for s in services}
    for incident in incidents:
        affected.update({s.pk: s for s in incident.services.all()})
    problem.services.set(affected.values())
    _record(problem, ProblemEvent.Kind.CREATED, actor, to_state=problem.state)
    for incident in incidents:
        _link(problem, incident, actor)
    return problem


@transaction.atomic
def problem_update(
    *, problem: Problem, actor: User | None, services: Iterable[Service] | None = None, **fields
) -> Problem:
    """Change a problem's details (statement, root cause, workaround, fix, ...)."""
    problem = _lock(problem)
    changed = [n for n in FIELDS if n in fields and getattr(problem, n) != fields[n]]
    for name in changed:
        setattr(problem, name, fields[name])
    _check(problem)
    if changed:
        problem.save(update_fields=[*changed, "updated_at"])
    if services is not None:
        services = list(services)
        if {s.pk for s in services} != set(problem.services.values_list("pk", flat=True)):
            problem.services.set(services)
            changed.append("services")
    if changed:
        _record(problem, ProblemEvent.Kind.CHANGED, actor, data={"changed": changed})
    return problem


def allowed_actions(problem: Problem, user: User | None = None, *, may_close=None) -> list[str]:
    """Transitions possible from the problem's current state (and permitted to the user; pass
    `may_close` when it is known, to save reading the user's groups for every problem)."""
    if may_close is None:
        may_close = user is None or not is_responder_only(user)
    actions = []
    for name in ACTION_LABELS:
        if getattr(Problem, name)._django_fsm.get_transition(problem.state) is None:
            continue
        if name == "close" and not may_close:
            continue
        actions.append(name)
    return actions


@transaction.atomic
def problem_transition(
    *, problem: Problem, action: str, actor: User | None, reason: str = ""
) -> Problem:
    """One step of the problem's lifecycle (investigate, known_error, resolve, close, reopen).
    Closing is the escalation managers' (the problem managers'): they check the fix holds."""
    if action not in ACTION_LABELS:
        raise InvalidInput(_("Unknown action."), field="action")
    if action == "close" and actor is not None and is_responder_only(actor):
        raise PermissionDenied(
            _("You may not do this: %(action)s.") % {"action": ACTION_LABELS[action]}
        )
    problem = _lock(problem)
    meta = getattr(Problem, action)._django_fsm
    transition = meta.get_transition(problem.state)
    allowed = ", ".join(str(ACTION_LABELS[a]) for a in allowed_actions(problem, actor))
    params = {
        "action": ACTION_LABELS[action],
        "state": problem.get_state_display(),
        "allowed": allowed or _("none"),
    }
    if transition is None:
        raise ProblemTransitionNotAllowed(
            _("'%(action)s' is not possible in state '%(state)s'. Possible now: %(allowed)s.")
            % params,
            extra={"current_state": problem.state},
        )
    for condition in transition.conditions:
        if not condition(problem):
            params["reason"] = CONDITION_MESSAGES[condition]
            raise ProblemTransitionNotAllowed(
                _("'%(action)s' is not possible: %(reason)s.") % params,
                extra={"current_state": problem.state},
            )
    from_state = problem.state
    getattr(problem, action)(at=timezone.now())
    try:
        problem.save(update_fields=TRANSITION_FIELDS)
    except ConcurrentTransition as exc:  # someone else changed the state meanwhile
        raise ProblemTransitionNotAllowed(
            _("The problem was changed meanwhile; reload and try again."),
            extra={"current_state": Problem.objects.get(pk=problem.pk).state},
        ) from exc
    data = {"action": action, **({"reason": reason} if reason else {})}
    _record(
        problem,
        ProblemEvent.Kind.TRANSITION,
        actor,
        from_state=from_state,
        to_state=problem.state,
        data=data,
    )
    return problem


def _link(problem: Problem, incident: Incident, actor: User | None) -> ProblemLink:
    locked = incident_lock(incident)
    existing = ProblemLink.objects.filter(incident=locked).select_related("problem").first()
    if existing is not None:
        if existing.problem_id == problem.pk:
            return existing
        raise IncidentAlreadyLinked(
            _("Incident #%(incident)s is already linked to %(problem)s; unlink it there first.")
            % {"incident": locked.pk, "problem": existing.problem.reference}
        )
    link = ProblemLink.objects.create(
        problem=problem, incident=locked, linked_by=actor, linked_at=timezone.now()
    )
    _record(problem, ProblemEvent.Kind.INCIDENT_LINKED, actor, data={"incident": locked.pk})
    timeline_record(
        incident=locked,
        kind=EV_PROBLEM_LINKED,
        actor=actor,
        data={"problem": problem.pk, "reference": problem.reference},
    )
    return link


@transaction.atomic
def problem_link_incident(
    *, problem: Problem, incident: Incident, actor: User | None
) -> ProblemLink:
    """Link an incident to the problem that caused it (at most one problem per incident)."""
    return _link(_lock(problem), incident, actor)


@transaction.atomic
def problem_unlink_incident(*, problem: Problem, incident: Incident, actor: User | None) -> None:
    problem = _lock(problem)
    locked = incident_lock(incident)
    deleted, _rows = ProblemLink.objects.filter(problem=problem, incident=locked).delete()
    if not deleted:
        raise InvalidInput(
            _("Incident #%(incident)s is not linked to this problem.") % {"incident": locked.pk},
            field="incident",
        )
    _record(problem, ProblemEvent.Kind.INCIDENT_UNLINKED, actor, data={"incident": locked.pk})
    timeline_record(
        incident=locked,
        kind=EV_PROBLEM_UNLINKED,
        actor=actor,
        data={"problem": problem.pk, "reference": problem.reference},
    )


def problem_flag_on_reopen(incident: Incident, action: str, actor, from_state: str) -> None:
    """escalation.hooks.transition_listeners: an incident linked to a resolved or closed problem
    was reopened, so the fix may not hold: flag the problem (inside the reopen's transaction)."""
    if action != "reopen":
        return
    link = ProblemLink.objects.filter(incident=incident).select_related("problem").first()
    if link is None or link.problem.state not in (ProblemState.RESOLVED, ProblemState.CLOSED):
        return
    problem = _lock(link.problem)
    now = timezone.now()
    problem.flagged_at = now
    problem.flag_reason = f"incident #{incident.pk} reopened"
    problem.save(update_fields=["flagged_at", "flag_reason", "updated_at"])
    _record(problem, ProblemEvent.Kind.FLAGGED, actor, data={"incident": incident.pk})


@transaction.atomic
def problem_flag_clear(*, problem: Problem, actor: User | None, reason: str = "") -> Problem:
    """The flagged recurrence was looked at and the fix holds (reopening clears it too)."""
    problem = _lock(problem)
    if problem.flagged_at is None:
        return problem
    problem.flagged_at, problem.flag_reason = None, ""
    problem.save(update_fields=["flagged_at", "flag_reason", "updated_at"])
    _record(problem, ProblemEvent.Kind.CHANGED, actor, data={"changed": ["flag"], "reason": reason})
    return problem
