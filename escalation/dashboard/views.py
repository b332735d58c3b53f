"""The executive dashboard: read-only and live, for executives and escalation managers.

The pages answer GET only. No control on them changes an incident or reaches the team; the one
write reachable from here is a question for the escalation manager (its own POST-only URL).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from incidents.exceptions import InvalidInput
from incidents.exceptions import PermissionDenied as DomainPermissionDenied
from incidents.models import Incident

from .. import hooks
from ..services.questions import question_ask
from . import charts, selectors
from .forms import QuestionForm

LIVE_SECONDS = 15
TIME_AXIS_LABELS = 8  # dates below the per-day/per-week chart (every bar is in the table)


def _require_viewer(request) -> str:
    role = selectors.viewer_role(request.user)
    if not role:
        raise PermissionDenied
    return role


def _charts(kpis: dict, unit: str, periods: list) -> dict:
    by_priority = charts.bar_chart(
        title=_("Incidents by priority, last %(days)d days") % {"days": kpis["days"]},
        items=[(f"P{p}", n, charts.PRIORITY_COLOURS[p]) for p, n in kpis["by_priority"]],
    )
    title = (
        _("Incidents per week, last %(days)d days")
        if unit == "week"
        else _("Incidents per day, last %(days)d days")
    )
    axis_format = pgettext("short date below a chart's bar", "M j")
    over_time = charts.bar_chart(
        title=title % {"days": kpis["days"]},
        items=[(date_format(day, axis_format), n, charts.SERIES_COLOUR) for day, n in periods],
        max_labels=TIME_AXIS_LABELS,
    )
    rows = [(date_format(day, "DATE_FORMAT"), n) for day, n in periods]
    titles = (
        _("Mean time to acknowledge (minutes)"),
        _("Mean time to workaround (minutes)"),
        _("Mean time to resolve (minutes)"),
    )
    response_charts = [
        charts.bar_chart(
            title=title,
            items=[
                (date_format(row[0], axis_format), row[1 + i] or 0, charts.SERIES_COLOUR)
                for row in kpis.get("times", [])
            ],
            max_labels=TIME_AXIS_LABELS,
        )
        for i, title in enumerate(titles)
    ]
    return {
        "chart_priority": by_priority,
        "chart_time": over_time,
        "period_rows": rows,
        "response_charts": response_charts,
    }


def _trend(now_value, before_value, *, lower_is_better: bool = True) -> dict | None:
    """How a figure moved against the previous period: arrow, words and whether that is good."""
    if now_value is None or before_value is None or now_value == before_value:
        return None
    up = now_value > before_value
    return {"arrow": "↑" if up else "↓", "good": up != lower_is_better}


def _headline(escalations: list, kpis: dict, previous: dict) -> dict:
    """What an executive asks first: the money at stake now and if restored in 4 h, the open
    escalations by level, and the trend against the previous period of the same length."""
    exposure: dict[str, dict] = {}
    for incident in escalations:
        for currency, sums in (incident.exposure or {}).get("by_currency", {}).items():
            total = exposure.setdefault(currency, {"accrued": 0, "in_4h": 0})
            total["accrued"] += sums["accrued"]
            total["in_4h"] += sums["in_4h"]
    by_level: dict[int, int] = {}
    for incident in escalations:
        level = 0 if incident.paging_level is None else incident.paging_level + 1
        by_level[level] = by_level.get(level, 0) + 1
    return {
        "exposure": exposure,
        "by_level": sorted(by_level.items()),
        "previous": previous,
        "trend_total": _trend(kpis["total"], previous["total"]),
        "trend_mtta": _trend(kpis["mtta"], previous["mtta"]),
        "trend_mttr": _trend(kpis["mttr"], previous["mttr"]),
        "previous_mtta": charts.duration(previous["mtta"]),
        "previous_mttr": charts.duration(previous["mttr"]),
    }


def _context(request, *, days: int, role: str, form: QuestionForm | None = None) -> dict:
    now = timezone.now()
    escalations = selectors.escalation_overview(now=now)
    for incident in escalations:
        incident.age_text = charts.duration(incident.age_now)
        incident.next_update_text = charts.time_to(incident.next_update_due, now)
        incident.next_update_overdue = (
            incident.next_update_due is not None and incident.next_update_due < now
        )
    kpis, (unit, periods) = selectors.kpi_snapshot(days=days, now=now)
    previous = selectors.kpis_previous(days=days, now=now)
    context = {
        "headline": _headline(escalations, kpis, previous),
        "now": now,
        "days": days,
        "windows": selectors.WINDOWS,
        "role": role,
        "escalations": escalations,
        "kpis": kpis,
        "kpi_mtta": charts.duration(kpis["mtta"]),
        "kpi_mttw": charts.duration(kpis["mttw"]),
        "kpi_mttr": charts.duration(kpis["mttr"]),
        "period_unit": unit,
        **_charts(kpis, unit, periods),
        "questions": selectors.questions_asked_by(request.user),
        "form": form or QuestionForm(),
        "live_url": f"{reverse('dashboard:live')}?days={days}",
        "live_seconds": LIVE_SECONDS,
        "sections": hooks.dashboard_sections_render(request, now),  # nested apps' sections
    }
    if role == "manager":  # the console navigation's link to the question queue
        context["open_questions"] = selectors.open_question_count()
    return context


@require_GET
@login_required
def index(request):
    role = _require_viewer(request)
    days = selectors.window_days(request.GET.get("days"))
    return render(request, "dashboard/index.html", _context(request, days=days, role=role))


@require_GET
@login_required
def live(request):
    """The part of the page that refreshes itself (htmx polls it every LIVE_SECONDS)."""
    role = _require_viewer(request)
    days = selectors.window_days(request.GET.get("days"))
    return render(request, "dashboard/_live.html", _context(request, days=days, role=role))


@require_POST
@login_required
def ask(request):
    """Put a question into the escalation manager's queue (it never reaches the team)."""
    role = _require_viewer(request)
    days = selectors.window_days(request.POST.get("days"))
    form = QuestionForm(request.POST)
    if form.is_valid():
        incident_id = form.cleaned_data["incident"]
        incident = Incident.objects.filter(pk=incident_id).first() if incident_id else None
        try:
            if incident_id and incident is None:
                raise InvalidInput(_("Choose an open escalation from the list."), field="incident")
            question_ask(actor=request.user, text=form.cleaned_data["text"], incident=incident)
        except DomainPermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except InvalidInput as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Your question is in the escalation manager's queue. "
                    "The answer will appear on this page."
                ),
            )
            return redirect(f"{reverse('dashboard:index')}?days={days}#questions")
    context = _context(request, days=days, role=role, form=form)
    return render(request, "dashboard/index.html", context, status=400)
