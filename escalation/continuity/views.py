"""The console's business continuity: processes and runbooks (read by the team, edited by
escalation managers), and the incident page's actions (apply a runbook, record a concession, set
the disruption level). Thin: read through selectors, write through services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from escalation.access import require_manager, require_staff
from escalation.dashboard.selectors import viewer_role
from escalation.selectors import console_incidents_for
from incidents.exceptions import ApplicationError
from incidents.models import Customer, Incident

from . import selectors
from .forms import (
    ConcessionForm,
    LevelForm,
    ProcessForm,
    RunbookForm,
    WorkaroundForm,
    steps_text,
)
from .models import BusinessProcess, Runbook, Workaround
from .services import (
    VERSION_FIELDS,
    concession_record,
    level_release,
    level_set,
    process_create,
    process_update,
    runbook_create,
    runbook_revise,
    workaround_apply,
)


def _errors(form) -> str:
    return "; ".join(" ".join(e) for e in form.errors.values())


@login_required
@require_safe
def process_list(request):
    require_staff(request.user)
    processes = selectors.processes_for(request.user).prefetch_related("runbooks")
    return render(
        request,
        "continuity/process_list.html",
        {"processes": processes, "may_edit": viewer_role(request.user) == "manager"},
    )


@login_required
@require_safe
def process_detail(request, pk: int):
    require_staff(request.user)
    process = get_object_or_404(selectors.processes_for(request.user), pk=pk)
    return render(
        request,
        "continuity/process_detail.html",
        {
            "process": process,
            "runbooks": process.runbooks.order_by("title"),
            "may_edit": viewer_role(request.user) == "manager",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def process_edit(request, pk: int | None = None):
    require_manager(request.user)
    process = get_object_or_404(BusinessProcess, pk=pk) if pk else None
    form = ProcessForm(request.POST or None, instance=process)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if process is None:
                process = process_create(actor=request.user, **data)
            else:
                process = process_update(process=process, actor=request.user, **data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The business process was saved."))
            return redirect("continuity:process", pk=process.pk)
    return render(request, "continuity/process_edit.html", {"form": form, "process": process})


@login_required
@require_safe
def runbook_list(request):
    require_staff(request.user)
    return render(
        request,
        "continuity/runbook_list.html",
        {
            "runbooks": selectors.runbooks_for(request.user).order_by("title"),
            "may_edit": viewer_role(request.user) == "manager",
        },
    )


@login_required
@require_safe
def runbook_detail(request, pk: int):
    require_staff(request.user)
    runbook = get_object_or_404(selectors.runbooks_for(request.user), pk=pk)
    versions = list(runbook.versions.select_related("created_by"))
    shown = versions[0] if versions else None
    if request.GET.get("version", "").isdigit():
        number = int(request.GET["version"])
        shown = next((v for v in versions if v.number == number), shown)
    return render(
        request,
        "continuity/runbook_detail.html",
        {
            "runbook": runbook,
            "shown": shown,
            "versions": versions,
            "may_edit": viewer_role(request.user) == "manager",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def runbook_edit(request, pk: int | None = None):
    require_manager(request.user)
    runbook = get_object_or_404(Runbook, pk=pk) if pk else None
    initial = {"process": request.GET.get("process")} if runbook is None else {}
    if runbook is not None:
        current = selectors.runbook_current(runbook)
        initial = {
            "title": runbook.title,
            "process": runbook.process_id,
            "service": runbook.service_id,
            "is_active": runbook.is_active,
            **{k: getattr(current, k) for k in VERSION_FIELDS if current},
        }
        if current:
            initial["steps"] = steps_text(current.steps)
    form = RunbookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if runbook is None:
                data.pop("is_active")
                runbook = runbook_create(actor=request.user, **data)
            else:
                runbook_revise(runbook=runbook, actor=request.user, **data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The runbook was saved."))
            return redirect("continuity:runbook", pk=runbook.pk)
    return render(request, "continuity/runbook_edit.html", {"form": form, "runbook": runbook})


def _incident(request, pk: int) -> Incident:
    """The console's scope: escalation managers any incident, responders those they work on."""
    return get_object_or_404(console_incidents_for(request.user), pk=pk)


def _back(pk: int):
    return redirect("console:incident", pk=pk)


@login_required
@require_POST
def incident_workaround(request, pk: int):
    """Apply a runbook (or an ad hoc workaround) on the incident."""
    require_staff(request.user)
    incident = _incident(request, pk)
    form = WorkaroundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(pk)
    data = form.cleaned_data
    runbook = None
    if data["runbook"]:
        runbook = Runbook.objects.filter(pk=data["runbook"], is_active=True).first()
        if runbook is None:
            messages.error(request, _("No such runbook."))
            return _back(pk)
    try:
        workaround_apply(
            incident=incident,
            actor=request.user,
            runbook=runbook,
            text=data["text"],
            customer_text_de=data["customer_text_de"],
            customer_text_en=data["customer_text_en"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The workaround is in place."))
    return _back(pk)


@login_required
@require_POST
def incident_concession(request, pk: int):
    """Record the customer's acceptance of the current workaround."""
    require_manager(request.user)
    incident = _incident(request, pk)
    workaround = Workaround.objects.filter(incident=incident).first()
    form = ConcessionForm(request.POST)
    form.fields["customer"].queryset = Customer.objects.filter(incidents=incident)
    if workaround is None:
        messages.error(request, _("No workaround was provided yet."))
    elif not form.is_valid():
        messages.error(request, _errors(form))
    else:
        try:
            concession_record(workaround=workaround, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The customer's acceptance was recorded."))
    return _back(pk)


@login_required
@require_POST
def incident_level(request, pk: int):
    """Set the disruption level (with a reason), or let it follow the objectives again."""
    require_manager(request.user)
    incident = _incident(request, pk)
    if "release" in request.POST:
        level_release(incident=incident, actor=request.user)
        return _back(pk)
    form = LevelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(pk)
    try:
        level_set(incident=incident, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The disruption level was set."))
    return _back(pk)
