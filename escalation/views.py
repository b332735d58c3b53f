"""HTML views of the escalation process (thin: read through selectors, write through services)."""

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incidents.exceptions import ApplicationError, TransitionNotAllowed
from incidents.exceptions import PermissionDenied as DomainPermissionDenied
from incidents.models import (
    ACTION_LABELS,
    OPEN_STATES,
    Impact,
    Incident,
    Service,
    Urgency,
    User,
)

from . import access, hooks, ical, narrative, schedules, selectors
from .forms import (
    ACTION_FORMS,
    CommunicationRuleForm,
    NewIncidentForm,
    PreferencesForm,
    PublicIncidentForm,
    PublicLinkForm,
    PublicUpdateForm,
    PublishUpdateForm,
)
from .models import CommunicationRule, EscalationRun, PriorityMatrixEntry
from .services import (
    allowed_actions,
    engine,
    incident_acknowledge_by_link,
    incident_open,
    incident_perform,
)
from .services.matrix import (
    communication_rule_delete,
    communication_rule_save,
    lifecycle_plan,
    update_preview,
    update_publish,
)
from .services.sla import sla_pause, sla_resume

ICAL_PERSON_SALT = "escalation.ical-person"
ICAL_DAYS = 90


# The console's guards (escalation/access.py), under the names this module's views and the core's
# other view modules use.
_require_staff = access.require_staff
_require_manager = access.require_manager


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
    incident = _console_incident(request, pk)
    plan = selectors.incident_communication(incident)
    context = {"incident": incident, "to_come": lifecycle_plan(incident), **plan}
    return render(request, "console/incident_communication.html", context)


def person_ical_token(user: User) -> str:
    return signing.Signer(salt=ICAL_PERSON_SALT).sign_object(user.pk)


