"""The console's problem pages: list (with recurring disruptions), detail (root cause, linked
incidents, history, transitions), create and edit; links and transitions are POST-only actions.
The team (escalation managers and responders) works here; executives read the dashboard and the
API, customers none of it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from escalation.access import require_staff
from escalation.selectors import console_incidents_for
from incidents.exceptions import ApplicationError
from incidents.models import Service

from .forms import ProblemForm
from .models import ACTION_LABELS, FISHBONE_CATEGORIES, Problem, ProblemState
from .selectors import problem_incidents_for, problems_for, recurring_disruptions
from .sentences import history_present
from .services import (
    allowed_actions,
    problem_create,
    problem_flag_clear,
    problem_link_incident,
    problem_transition,
    problem_unlink_incident,
    problem_update,
    signature_of,
)


def _problem(request, pk: int) -> Problem:
    return get_object_or_404(problems_for(request.user), pk=pk)


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).strip().isdigit()][:50]


def _back(request, problem: Problem):
    """Back to where the form was (the incident page, when linking from there), else the problem."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("problems:detail", pk=problem.pk)


@login_required
@require_safe
def problem_list(request):
    require_staff(request.user)
    state = request.GET.get("state", "")
    problems = problems_for(request.user)
    if state in ProblemState.values:
        problems = problems.filter(state=state)
    return render(
        request,
        "problems/list.html",
        {
            "problems": problems[:200],
            "states": ProblemState.choices,
            "state": state,
            "recurring": recurring_disruptions(timezone.now()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def problem_new(request):
    require_staff(request.user)
    source = request.POST if request.method == "POST" else request.GET
    incidents = list(
        console_incidents_for(request.user).filter(pk__in=_ids(source.getlist("incidents")))
    )
    initial = {}
    if request.method == "GET":
        keys, labels = signature_of(incidents)
        services = {s.pk for i in incidents for s in i.services.all()}
        services |= set(
            Service.objects.filter(slug__in=request.GET.getlist("service")).values_list(
                "pk", flat=True
            )
        )
        initial = {
            "services": sorted(services),
            "statement": incidents[0].title if incidents else "",
            "dedup_keys_text": "\n".join(keys),
            "alert_labels_text": "\n".join(f"{k}={v}" for k, v in labels.items()),
        }
    form = ProblemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            problem = problem_create(actor=request.user, incidents=incidents, **fields)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The problem was recorded."))
            return redirect("problems:detail", pk=problem.pk)
    return render(
        request,
        "problems/edit.html",
        {"form": form, "problem": None, "incidents": incidents, "fishbone": FISHBONE_CATEGORIES},
    )


@login_required
@require_http_methods(["GET", "POST"])
def problem_edit(request, pk: int):
    require_staff(request.user)
    problem = _problem(request, pk)
    form = ProblemForm(request.POST or None, instance=problem)
    if request.method == "POST" and form.is_valid():
        try:
            problem_update(problem=problem, actor=request.user, **form.service_fields())
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The problem was saved."))
            return redirect("problems:detail", pk=problem.pk)
    return render(
        request,
        "problems/edit.html",
        {"form": form, "problem": problem, "incidents": [], "fishbone": FISHBONE_CATEGORIES},
    )


@login_required
@require_safe
def problem_detail(request, pk: int):
    require_staff(request.user)
    problem = _problem(request, pk)
    incidents = list(problem_incidents_for(request.user, problem))
    actions = [(a, ACTION_LABELS[a]) for a in allowed_actions(problem, request.user)]
    categories = (problem.root_cause_analysis or {}).get("categories", {})
    return render(
        request,
        "problems/detail.html",
        {
            "problem": problem,
            "incidents": incidents,
            "hidden_incidents": problem.incident_count - len(incidents),
            "actions": actions,
            "whys": (problem.root_cause_analysis or {}).get("whys", []),
            "fishbone": [(FISHBONE_CATEGORIES[k], v) for k, v in categories.items()],
            "events": history_present(
                problem.events.select_related("actor").order_by("-created_at", "-pk")
            ),
        },
    )


@login_required
@require_POST
def problem_link(request, pk: int):
    require_staff(request.user)
    problem = _problem(request, pk)
    ids = _ids([request.POST.get("incident", "")])
    incident = get_object_or_404(console_incidents_for(request.user), pk=ids[0] if ids else 0)
    try:
        problem_link_incident(problem=problem, incident=incident, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The incident was linked to the problem."))
    return _back(request, problem)


@login_required
@require_POST
def problem_unlink(request, pk: int):
    require_staff(request.user)
    problem = _problem(request, pk)
    ids = _ids([request.POST.get("incident", "")])
    incident = get_object_or_404(console_incidents_for(request.user), pk=ids[0] if ids else 0)
    try:
        problem_unlink_incident(problem=problem, incident=incident, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The incident was unlinked from the problem."))
    return _back(request, problem)


@login_required
@require_POST
def problem_action(request, pk: int, action: str):
    require_staff(request.user)
    problem = _problem(request, pk)
    if action != "clear_flag" and action not in ACTION_LABELS:
        return render(request, "console/error.html", {"message": _("Unknown action.")}, status=404)
    reason = request.POST.get("reason", "").strip()[:500]
    try:
        if action == "clear_flag":
            problem_flag_clear(problem=problem, actor=request.user, reason=reason)
        else:
            problem_transition(problem=problem, action=action, actor=request.user, reason=reason)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("problems:detail", pk=problem.pk)
