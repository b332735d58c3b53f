"""HTML and PDF of the evidence app (GET only): the dossier PDF of an incident, the process
handbook (as of now or any date, HTML and PDF) and the configuration changes between two dates.

Who may read: escalation managers, responders and executives (a responder only the dossiers of
incidents they may read: another is a 404); customer contacts and everybody else a 403;
anonymous users log in first.
"""

import contextlib
from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents.pdf import render_pdf

from .handbook import handbook
from .history import LIMIT, config_changes
from .selectors import dossier_incidents_for, may_read_evidence, reads_full_dossier

TIME_KEYS = {"at", "from", "until", "generated_at"}


def _require_reader(user) -> None:
    if not may_read_evidence(user):
        raise PermissionDenied


def with_datetimes(value):
    """The dossier's ISO 8601 strings (keys `at`, `*_at`, `from`, `until`) as datetimes, so that
    templates show them in the reader's time zone."""
    if isinstance(value, list):
        return [with_datetimes(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {}
    for key, item in value.items():
        if isinstance(item, str) and item and (key in TIME_KEYS or key.endswith("_at")):
            with contextlib.suppress(ValueError):
                item = datetime.fromisoformat(item)
        elif key != "data":  # timeline data is shown as stored
            item = with_datetimes(item)
        converted[key] = item
    return converted


@require_GET
@login_required
def dossier_pdf(request, pk: int):
    _require_reader(request.user)
    incident = get_object_or_404(dossier_incidents_for(request.user), pk=pk)
    # Imported here: the dossier reads the API's serializers, and web workers load DRF only
    # after config/wsgi.py has hidden what DRF need not import (this module loads at app setup).
    from .dossier import incident_dossier

    dossier = incident_dossier(incident, at=timezone.now(), full=reads_full_dossier(request.user))
    html = render_to_string(
        "evidence/dossier_pdf.html",
        {"dossier": with_datetimes(dossier), "script": dossier["timeline"]["script"]},
        request=request,
    )
    pdf = render_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dossier-incident-{pk}.pdf"'
    return response


def incident_dossier_panel(request, incident) -> str:
    """The console's incident page links the dossier (a hook: escalation.hooks.incident_panels)."""
    return render_to_string(
        "evidence/_incident_panel.html", {"incident": incident}, request=request
    )


# --- The process handbook, as of now or any date, and the changes between two dates --------------


def _moment(value: str, *, end_of_day: bool) -> datetime | None:
    """A date (its end, or its start) or a date and time, in the reader's time zone; None if
    the text is neither."""
    value = (value or "").strip()
    try:  # a date first: parse_datetime takes "2026-12-07" for its midnight
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError:
        return None
    if day is not None:
        moment = datetime.combine(day, time.max if end_of_day else time.min)
    if moment is None:
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _as_of(request) -> tuple[datetime | None, str]:
    """The handbook's date from ?as_of= (None: now), and an error text for an invalid one."""
    raw = request.GET.get("as_of", "")
    if not raw:
        return None, ""
    at = _moment(raw, end_of_day=True)
    if at is None:
        return None, _("Enter a date as YYYY-MM-DD.")
    return at, ""


def _handbook_context(request) -> tuple[dict, int]:
    at, error = _as_of(request)
    context = {
        "sections": handbook(at),
        "as_of": at,
        "as_of_raw": request.GET.get("as_of", ""),
        "error": error,
        "generated_at": timezone.now(),
    }
    return context, 400 if error else 200


@require_GET
@login_required
def handbook_html(request):
    _require_reader(request.user)
    context, status = _handbook_context(request)
    return render(request, "evidence/handbook.html", context, status=status)


@require_GET
@login_required
def handbook_pdf(request):
    _require_reader(request.user)
    context, status = _handbook_context(request)
    if status != 200:
        return render(request, "evidence/handbook.html", context, status=status)
    html = render_to_string("evidence/handbook_pdf.html", context, request=request)
    response = HttpResponse(
        render_pdf(html, base_url=request.build_absolute_uri("/")), content_type="application/pdf"
    )
    day = timezone.localdate(context["as_of"] or timezone.now()).isoformat()
    response["Content-Disposition"] = f'attachment; filename="handbook-{day}.pdf"'
    return response


@require_GET
@login_required
def handbook_changes(request):
    """Every configuration change between ?from= and ?to= (dates; default: the last 30 days)."""
    _require_reader(request.user)
    today = timezone.localdate()
    raw_from = request.GET.get("from") or (today - timedelta(days=30)).isoformat()
    raw_to = request.GET.get("to") or today.isoformat()
    since = _moment(raw_from, end_of_day=False)
    until = _moment(raw_to, end_of_day=True)
    error = ""
    if since is None or until is None:
        error = _("Enter the dates as YYYY-MM-DD.")
    elif since > until:
        error = _("The start date must not be after the end date.")
    context = {
        "from": raw_from,
        "to": raw_to,
        "error": error,
        "changes": [] if error else config_changes(since=since, until=until),
        "limit": LIMIT,
    }
    return render(request, "evidence/handbook_changes.html", context, status=400 if error else 200)