def schedule_ical(request, pk: int, token: str):
    schedule = get_object_or_404(selectors.schedules_with_rotations(), pk=pk, ical_token=token)
    start = timezone.now() - timedelta(days=7)
    shifts = schedules.shifts_for_feed(schedule.as_spec(), start, start + timedelta(days=ICAL_DAYS))
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in={s.user_id for s in shifts})}
    body = ical.shifts_to_ical(
        calendar_name=schedule.name,
        shifts=shifts,
        user_names=names,
        uid_prefix=f"schedule-{schedule.pk}",
        categories=dict.fromkeys(shifts, [schedule.name]),
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


def person_ical(request, pk: int, token: str):
    try:
        if signing.Signer(salt=ICAL_PERSON_SALT).unsign_object(token) != pk:
            raise signing.BadSignature
    except signing.BadSignature:
        return HttpResponse(_("This calendar link is not valid."), status=404)
    person = get_object_or_404(User, pk=pk, is_active=True)
    start = timezone.now() - timedelta(days=7)
    shifts = {}  # one event per start: two schedules covering the same hours are one shift
    prefixes, categories = {}, {}
    for schedule in selectors.schedules_with_rotations():
        for shift in schedules.shifts_for_feed(
            schedule.as_spec(), start, start + timedelta(days=ICAL_DAYS)
        ):
            if shift.user_id == person.pk:
                first = shifts.setdefault(shift.start, shift)
                prefixes.setdefault(first, f"schedule-{schedule.pk}")
                categories.setdefault(first, []).append(schedule.name)
    body = ical.shifts_to_ical(
        calendar_name=_("On call: %(name)s") % {"name": person.display_name},
        shifts=sorted(shifts.values(), key=lambda s: s.start),
        user_names={person.pk: person.display_name},
        uid_prefix=f"person-{person.pk}",
        uid_prefixes=prefixes,
        categories=categories,
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


# --- The triage console ------------------------------------------------------------------------


def _console_incident(request, pk: int) -> Incident:
    return get_object_or_404(selectors.console_incidents_for(request.user), pk=pk)


def _error(request, message: str, *, status: int, incident: Incident | None = None, **extra):
    context = {"message": message, "incident": incident, **extra}
    return render(request, "console/error.html", context, status=status)


@login_required
def board(request):
    _require_staff(request.user)
    now = timezone.now()
    incidents = selectors.board_for(
        request.user,
        priority=request.GET.get("priority", ""),
        service=request.GET.get("service", ""),
    )
    exposure = selectors.exposure_by_incident(incidents, now)
    for incident in incidents:
        incident.sla = exposure.get(incident.pk)
    context = {
        "incidents": incidents,
        "now": now,
        "services": Service.objects.order_by("position", "name"),
        "priority": request.GET.get("priority", ""),
        "service": request.GET.get("service", ""),
    }
    if request.headers.get("HX-Request"):
        return render(request, "console/_board.html", context)
    context.update(_open_questions_for(request.user))
    return render(request, "console/board.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    _require_staff(request.user)
    if not request.user.has_perm("incidents.add_incident"):
        raise PermissionDenied
    form = NewIncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_open(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                services=list(data["services"]),
                customers=list(data["customers"]),
                commander=request.user,
                impact=data["impact"],
                urgency=data["urgency"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("console:incident", pk=incident.pk)
    return render(request, "console/incident_new.html", {"form": form})


# The order in which the next steps are offered (the first one is open): acknowledging and moving
# forward first; reclassifying an already classified incident last, so one click never raises it.
NEXT_STEP_ORDER = [
    "acknowledge",
    "classify",
    "escalate",
    "provide_workaround",
    "resolve",
    "close",
    "reopen",
    "reclassify",
]


def _action_forms(incident: Incident, allowed: list[str]) -> list[tuple]:
    """(action, label, form, note) per allowed action: forms preset to the incident's current
    values, required fields marked as such, and what the action needs said before the confirm."""
    actions = []
    for action in allowed:
        form, label, note, step = (
            ACTION_FORMS[action](prefix=action),
            ACTION_LABELS[action],
            "",
            action,
        )
        if action == "classify":
            if incident.priority:
                form.initial = {"impact": incident.impact, "urgency": incident.urgency}
                label, step = _("Reclassify"), "reclassify"
            else:
                for name in ("impact", "urgency"):
                    form.fields[name].choices = [("", _("Choose …")), *form.fields[name].choices]
        if action == "close":
            blocked = hooks.close_blocked_by(incident)
            if blocked:
                note = _("Closing is not possible yet: %(reason)s") % {"reason": blocked}
            elif incident.escalated_at and "review" in form.fields:
                form.fields["review"].required = True
                note = _(
                    "This incident was escalated: closing needs a post-incident review (cause, "
                    "impact, corrective actions)."
                )
        for field in form.fields.values():
            if field.required:
                field.widget.attrs["required"] = True
        actions.append((NEXT_STEP_ORDER.index(step), action, label, form, note))
    return [entry[1:] for entry in sorted(actions, key=lambda entry: entry[0])]


def _incident_live(request, incident: Incident, *, seen: int):
    """The parts of the incident page that are not forms (state, timeline, updates), polled by
    htmx: 204 while nothing was recorded since the page was loaded (timeline entry `seen`); else
    the fresh parts and who changed the incident meanwhile, so no form input is lost."""
    if incident.timeline_length <= seen:
        return HttpResponse(status=204)
    events = incident.events.select_related("actor").order_by("-seq")
    entries = narrative.entries_present(events)
    changed_by = list(
        dict.fromkeys(e.who for e in entries if e.event.seq > seen and e.event.actor_id)
    )
    context = {
        "incident": incident,
        "seen": seen,
        "changed_by": changed_by or [_("the system")],
        "events": entries,
        "updates": incident.updates.select_related("author").order_by("-created_at"),
    }
    return render(request, "console/_incident_live.html", context)


@login_required
def incident_detail(request, pk: int):
    _require_staff(request.user)
    incident = _console_incident(request, pk)
    if request.headers.get("HX-Request") and request.GET.get("seen", "").isdigit():
        return _incident_live(request, incident, seen=int(request.GET["seen"]))
    actions = _action_forms(incident, allowed_actions(incident, request.user))
    cells = {(c.impact, c.urgency): c.priority for c in PriorityMatrixEntry.objects.all()}
    context = {
        "incident": incident,
        "actions": actions,
        "events": narrative.entries_present(
            incident.events.select_related("actor").order_by("-seq")
        ),
        "updates": incident.updates.select_related("author").order_by("-created_at"),
        "pages": incident.pages.select_related("user").order_by("created_at"),
        "run": EscalationRun.objects.filter(incident=incident).first(),
        "plan": selectors.incident_communication(incident),
        "matrix": [
            (impact, [(urgency, cells.get((impact.value, urgency.value))) for urgency in Urgency])
            for impact in Impact
        ],
        "update_form": PublishUpdateForm(),
        **_public_context(incident),
        "panels": hooks.incident_panels_render(request, incident),  # nested apps' sections
        "version": incident.updated_at.isoformat(),
        **_sla_context(incident),
    }
    return render(request, "console/incident.html", context)


ALERTS_SHOWN = 100  # an alert storm's group can hold thousands: the API lists them all


def incident_alerts_panel(request, incident) -> str:
    """The incident page's "Alerts" section (an incident_panels hook): every alert grouped onto
    the incident, firing first; nothing for an incident no monitoring opened."""
    alerts = selectors.incident_alerts(incident, limit=ALERTS_SHOWN)
    if not alerts:
        return ""
    counts = selectors.incident_alert_counts(incident)
    context = {
        "alerts": alerts,
        "more": max(0, counts["total"] - len(alerts)),
        "firing": counts["firing"] if counts["total"] else int(alerts[0].resolved_at is None),
        "pk": incident.pk,
    }
    return render_to_string("console/_alerts.html", context, request=request)


def _public_context(incident: Incident) -> dict:
    """The incident's public face, or the "Publish for customers" form prefilled with its
    services' standard texts in both languages, and the open public incidents to join."""
    from incidents.models import PublicIncident

    from .services.public import public_face_of, standard_texts

    face = public_face_of(incident)
    if face is not None:
        return {
            "public_face": face,
            "public_updates": face.updates.select_related("author").order_by("-created_at"),
            "public_update_form": PublicUpdateForm(initial={"status": face.status}),
        }
    return {
        "public_face": None,
        "publish_form": PublicIncidentForm(
            initial={**standard_texts(incident.services.all()), "status": "investigating"}
        ),
        "open_public_incidents": PublicIncident.objects.exclude(status="resolved").order_by(
            "-published_at"
        )[:20],
    }


def _form_errors(form) -> str:
    return "; ".join(
        f"{form.fields[f].label}: {' '.join(e)}" if f in form.fields else " ".join(e)
        for f, e in form.errors.items()
    )


@login_required
@require_http_methods(["POST"])
def public_publish(request, pk: int):
    """Publish the incident for customers (a new public incident), or let an open public
    incident cover it too (`public_incident`: one disruption, several incidents)."""
    from incidents.models import PublicIncident

    from .services.public import public_incident_link, public_incident_publish

    _require_staff(request.user)
    incident = _console_incident(request, pk)
    link = PublicLinkForm(request.POST)
    form = PublicIncidentForm(request.POST)
    try:
        if "public_incident" in request.POST:
            if not link.is_valid():
                return _error(request, _form_errors(link), status=400, incident=incident)
            face = PublicIncident.objects.filter(pk=link.cleaned_data["public_incident"]).first()
            if face is None or not face.is_open:
                return _error(
                    request, _("No such open public incident."), status=400, incident=incident
                )
            public_incident_link(public_incident=face, actor=request.user, incidents=[incident])
        else:
            if not form.is_valid():
                return _error(request, _form_errors(form), status=400, incident=incident)
            public_incident_publish(actor=request.user, incidents=[incident], **form.cleaned_data)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status, incident=incident)
    messages.success(request, _("Published for customers."))
    return redirect("console:incident", pk=pk)


@login_required
@require_http_methods(["POST"])
def public_update(request, pk: int):
    """A public update (status and text) of the incident's public face; "resolved" is the
    all-clear."""
    from .services.public import public_face_required, public_incident_update_post

    _require_staff(request.user)
    incident = _console_incident(request, pk)
    form = PublicUpdateForm(request.POST)
    if not form.is_valid():
        return _error(request, _form_errors(form), status=400, incident=incident)
    try:
        face = public_face_required(incident)
        public_incident_update_post(public_incident=face, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status, incident=incident)
    messages.success(request, _("The public update was published."))
    return redirect("console:incident", pk=pk)


def _sla_context(incident: Incident) -> dict:
    loaded = selectors.with_sla(Incident.objects.filter(pk=incident.pk)).get()
    return {
        "sla": selectors.sla_exposure(loaded, timezone.now()),
        "sla_paused": next((p for p in loaded.sla_pauses.all() if p.ended_at is None), None),
        "open_states": OPEN_STATES,
    }


@login_required
@require_http_methods(["POST"])
def sla_pause_view(request, pk: int):
    _require_staff(request.user)
    incident = _console_incident(request, pk)
    try:
        sla_pause(incident=incident, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status, incident=incident)
    messages.success(request, _("The SLA clocks are paused."))
    return redirect("console:incident", pk=pk)


@login_required
@require_http_methods(["POST"])
def sla_resume_view(request, pk: int):
    _require_staff(request.user)
    incident = _console_incident(request, pk)
    try:
        sla_resume(incident=incident, actor=request.user)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status, incident=incident)
    messages.success(request, _("The SLA clocks run again."))
    return redirect("console:incident", pk=pk)


def _stale(request, incident: Incident):
    """The form was made before someone else changed the incident: show what changed."""
    try:
        since = datetime.fromisoformat(request.POST.get("version", ""))
    except ValueError:
        return None
    if incident.updated_at <= since:
        return None
    changes = narrative.entries_present(
        incident.events.filter(created_at__gt=since).select_related("actor").order_by("seq")
    )
    return _error(
        request,
        _("Someone else changed this incident after you opened it. Nothing was saved."),
        status=409,
        incident=incident,
        changes=changes,
    )


@login_required
@require_http_methods(["POST"])
def incident_action(request, pk: int, action: str):
    _require_staff(request.user)
    incident = _console_incident(request, pk)
    if action not in ACTION_FORMS:
        return _error(request, _("Unknown action."), status=404, incident=incident)
    stale = _stale(request, incident)
    if stale is not None:
        return stale
    form = ACTION_FORMS[action](request.POST, prefix=action)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[f].label}: {' '.join(e)}" if f in form.fields else " ".join(e)
            for f, e in form.errors.items()
        )
        return _error(request, errors, status=400, incident=incident)
    try:
        incident_perform(
            incident=incident, actor=request.user, action=action, data=form.cleaned_data
        )
    except DomainPermissionDenied as exc:
        return _error(request, exc.message, status=403, incident=incident)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status, incident=incident)
    messages.success(request, _("Done: %(action)s.") % {"action": ACTION_LABELS[action]})
    return redirect("console:incident", pk=pk)


