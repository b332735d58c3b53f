"""Business continuity's sections of the evidence dossier and the process handbook (hooks:
escalation.hooks.dossier_sections and handbook_sections; another app builds both documents)."""

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .models import BusinessProcess, Workaround


def dossier_section(incident) -> dict | None:
    """The workaround record(s) of the incident and the customers' concessions (ISO 9001 8.7)."""
    from .api import workaround_body

    workarounds = list(
        Workaround.objects.filter(incident=incident)
        .select_related("runbook_version__runbook", "decided_by")
        .prefetch_related("concessions__customer", "concessions__recorded_by")
        .order_by("decided_at", "pk")
    )
    if not workarounds:
        return None
    items = []
    for workaround in workarounds:
        body = workaround_body(workaround)
        version = workaround.runbook_version
        body["runbook_title"] = version.runbook.title if version else ""
        items.append(body)
    return {"key": "continuity", "title": _("Workaround and concessions"), "items": items}


def handbook_section(as_of) -> dict | None:
    """The business processes with their recovery objectives and runbooks (current versions as
    of `as_of`)."""
    processes = list(
        BusinessProcess.objects.filter(is_active=True, created_at__lte=as_of)
        .prefetch_related("customers", "services", "runbooks__versions")
        .order_by("name", "pk")
    )
    if not processes:
        return None
    rows = []
    for process in processes:
        runbooks = []
        for runbook in process.runbooks.all():
            versions = [v for v in runbook.versions.all() if v.created_at <= as_of]
            if runbook.is_active and versions:
                runbooks.append((runbook, max(versions, key=lambda v: v.number)))
        rows.append({"process": process, "runbooks": runbooks})
    return {
        "key": "continuity",
        "title": _("Business continuity"),
        "where": _("Console: Business processes, Workaround runbooks"),
        "html": render_to_string("continuity/_handbook_section.html", {"rows": rows}),
    }
