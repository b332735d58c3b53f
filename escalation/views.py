"""HTML views of the escalation process (thin: read through selectors, write through services)."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incidents.exceptions import ApplicationError, TransitionNotAllowed
from incidents.models import Incident, User

from . import ical, roles, schedules, selectors
from .models import CommunicationRule
from .services import engine, incident_acknowledge_by_link

STAFF_ROLES = (roles.ESCALATION_MANAGER, roles.RESPONDER)
ICAL_PERSON_SALT = "escalation.ical-person"
ICAL_DAYS = 90


def _require_staff(user) -> None:
    """The console is for escalation managers and responders; executives and customers never."""
    if not (user.is_superuser or user.groups.filter(name__in=STAFF_ROLES).exists()):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def ack_link(request, token: str):
    """One-click acknowledgement from a page. GET shows what will be acknowledged (mail scanners
    that open links must not acknowledge); one button press (POST) acknowledges, without login."""
    context = {"token": token}
    try:
        link = engine.ack_link_load(token)
        engine.ack_link_validate(link, timezone.now())
    except ApplicationError as exc:
        return render(request, "escalation/ack_link.html", {"error": exc}, status=exc.http_status)
    context.update({"link": link, "incident": link.incident})
    if request.method == "POST":
        try:
            incident = incident_acknowledge_by_link(token=token)
        except TransitionNotAllowed as exc:
            link.incident.refresh_from_db()
            context["error"] = exc
            return render(request, "escalation/ack_link.html", context, status=409)
        except ApplicationError as exc:
            context["error"] = exc
            return render(request, "escalation/ack_link.html", context, status=exc.http_status)
        context.update({"done": True, "incident": incident})
    return render(request, "escalation/ack_link.html", context)


@login_required
def oncall_now(request):
    _require_staff(request.user)
    rows = selectors.on_call_overview(timezone.now())
    for row in rows:
        row["ical_url"] = request.build_absolute_uri(
            f"/oncall/{row['schedule'].pk}/{row['schedule'].ical_token}.ics"
        )
    personal = request.build_absolute_uri(
        f"/oncall/people/{request.user.pk}/{person_ical_token(request.user)}.ics"
    )
    return render(request, "console/oncall.html", {"rows": rows, "personal_ical": personal})


@login_required
def communication_matrix(request):
    _require_staff(request.user)
    rules = (
        CommunicationRule.objects.select_related("customer", "service", "group")
        .prefetch_related("users")
        .order_by("position", "pk")
    )
    return render(request, "console/matrix.html", {"rules": rules})


@login_required
def incident_communication(request, pk: int):
    _require_staff(request.user)
    incident = get_object_or_404(Incident, pk=pk)
    plan = selectors.incident_communication(incident)
    return render(request, "console/incident_communication.html", {"incident": incident, **plan})


def person_ical_token(user: User) -> str:
    return signing.dumps(user.pk, salt=ICAL_PERSON_SALT)


def schedule_ical(request, pk: int, token: str):
    schedule = get_object_or_404(selectors.schedules_with_rotations(), pk=pk, ical_token=token)
    start = timezone.now() - timedelta(days=7)
    shifts = schedules.shifts_between(schedule.as_spec(), start, start + timedelta(days=ICAL_DAYS))
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in={s.user_id for s in shifts})}
    body = ical.shifts_to_ical(
        calendar_name=schedule.name,
        shifts=shifts,
        user_names=names,
        uid_prefix=f"schedule-{schedule.pk}",
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


def person_ical(request, pk: int, token: str):
    try:
        if signing.loads(token, salt=ICAL_PERSON_SALT) != pk:
            raise signing.BadSignature
    except signing.BadSignature:
        return HttpResponse(_("This calendar link is not valid."), status=404)
    person = get_object_or_404(User, pk=pk, is_active=True)
    start = timezone.now() - timedelta(days=7)
    shifts = {}  # one event per start: two schedules covering the same hours are one shift
    for schedule in selectors.schedules_with_rotations():
        for shift in schedules.shifts_between(
            schedule.as_spec(), start, start + timedelta(days=ICAL_DAYS)
        ):
            if shift.user_id == person.pk:
                shifts.setdefault(shift.start, shift)
    body = ical.shifts_to_ical(
        calendar_name=_("On call: %(name)s") % {"name": person.display_name},
        shifts=sorted(shifts.values(), key=lambda s: s.start),
        user_names={person.pk: person.display_name},
        uid_prefix=f"person-{person.pk}",
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")
