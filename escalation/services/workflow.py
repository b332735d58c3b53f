"""Workflow services: each drives an incident through one lifecycle step, in one transaction.

Shape of every service: lock the incident row, check the transition (state, conditions, permission),
apply it, save, append the timeline entry. A refused transition raises TransitionNotAllowed (or
PermissionDenied) and, because everything runs in one atomic block, changes nothing.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from incidents.exceptions import (
    InvalidInput,
    PermissionDenied,
    TransitionNotAllowed,
)
from incidents.models import (
    ACTION_LABELS,
    CONDITION_MESSAGES,
    EventKind,
    Impact,
    Incident,
    State,
    Urgency,
    User,
)
from incidents.services import (
    incident_create,
    incident_lock,
    incident_update_details,
    timeline_deferred,
    timeline_record,
    timeline_record_many,
)

from .. import hooks, selectors
from ..classification import UnknownCell, decide_escalation, derive_priority
from ..memo import Memo
from ..models import AckLink, EscalationRun
from . import clocks, engine, matrix, public, sla
from .webhooks import incident_event_emit

logger = logging.getLogger(__name__)

# The action names the outside world uses (API endpoints, console buttons), per model transition.
EV_SILENCED = "escalation_silenced"  # paging held back (e.g. a silencing maintenance window)

ACTIONS = {
    "classify": "classify",
    "reclassify": "classify",
    "escalate": "escalate",
    "acknowledge": "acknowledge",
    "provide_workaround": "provide_workaround",
    "resolve": "resolve",
    "close": "close",
    "reopen": "reopen",
}


def _transition_meta(name: str):
    return getattr(Incident, name)._django_fsm


# What allowed_actions reads of an incident: its state, and the acknowledge transition's
# condition (_not_acknowledged). A list page computes the actions once per distinct value of
# these on an incident made of them alone: a condition that reads another field belongs here.
ACTION_FIELDS = ("state", "acknowledged_at", "paging_since")


def allowed_actions(incident: Incident, user: User | None = None) -> list[str]:
    """Actions possible from the incident's current state (and, given a user, permitted to them);
    they depend on ACTION_FIELDS only."""
    actions = set()
    for name, action in ACTIONS.items():
        transition = _transition_meta(name).get_transition(incident.state)
        if transition is None:
            continue
        if name == "acknowledge" and not all(c(incident) for c in transition.conditions):
            continue
        if user is not None and not transition.has_perm(incident, user):
            continue
        actions.add(action)
    return sorted(actions)


def _apply(incident: Incident, name: str, actor: User | None) -> None:
    """Run one model transition after checking state, permission and conditions, in that order."""
    meta = _transition_meta(name)
    transition = meta.get_transition(incident.state)
    if transition is None:
        raise TransitionNotAllowed(
            transition=ACTIONS[name],
            current_state=incident.state,
            allowed=allowed_actions(incident, actor),
        )
    if actor is not None and not transition.has_perm(incident, actor):
        raise PermissionDenied(
            _("You may not do this: %(action)s.") % {"action": ACTION_LABELS[ACTIONS[name]]}
        )
    for condition in transition.conditions:
        if not condition(incident):
            raise TransitionNotAllowed(
                transition=ACTIONS[name],
                current_state=incident.state,
                allowed=allowed_actions(incident, actor),
                reason=str(CONDITION_MESSAGES.get(condition, condition.__name__)),
            )
    getattr(incident, name)(at=timezone.now())


def _save(incident: Incident, fields: list[str]) -> None:
    try:
        incident.save(update_fields=[*fields, "state", "updated_at"])
    except ConcurrentTransition as exc:  # someone else changed the state meanwhile
        raise TransitionNotAllowed(
            transition="save",
            current_state=Incident.objects.get(pk=incident.pk).state,
            allowed=[],
            reason=_("the incident was changed by someone else meanwhile"),
        ) from exc


def _transitioned(incident: Incident, action: str, from_state: str) -> None:
    """Tell outbound webhooks, in the same transaction as the change."""
    incident_event_emit(
        incident=incident,
        event="transitioned",
        data={"action": action, "from_state": from_state, "to_state": incident.state},
    )


@transaction.atomic
def incident_open(
    *,
    actor: User | None,
    impact: str = "",
    urgency: str = "",
    classify_later: bool = False,
    **fields,
) -> Incident:
    """Record a new incident (incidents.services.incident_create) and announce it; given impact
    and urgency, classify it in the same transaction (so a refused classification leaves no
    half-made incident behind).

    `classify_later` (alert ingestion): a classification that would escalate at once is left to
    a worker right after commit (a clock due now: ingestion stores first, so a storm of pages is
    never turned away), and so is one that cannot be made (the worker logs why, the alert stays
    stored); a classification that pages nobody is made here, as it costs less than handing it
    on (and the sender's 202 answers a classified incident)."""
    if bool(impact) != bool(urgency):
        raise InvalidInput(_("Give impact and urgency together, or neither."), field="impact")
    # The matrix, the rules and the new incident's escalation decision: each worked out once for
    # both questions (does it page? which priority?).
    with selectors.settings_read_once(), _NEW_INCIDENT.scope():
        incident = incident_create(actor=actor, **fields)
        incident_event_emit(incident=incident, event="created")
        if impact and classify_later and not _classifies_quietly(incident, impact, urgency):
            clocks.classify_soon(incident=incident, impact=impact, urgency=urgency)
        elif impact:
            # Created in this transaction: nobody else can see it yet, so it needs no lock.
            incident = incident_classify(
                incident=incident, actor=actor, impact=impact, urgency=urgency, held=True
            )
    return incident


def _classifies_quietly(incident: Incident, impact: str, urgency: str) -> bool:
    """Whether classifying the new incident would succeed without escalating it at once."""
    if impact not in Impact.values or urgency not in Urgency.values:
        return False
    try:
        priority = derive_priority(selectors.priority_matrix(), impact, urgency)
    except UnknownCell:
        return False
    return not _escalates_at_once(_decision(incident, priority))


def _escalates_at_once(decision) -> bool:
    return decision.required and decision.auto_escalate and settings.ESCALATION_AUTO_ESCALATE


# Within incident_open: the incident is new, so its services and customers cannot change.
_NEW_INCIDENT = Memo("new_incident")


def _decision(incident: Incident, priority: int):
    def decide():
        return decide_escalation(
            selectors.active_escalation_rules(),
            priority=priority,
            service_ids=incident.services.values_list("pk", flat=True),
            customer_ids=incident.customers.values_list("pk", flat=True),
        )

    return _NEW_INCIDENT.get((incident.pk, priority), decide)


@transaction.atomic
def incident_edit(*, incident: Incident, actor: User | None, **changes) -> Incident:
    """Change descriptive fields (incident_update_details) and announce it."""
    before = incident.timeline_length
    incident = incident_update_details(incident=incident, actor=actor, **changes)
    if incident.timeline_length != before:
        incident_event_emit(incident=incident, event="updated", data={"changed": sorted(changes)})
        if {"services", "customers", "detected_at"} & set(changes):
            sla.sla_sync(incident=incident)  # other contracts may apply now
    return incident


def _step(
    incident: Incident,
    name: str,
    *,
    actor: User | None,
    fields: list[str],
    kind: str,
    data: dict,
    label: str | None = None,
) -> None:
    """One lifecycle step on a locked incident: check and apply the transition, save the fields it
    set, record it on the timeline (from/to state), and tell the outbound webhooks."""
    from_state = incident.state
    _apply(incident, name, actor)
    _save(incident, fields)
    timeline_record(
        incident=incident,
        kind=kind,
        actor=actor,
        label=label,
        from_state=from_state,
        to_state=incident.state,
        data=data,
    )
    _transitioned(incident, ACTIONS[name], from_state)
    hooks.transition_tell(incident, name, actor, from_state)  # nested apps (e.g. problems)


def _escalate(incident: Incident, *, actor: User | None, reason: str, label: str | None = None):
    """Escalate a locked incident (callers run in a transaction: an error rolls it all back)."""
    incident.escalation_reason = reason
    _start_escalation(
        incident,
        step=lambda: _step(
            incident,
            "escalate",
            actor=actor,
            fields=["escalation_reason", "escalated_at"],
            kind=EventKind.ESCALATED,
            data={"reason": reason},
            label=label,
        ),
    )


def _start_escalation(incident: Incident, step: Callable[[], None] | None = None) -> None:
    """Page the right people and inform the audiences the communication matrix names. `step`
    (the escalate transition) runs first; its timeline entry and the paging's (started, paged,
    level) are stored in one INSERT. The matrix reads the stored head back: it comes after."""
    now = timezone.now()
    with timeline_deferred(incident):
        if step is not None:
            step()
        run = engine.escalation_start(incident=incident, at=now)
    matrix.communication_apply(incident=incident, at=now, occasion=f"escalation-{run.cycle}")


@transaction.atomic
def incident_classify(
    *,
    incident: Incident,
    actor: User | None,
    impact: str,
    urgency: str,
    held: bool = False,
    label: str | None = None,
) -> Incident:
    """Classify (or reclassify) an incident; record the priority and the escalation decision.

    Where a matching rule says so (and ESCALATION_AUTO_ESCALATE is on), it escalates at once.
    `held`: the caller holds the incident's lock and passes the instance it locked (not locked
    again). `label`: who classified, as the timeline shows it (default: the actor, or "system").
    """
    if impact not in Impact.values:
        raise InvalidInput(_("Unknown impact: %(value)s.") % {"value": impact}, field="impact")
    if urgency not in Urgency.values:
        raise InvalidInput(_("Unknown urgency: %(value)s.") % {"value": urgency}, field="urgency")
    locked = incident if held else incident_lock(incident)
    try:
        priority = derive_priority(selectors.priority_matrix(), impact, urgency)
    except UnknownCell as exc:
        raise InvalidInput(str(exc), field="impact") from exc
    decision = _decision(locked, priority)
    previous = {"impact": locked.impact, "urgency": locked.urgency, "priority": locked.priority}
    from_state = locked.state
    locked.impact, locked.urgency, locked.priority = impact, urgency, priority
    locked.escalation_required = decision.required
    locked.escalation_rule = decision.rule
    name = "classify" if locked.state == State.DETECTED else "reclassify"
    _apply(locked, name, actor)
    _save(
        locked,
        [
            "impact",
            "urgency",
            "priority",
            "escalation_required",
            "escalation_rule",
            "classified_at",
        ],
    )
    timeline_record_many(
        incident=locked,
        entries=[
            {
                "kind": EventKind.CLASSIFIED if name == "classify" else EventKind.RECLASSIFIED,
                "actor": actor,
                "label": label,
                "from_state": from_state,
                "to_state": locked.state,
                "data": {
                    "impact": impact,
                    "urgency": urgency,
                    "priority": priority,
                    **({"previous": previous} if name == "reclassify" else {}),
                },
            },
            {
                "kind": EventKind.ESCALATION_DECIDED,
                "actor": actor,
                "label": label,
                "data": decision.as_data(),
            },
        ],
    )
    if name == "classify":
        _transitioned(locked, "classify", from_state)
    else:
        incident_event_emit(incident=locked, event="updated", data={"changed": ["classification"]})
    hooks.transition_tell(locked, name, actor, from_state)
    if _escalates_at_once(decision) and locked.state == State.CLASSIFIED:
        # A nested app may hold paging back (an active maintenance window that silences these
        # services): the incident is recorded and classified, nobody is paged or informed.
        silenced = hooks.escalation_silenced_by(locked, timezone.now())
        if silenced:
            timeline_record(
                incident=locked,
                kind=EV_SILENCED,
                actor=None,
                label="system (silenced by maintenance)",
                data={"rule": decision.rule, "silenced_by": silenced},
            )
        else:
            _escalate(
                locked,
                actor=None,
                reason=f"Rule '{decision.rule}': {decision.reason}",
                label=f"system (rule: {decision.rule})",
            )
    sla.sla_sync(incident=locked)
    return locked


def incident_classify_from_clock(incident: Incident, clock, now) -> None:
    """The CLASSIFY clock's handler (registered by EscalationConfig.ready): classify a new alert's
    incident in a worker, unless someone classified it meanwhile."""
    if incident.state != State.DETECTED:
        return  # someone classified it meanwhile: theirs stands
    try:
        incident_classify(
            incident=incident,
            actor=None,
            impact=clock.payload["impact"],
            urgency=clock.payload["urgency"],
            held=True,  # clock_fire locked it
        )
    except (InvalidInput, TransitionNotAllowed) as exc:  # e.g. a severity map edited wrongly
        logger.warning("incident %s: could not classify: %s", incident.pk, exc)


@transaction.atomic
def incident_escalate(*, incident: Incident, actor: User | None, reason: str) -> Incident:
    """Escalate by hand (the classification did not require it, or a person decides to)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("A reason for escalating is required."), field="reason")
    locked = incident_lock(incident)
    _escalate(locked, actor=actor, reason=reason)
    return locked


@transaction.atomic
def incident_acknowledge(
    *, incident: Incident, actor: User | None, via: str = "console"
) -> Incident:
    """Someone has taken the incident on: sets acknowledged_at (MTTA) and stops the paging.

    The state does not change. `via` records where it came from (console, api, link, events-v2).
    """
    locked = incident_lock(incident)
    _apply(locked, "acknowledge", actor)
    _save(locked, ["acknowledged_at", "paging_since"])
    timeline_record(incident=locked, kind=EventKind.ACKNOWLEDGED, actor=actor, data={"via": via})
    incident_event_emit(incident=locked, event="acknowledged", data={"via": via})
    engine.escalation_stop(
        incident=locked, reason="acknowledged", status=EscalationRun.Status.ACKNOWLEDGED
    )
    sla.sla_sync(incident=locked)
    return locked


@transaction.atomic
def incident_provide_workaround(
    *,
    incident: Incident,
    actor: User | None,
    workaround: str,
    customer_text: str = "",
    customer_text_en: str = "",
) -> Incident:
    """The disrupted business process can run again: record how (business continuity). With a
    public face, customers get it as a public update (`customer_text`, else a standard text;
    the internal workaround text is for the team)."""
    workaround = (workaround or "").strip()
    if not workaround:
        raise InvalidInput(_("Describe the workaround."), field="workaround")
    locked = incident_lock(incident)
    locked.workaround = workaround
    _step(
        locked,
        "provide_workaround",
        actor=actor,
        fields=["workaround", "workaround_at"],
        kind=EventKind.WORKAROUND,
        data={"workaround": workaround},
    )
    matrix.lifecycle_inform(incident=locked, event="workaround", at=timezone.now())
    public.workaround_publish(
        incident=locked,
        actor=actor,
        customer_text=customer_text or "",
        customer_text_en=customer_text_en or "",
    )
    locked.refresh_from_db(fields=["timeline_length", "timeline_head"])  # it may have appended
    sla.sla_sync(incident=locked)
    return locked


@transaction.atomic
def incident_resolve(*, incident: Incident, actor: User | None, resolution: str) -> Incident:
    """Resolve: service restored, or (from detected/classified) a false alarm, with the reason."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise InvalidInput(
            _("Say how it was resolved (or why it was a false alarm)."), field="resolution"
        )
    locked = incident_lock(incident)
    locked.resolution = resolution
    _step(
        locked,
        "resolve",
        actor=actor,
        fields=["resolution", "resolved_at"],
        kind=EventKind.RESOLVED,
        data={"resolution": resolution},
    )
    engine.escalation_stop(incident=locked, reason="resolved", status=EscalationRun.Status.STOPPED)
    engine.clocks_cancel_all(incident=locked)
    matrix.lifecycle_inform(
        incident=locked, event="resolved", at=timezone.now(), resolution=resolution
    )
    public.public_faces_resolve_if_done(incident=locked, actor=actor)
    locked.refresh_from_db(fields=["timeline_length", "timeline_head"])  # it may have appended
    sla.sla_sync(incident=locked)
    return locked


