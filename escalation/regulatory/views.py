"""The console's regulatory reporting: a panel on the incident page, the incident's reporting
page (awareness, assessments per regime, reports with their clocks), a report's draft with its
PDF, and the list of deadlines across incidents. Team only: responders read what they are pulled
into, escalation managers write; executives read through the dashboard and the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from escalation.access import require_manager, require_staff
from escalation.dashboard.selectors import viewer_role
from escalation.selectors import console_incidents_for
from incidents.exceptions import ApplicationError
from incidents.pdf import render_pdf

from . import selectors
from .forms import AssessmentForm, AwarenessForm, DraftForm, ReferenceForm, SubmitForm
from .models import Regime, Report
from .services import (
    assessment_decide,
    awareness_set,
    report_draft_save,
    report_redraft,
    report_reference_set,
    report_submit,
)


def _incident(request, pk: int):
    return get_object_or_404(console_incidents_for(request.user), pk=pk)


def _report(request, pk: int) -> Report:
    report = get_object_or_404(
        Report.objects.select_related("assessment__regime", "report_type", "submitted_by"), pk=pk
    )
    report.assessment.incident = _incident(request, report.assessment.incident_id)
    return report


def _overview(incident, *, now) -> dict:
    """Regimes with their assessment, checklist (facts filled in) and reports, for the panel and
    the page."""
    facts = selectors.facts_for(incident, now=now)
    assessments = {a.regime_id: a for a in selectors.assessments_for(incident)}
    reports = list(selectors.reports_for(incident))
    rows = []
    for regime in selectors.regimes_for(incident):
        assessment = assessments.get(regime.pk)
        checks = assessment.checks if assessment else {}
        criteria = [
            {**c, "checked": bool(checks.get(c.get("key"))), "fact": _fact(c.get("fact"), facts)}
            for c in regime.criteria
        ]
        rows.append(
            {
                "regime": regime,
                "assessment": assessment,
                "criteria": criteria,
                "reports": [r for r in reports if r.assessment.regime_id == regime.pk],
            }
        )
    return {
        "incident": incident,
        "aware_at": selectors.aware_at(incident),
        "aware_recorded": selectors.awareness_recorded(incident),
        "facts": facts,
        "duration": _fact("duration", facts),
        "rows": rows,
        "now": now,
        "running": [r for r in reports if r.state == Report.State.RUNNING],
    }


def _fact(kind: str | None, facts: dict) -> str:
    if kind == "customers":
        return ", ".join(facts["customers"]) or _("no customers recorded")
    if kind == "services":
        return ", ".join(facts["services"]) or _("no services recorded")
    if kind == "duration":
        minutes = int(facts["duration"].total_seconds() // 60)
        text = _("%(h)d h %(m)d min") % {"h": minutes // 60, "m": minutes % 60}
        return text if facts["resolved"] else _("%(duration)s so far") % {"duration": text}
    if kind == "personal_data":
        return _("a question for you")
    return ""


def incident_reporting_panel(request, incident) -> str:
    """The incident page's section (hook escalation.hooks.incident_panels)."""
    context = _overview(incident, now=timezone.now())
    return render_to_string("regulatory/_panel.html", context, request=request)


@login_required
@require_safe
def reporting_list(request):
    require_staff(request.user)
    reports = selectors.reports_due(incidents=console_incidents_for(request.user), limit=200)
    return render(
        request, "regulatory/list.html", {"reports": list(reports), "now": timezone.now()}
    )


@login_required
@require_safe
def incident_reporting(request, pk: int):
    require_staff(request.user)
    incident = _incident(request, pk)
    context = _overview(incident, now=timezone.now())
    context.update(
        {
            "may_edit": viewer_role(request.user) == "manager",
            "aware_form": AwarenessForm(
                initial={"aware_at": timezone.localtime(context["aware_at"])}
            ),
        }
    )
    for row in context["rows"]:
        a = row["assessment"]
        row["form"] = AssessmentForm(
            prefix=f"r{row['regime'].pk}",
            initial={
                "decision": a.decision if a else None,
                "personal_data": {True: "yes", False: "no"}.get(a.personal_data, "") if a else "",
                "users_affected": a.users_affected if a else None,
                "reason": a.reason if a else "",
            },
        )
    return render(request, "regulatory/incident.html", context)


