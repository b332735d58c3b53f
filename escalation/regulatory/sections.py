"""The regulatory sections of other pages (hooks in escalation.hooks): the executive dashboard
("NIS2 early warning due in 3 h 10 min"), an incident's evidence dossier (assessments and
submitted reports) and the process handbook (regimes in force)."""

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .models import Regime
from .selectors import assessments_for, reports_due, reports_for


def dashboard_section(request, now) -> str:
    due = list(reports_due(limit=10))
    if not due:
        return ""
    return render_to_string(
        "regulatory/_dashboard.html", {"reports": due, "now": now}, request=request
    )


def dossier_section(incident) -> dict | None:
    assessments = list(assessments_for(incident))
    if not assessments:
        return None
    submitted = [r for r in reports_for(incident) if r.is_frozen]
    items = [
        {
            "kind": "assessment",
            "regime": a.regime.code,
            "decision": a.decision,
            "reason": a.reason,
            "checks": a.checks,
            "personal_data": a.personal_data,
            "decided_by": a.decided_by.display_name if a.decided_by else "",
            "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        }
        for a in assessments
    ] + [
        {
            "kind": "report",
            "regime": r.assessment.regime.code,
            "report": r.report_type.name_en,
            "due_at": r.due_at.isoformat() if r.due_at else None,
            "submitted_at": r.submitted_at.isoformat(),
            "submitted_by": r.submitted_by_label,
            "reference": r.reference,
            "text": r.text,
            "text_en": r.text_en,
        }
        for r in submitted
    ]
    return {"key": "regulatory", "title": _("Regulatory reporting"), "items": items}


def handbook_section(as_of) -> dict | None:
    regimes = list(Regime.objects.filter(is_active=True).prefetch_related("report_types"))
    if not regimes:
        return None
    return {
        "key": "regulatory",
        "title": _("Regulatory reporting"),
        "where": _("Admin: Regulatory reporting > Reporting regimes"),
        "html": render_to_string("regulatory/_handbook.html", {"regimes": regimes}),
    }