@login_required
@require_http_methods(["POST"])
def incident_update(request, pk: int):
    _require_staff(request.user)
    incident = _console_incident(request, pk)
    form = PublishUpdateForm(request.POST)
    if not form.is_valid():
        return _error(
            request, _("An update needs an audience and a text."), status=400, incident=incident
        )
    if request.POST.get("preview"):
        return render(
            request,
            "console/_preview.html",
            {"preview": update_preview(incident=incident, **form.cleaned_data)},
        )
    try:
        update_publish(incident=incident, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status, incident=incident)
    messages.success(request, _("The update was published."))
    return redirect("console:incident", pk=pk)


def _require_matrix_editor(user) -> None:
    _require_staff(user)
    if not user.has_perm("escalation.change_communicationrule"):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def matrix_edit(request, pk: int | None = None):
    """Add or change a row of the communication matrix (escalation managers)."""
    _require_matrix_editor(request.user)
    rule = get_object_or_404(CommunicationRule, pk=pk) if pk else None
    form = CommunicationRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        communication_rule_save(form=form)
        messages.success(request, _("The communication matrix was saved."))
        return redirect("console:matrix")
    return render(request, "console/matrix_edit.html", {"form": form, "rule": rule})


@login_required
@require_http_methods(["POST"])
def matrix_delete(request, pk: int):
    _require_matrix_editor(request.user)
    communication_rule_delete(rule=get_object_or_404(CommunicationRule, pk=pk))
    messages.success(request, _("The row was removed from the communication matrix."))
    return redirect("console:matrix")


