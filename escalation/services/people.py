"""People on an incident: change its commander, hand the communications lead and scribe roles,
and pull in a responder (paged at once through their own ladder, like a level of the policy).

Escalation managers and the incident's commander decide who holds a role; anybody working on
the incident may pull in a responder. Every change is on the timeline in the same transaction.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import Incident, State, User
from incidents.services import incident_lock, timeline_record

from .. import roles, selectors
from ..models import EscalationRun, IncidentRole, Page
from . import engine
from .workflow import incident_edit

EV_ROLE = "role_assigned"
EV_ROLE_ENDED = "role_ended"
EV_PULLED_IN = "responder_pulled_in"


def _may_assign(incident: Incident, actor: User) -> bool:
    return (
        actor.is_superuser
        or actor.groups.filter(name=roles.ESCALATION_MANAGER).exists()
        or incident.commander_id == actor.pk
    )


def _check(incident: Incident, actor: User, person: User | None, *, assign: bool) -> None:
    if incident.state == State.CLOSED:
        raise InvalidInput(_("The incident is closed."), field="user")
    if assign and not _may_assign(incident, actor):
        raise PermissionDenied(
            _("Only an escalation manager or the incident's commander may hand out roles.")
        )
    if not assign and not selectors.console_incidents_for(actor).filter(pk=incident.pk).exists():
        raise PermissionDenied(_("You may not do this: pull in a responder."))
    if person is not None and not selectors.staff_people().filter(pk=person.pk).exists():
        raise InvalidInput(
            _("Only active escalation managers and responders can be put on an incident."),
            field="user",
        )


@transaction.atomic
def incident_commander_change(*, incident: Incident, actor: User, user: User) -> Incident:
    """Make `user` the incident's commander (recorded as an edit of the incident, as the API's
    PATCH of `commander` is); the previous one keeps the incident in their console."""
    locked = incident_lock(incident)
    _check(locked, actor, user, assign=True)
    if locked.commander_id == user.pk:
        return locked
    return incident_edit(incident=locked, actor=actor, commander=user)


@transaction.atomic
def incident_role_assign(*, incident: Incident, actor: User, role: str, user: User) -> IncidentRole:
    """Give `role` (communications lead or scribe) to `user`; its previous holder steps down."""
    if role not in IncidentRole.Role.values:
        raise InvalidInput(_("Unknown role: %(value)s.") % {"value": role}, field="role")
    locked = incident_lock(incident)
    _check(locked, actor, user, assign=True)
    now = timezone.now()
    current = IncidentRole.objects.filter(incident=locked, role=role, ended_at__isnull=True).first()
    if current is not None:
        if current.user_id == user.pk:
            return current
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    held = IncidentRole.objects.create(
        incident=locked, role=role, user=user, assigned_by=actor, assigned_at=now
    )
    timeline_record(
        incident=locked,
        kind=EV_ROLE,
        actor=actor,
        data={"role": role, "to": user.username, "from": current.user.username if current else ""},
    )
    return held


@transaction.atomic
def incident_role_end(*, incident: Incident, actor: User, role: str) -> None:
    """Nobody holds `role` any more (the commander decides it is not needed)."""
    locked = incident_lock(incident)
    _check(locked, actor, None, assign=True)
    current = IncidentRole.objects.filter(incident=locked, role=role, ended_at__isnull=True).first()
    if current is None:
        return
    current.ended_at = timezone.now()
    current.save(update_fields=["ended_at"])
    timeline_record(
        incident=locked,
        kind=EV_ROLE_ENDED,
        actor=actor,
        data={"role": role, "from": current.user.username},
    )


@transaction.atomic
def incident_responder_pull_in(*, incident: Incident, actor: User, user: User) -> Page:
    """Page `user` now for this incident through their own ladder (first rung at once, the
    later ones on their clocks), at the escalation's current level. Their acknowledgement
    acknowledges the incident, as any page's does."""
    locked = incident_lock(incident)
    _check(locked, actor, user, assign=False)
    if locked.state in (State.RESOLVED, State.CLOSED):
        raise InvalidInput(_("The incident is resolved: nobody needs to be paged."), field="user")
    run = EscalationRun.objects.filter(incident=locked).first()
    if run is None:
        raise InvalidInput(
            _("Escalate the incident first: pulling people in pages them."), field="user"
        )
    page = engine.page_pull_in(run=run, incident=locked, user=user, at=timezone.now())
    if page is None:
        raise InvalidInput(
            _("%(name)s has already been paged at this level.") % {"name": user.display_name},
            field="user",
        )
    timeline_record(
        incident=locked,
        kind=EV_PULLED_IN,
        actor=actor,
        data={"to": user.username, "level": page.level_index + 1},
    )
    return page
