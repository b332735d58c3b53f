"""One on-call schedule in the console: its shifts over a week or a month, and overrides (take
a shift over in two clicks: "Take over", then "Put on call")."""

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from incidents.exceptions import ApplicationError

from . import selectors
from .models import OnCallSchedule, ScheduleImport, ScheduleOverride
from .services.oncall import (
    schedule_ical_fetch,
    schedule_ical_import,
    schedule_override_create,
    schedule_override_delete,
)
from .views import _error, _require_staff

RANGES = {"week": 7, "month": 28}


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Who"))
    start = forms.DateTimeField(label=gettext_lazy("From"))
    end = forms.DateTimeField(label=gettext_lazy("Until"))
    reason = forms.CharField(max_length=200, required=False, label=gettext_lazy("Reason"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.staff_people()


def _first_day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()


@login_required
@require_GET
def schedule_detail(request, pk: int):
    _require_staff(request.user)
    span = request.GET.get("range", "week")
    days = RANGES.get(span, 7)
    first = _first_day(request.GET.get("from"))
    calendar = selectors.schedule_calendar(pk, first, days)
    if calendar is None:
        raise Http404
    return render(
        request,
        "console/oncall_schedule.html",
        {
            **calendar,
            "range": span if span in RANGES else "week",
            "first": first,
            "previous": first - timedelta(days=days),
            "next": first + timedelta(days=days),
            "people": list(selectors.staff_people()),
            "ical_import": ScheduleImport.objects.filter(schedule_id=pk).first(),
            "import_form": CalendarImportForm(),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def override_create(request, pk: int):
    _require_staff(request.user)
    schedule = get_object_or_404(OnCallSchedule, pk=pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(" ".join(e) for e in form.errors.values())
        return _error(request, errors, status=400)
    try:
        schedule_override_create(schedule=schedule, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status)
    messages.success(request, _("On call as planned: the override is in force."))
    return redirect("console:oncall_schedule", pk=pk)


@login_required
@require_POST
def override_delete(request, pk: int, override_pk: int):
    _require_staff(request.user)
    override = get_object_or_404(ScheduleOverride, pk=override_pk, schedule_id=pk)
    try:
        schedule_override_delete(override=override, actor=request.user)
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status)
    messages.success(request, _("Override removed."))
    return redirect("console:oncall_schedule", pk=pk)


class CalendarImportForm(forms.Form):
    url = forms.URLField(
        required=False,
        max_length=2000,
        label=gettext_lazy("Calendar URL (refreshed hourly)"),
        assume_scheme="https",
    )
    file = forms.FileField(required=False, label=gettext_lazy("or an .ics file"))

    def clean(self):
        data = super().clean()
        if not data.get("url") and not data.get("file"):
            raise forms.ValidationError(_("Give a calendar URL or choose an .ics file."))
        return data


@login_required
@require_POST
def calendar_import(request, pk: int):
    _require_staff(request.user)
    schedule = get_object_or_404(OnCallSchedule, pk=pk)
    form = CalendarImportForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = "; ".join(" ".join(e) for e in form.errors.values())
        return _error(request, errors, status=400)
    data = form.cleaned_data
    try:
        if data.get("file"):
            source = schedule_ical_import(
                schedule=schedule, actor=request.user, content=data["file"].read()
            )
        else:
            source = schedule_ical_fetch(schedule=schedule, actor=request.user, url=data["url"])
    except ApplicationError as exc:
        return _error(request, exc.message, status=exc.http_status)
    messages.success(
        request,
        _("%(shifts)d shifts imported; %(unmatched)d events named nobody we know.")
        % {"shifts": source.shifts, "unmatched": len(source.unmatched)},
    )
    return redirect("console:oncall_schedule", pk=pk)
