"""HTML and PDF of the evidence app (GET only): the dossier PDF of an incident, the process
handbook (as of now or any date, HTML and PDF) and the configuration changes between two dates.

Who may read: escalation managers, responders and executives (a responder only the dossiers of
incidents they may read: another is a 404); customer contacts and everybody else a 403;
anonymous users log in first.
"""

import contextlib
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from incidents.pdf import render_pdf

from .dossier import incident_dossier
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
