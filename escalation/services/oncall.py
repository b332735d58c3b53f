"""On-call overrides from the console: somebody takes over (part of) a schedule's shifts.

Escalation managers put anybody on call; a responder takes shifts over for themselves only.
An override wins over every layer of its schedule for its time (escalation/schedules.py).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import User

from .. import roles, selectors
from ..models import OnCallSchedule, ScheduleOverride

MAX_OVERRIDE = timedelta(days=31)


def _is_manager(user: User) -> bool:
    return user.is_superuser or user.groups.filter(name=roles.ESCALATION_MANAGER).exists()


@transaction.atomic
def schedule_override_create(
    *,
    schedule: OnCallSchedule,
    actor: User,
    user: User,
    start: datetime,
    end: datetime,
    reason: str = "",
) -> ScheduleOverride:
    """Put `user` on call in `schedule` from `start` until `end`."""
    if user != actor and not _is_manager(actor):
        raise PermissionDenied(_("Only escalation managers put somebody else on call."))
    if not selectors.staff_people().filter(pk=user.pk).exists():
        raise InvalidInput(
            _("Only active escalation managers and responders can be on call."), field="user"
        )
    if end <= start:
        raise InvalidInput(_("The end must be after the start."), field="end")
    if end <= timezone.now():
        raise InvalidInput(_("This time is over already."), field="end")
    if end - start > MAX_OVERRIDE:
        raise InvalidInput(_("An override lasts at most 31 days."), field="end")
    return ScheduleOverride.objects.create(
        schedule=schedule, user=user, start=start, end=end, reason=(reason or "").strip()[:200]
    )


@transaction.atomic
def schedule_override_delete(*, override: ScheduleOverride, actor: User) -> None:
    """Take an override back (its own person or an escalation manager)."""
    if override.user_id != actor.pk and not _is_manager(actor):
        raise PermissionDenied(_("Only escalation managers remove somebody else's override."))
    override.delete()
