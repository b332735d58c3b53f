"""Report drafts prefilled from the incident's record, in German and English (text in the
template regulatory/draft.txt; the same text is pasted into the authority's portal and printed
as PDF)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from incidents.models import Audience

from .models import Report


def draft_context(report: Report, *, now) -> dict:
    from .selectors import aware_at, facts_for  # selectors read; this module only renders

    assessment = report.assessment
    incident = assessment.incident
    return {
        "report": report,
        "report_type": report.report_type,
        "regime": assessment.regime,
        "assessment": assessment,
        "incident": incident,
        "aware_at": aware_at(incident),
        "facts": facts_for(incident, now=now),
        # measures as told to executives and customers: internal notes stay internal (the
        # draft is read by executives, and goes to an authority)
        "updates": list(
            incident.updates.exclude(audience=Audience.INTERNAL).order_by("-created_at")[:5]
        ),
    }


def draft_render(report: Report, *, language: str, now=None) -> str:
    now = now or timezone.now()
    context = draft_context(report, now=now)
    contents = report.report_type.contents if language == "de" else report.report_type.contents_en
    context["contents"] = [line.strip() for line in contents.splitlines() if line.strip()]
    context["report_name"] = (
        report.report_type.name if language == "de" else report.report_type.name_en
    )
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        return render_to_string("regulatory/draft.txt", context).strip() + "\n"