@login_required
@require_POST
def awareness_change(request, pk: int):
    require_manager(request.user)
    incident = _incident(request, pk)
    form = AwarenessForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter when we became aware and why it changes."))
    else:
        try:
            awareness_set(
                incident=incident,
                actor=request.user,
                aware_at=form.cleaned_data["aware_at"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The moment of becoming aware was changed."))
    return redirect("regulatory:incident", pk=incident.pk)


@login_required
@require_POST
def assessment_record(request, pk: int, regime_pk: int):
    require_manager(request.user)
    incident = _incident(request, pk)
    regime = get_object_or_404(Regime, pk=regime_pk)
    form = AssessmentForm(request.POST, prefix=f"r{regime.pk}")
    if not form.is_valid():
        messages.error(request, _("Decide, and say why."))
        return redirect("regulatory:incident", pk=incident.pk)
    checked = set(request.POST.getlist(f"r{regime.pk}-checks"))
    try:
        assessment_decide(
            incident=incident,
            regime=regime,
            actor=request.user,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            checks={c["key"]: c["key"] in checked for c in regime.criteria if c.get("key")},
            personal_data=form.personal_data_value(),
            users_affected=form.cleaned_data["users_affected"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The assessment was recorded on the timeline."))
    return redirect("regulatory:incident", pk=incident.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_detail(request, pk: int):
    require_staff(request.user)
    report = _report(request, pk)
    form = DraftForm(None if request.method != "POST" else request.POST, initial=_texts(report))
    if request.method == "POST":
        require_manager(request.user)
        if form.is_valid():
            try:
                report_draft_save(report=report, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("The draft was saved."))
            return redirect("regulatory:report", pk=report.pk)
    context = {
        "report": report,
        "incident": report.assessment.incident,
        "form": form,
        "submit_form": SubmitForm(),
        "reference_form": ReferenceForm(),
        "may_edit": viewer_role(request.user) == "manager",
        "now": timezone.now(),
    }
    return render(request, "regulatory/report.html", context)


def _texts(report: Report) -> dict:
    return {"text": report.text, "text_en": report.text_en}


@login_required
@require_POST
def report_submit_view(request, pk: int):
    require_manager(request.user)
    report = _report(request, pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check when it was submitted."))
        return redirect("regulatory:report", pk=report.pk)
    try:
        report_submit(
            report=report,
            actor=request.user,
            submitted_at=form.cleaned_data["submitted_at"],
            reference=form.cleaned_data["reference"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("regulatory:report", pk=report.pk)
    messages.success(request, _("The report is marked submitted; its text is frozen."))
    return redirect("regulatory:incident", pk=report.assessment.incident_id)


@login_required
@require_POST
def report_redraft_view(request, pk: int):
    require_manager(request.user)
    report = _report(request, pk)
    try:
        report_redraft(report=report, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The draft was filled anew from the record."))
    return redirect("regulatory:report", pk=report.pk)


@login_required
@require_POST
def report_reference_view(request, pk: int):
    require_manager(request.user)
    report = _report(request, pk)
    form = ReferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the authority's reference."))
    else:
        try:
            report_reference_set(
                report=report, actor=request.user, reference=form.cleaned_data["reference"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The authority's reference was recorded."))
    return redirect("regulatory:report", pk=report.pk)


@login_required
@require_safe
def report_pdf(request, pk: int):
    require_staff(request.user)
    report = _report(request, pk)
    language = "en" if request.GET.get("lang") == "en" else "de"
    html = render_to_string(
        "regulatory/report_pdf.html",
        {
            "report": report,
            "text": report.text_en if language == "en" else report.text,
            "language": language,
        },
        request=request,
    )
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    name = f"incident-{report.assessment.incident_id}-{report.assessment.regime.code}-"
    response["Content-Disposition"] = (
        f'inline; filename="{name}{report.report_type.code}-{language}.pdf"'
    )
    return response