@transaction.atomic
def incident_close(*, incident: Incident, actor: User | None, review: str = "") -> Incident:
    """Close after review. Escalated incidents need a post-incident review text."""
    locked = incident_lock(incident)
    review = (review or "").strip()
    if review:
        locked.review = review
    # Nested apps' requirements (e.g. an approved review), asked where the state allows closing.
    closable = _transition_meta("close").get_transition(locked.state) is not None
    blocked = closable and hooks.close_blocked_by(locked)
    if blocked:
        raise TransitionNotAllowed(
            transition=ACTIONS["close"],
            current_state=locked.state,
            allowed=[a for a in allowed_actions(locked, actor) if a != ACTIONS["close"]],
            reason=blocked,
        )
    _step(
        locked,
        "close",
        actor=actor,
        fields=["review", "closed_at"],
        kind=EventKind.CLOSED,
        data={"review": locked.review},
    )
    return locked


@transaction.atomic
def incident_reopen(*, incident: Incident, actor: User | None, reason: str) -> Incident:
    """The problem is back: reopen a resolved incident into escalation."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("A reason for reopening is required."), field="reason")
    locked = incident_lock(incident)
    resolved_at = locked.resolved_at
    _step(
        locked,
        "reopen",
        actor=actor,
        fields=["resolved_at", "escalated_at"],
        kind=EventKind.REOPENED,
        data={"reason": reason},
    )
    _start_escalation(locked)
    sla.sla_reopened(incident=locked, resolved_at=resolved_at, at=timezone.now())
    public.public_face_reopen(incident=locked)  # customers who had the all-clear hear it is back
    locked.refresh_from_db(fields=["timeline_length", "timeline_head"])  # it may have appended
    return locked


# action name -> (service, the input fields it takes); used by admin, console and API alike.
ACTION_SERVICES = {
    "classify": (incident_classify, ("impact", "urgency")),
    "escalate": (incident_escalate, ("reason",)),
    "acknowledge": (incident_acknowledge, ()),
    "provide_workaround": (incident_provide_workaround, ("workaround", "customer_text")),
    "resolve": (incident_resolve, ("resolution",)),
    "close": (incident_close, ("review",)),
    "reopen": (incident_reopen, ("reason",)),
}


def incident_perform(
    *, incident: Incident, actor: User | None, action: str, data: dict
) -> Incident:
    """Run the lifecycle action named `action` with its inputs taken from `data`."""
    try:
        service, fields = ACTION_SERVICES[action]
    except KeyError:
        raise InvalidInput(
            _("Unknown action: %(value)s.") % {"value": action}, field="action"
        ) from None
    return service(incident=incident, actor=actor, **{f: data.get(f, "") for f in fields})


@transaction.atomic
def incident_acknowledge_by_link(*, token: str) -> Incident:
    """Acknowledge through a one-click link from a page: signed, expiring, single use."""
    link = engine.ack_link_load(token)
    locked = incident_lock(link.incident_id)
    link = AckLink.objects.select_for_update().select_related("user").get(pk=link.pk)
    now = timezone.now()
    engine.ack_link_validate(link, now)
    engine.ack_link_consume(link=link, at=now)
    return incident_acknowledge(incident=locked, actor=link.user, via="link")