# --- Questions from executives: the escalation manager's queue ----------------------------------


def _open_questions_for(user) -> dict:
    """The open question count for the navigation's link to the queue (managers only)."""
    from .dashboard import selectors as dashboard_selectors

    if dashboard_selectors.viewer_role(user) != "manager":
        return {}
    return {"open_questions": dashboard_selectors.open_question_count()}


def _questions_page(request, *, errors: dict | None = None, status: int = 200):
    from .dashboard import selectors as dashboard_selectors

    queue = dashboard_selectors.question_queue()
    context = {
        **queue,
        "open_questions": dashboard_selectors.open_question_count(),
        "errors": errors or {},
        "posted": request.POST if errors else {},
    }
    return render(request, "console/questions.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def questions(request):
    """Executives' questions, open ones first, each with an answer form (managers only)."""
    _require_manager(request.user)
    return _questions_page(request)


@login_required
@require_http_methods(["POST"])
def question_answer(request, pk: int):
    from incidents.exceptions import InvalidInput

    from .models import Question
    from .services.questions import question_answer as answer_question

    _require_staff(request.user)
    question = get_object_or_404(Question, pk=pk)
    try:
        answer_question(actor=request.user, question=question, answer=request.POST.get("answer"))
    except DomainPermissionDenied as exc:
        return _error(request, exc.message, status=403)
    except InvalidInput as exc:
        return _questions_page(request, errors={question.pk: exc.message}, status=400)
    messages.success(request, _("Your answer is on the asker's dashboard."))
    return redirect("console:questions")


# --- Everybody's own settings ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in person's language and time zone (customers, executives and staff alike)."""
    from django.conf import settings

    from incidents.services import user_preferences_set

    user = request.user
    initial = {"language": user.language, "time_zone": user.time_zone}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        user_preferences_set(user=user, **form.cleaned_data)
        messages.success(request, _("Your settings are saved."))
        response = redirect("profile")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"])
        return response
    return render(request, "profile.html", {"form": form})
