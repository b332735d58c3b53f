"""Template filters of the readable console: generated English texts through the catalogue, times
in the reader's zone with the zone named where it is not obvious."""

from django import template

from escalation import narrative

register = template.Library()


@register.filter
def translated(text: str) -> str:
    """A text the product generated and stored in English, in the active language."""
    return narrative.text_translate(text or "")
