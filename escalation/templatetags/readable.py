"""Template filters of the readable console: generated English texts through the catalogue, times
in the reader's zone with the zone named where it is not obvious."""

from datetime import datetime

from django import template
from django.utils import timezone

from escalation import narrative
from incidents.models import IncidentEvent

register = template.Library()


@register.filter
def translated(text: str) -> str:
    """A text the product generated and stored in English, in the active language."""
    return narrative.text_translate(text or "")


@register.filter
def told(decision: dict) -> narrative.Entry:
    """A timeline entry as the evidence dossier stores it (kind, by, at, details) as the
    timeline says it: a sentence and labelled fields."""
    at = decision.get("at")
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    event = IncidentEvent(
        kind=decision.get("kind", ""),
        data=decision.get("details") or {},
        actor_label=decision.get("by") or "system",
        created_at=at or timezone.now(),
    )
    return narrative.entries_present([event])[0]
