"""Template filters of regulatory reporting: a deadline as "due in 3 h 10 min"."""

from django import template
from django.utils.translation import gettext as _

from ..deadlines import format_remaining

register = template.Library()


def _span(delta) -> str:
    days, hours, minutes = format_remaining(delta)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def due_in(due_at, now) -> str:
    """'due in 3 h 10 min' or 'overdue by 20 min'."""
    if due_at is None or now is None:
        return ""
    delta = due_at - now
    if delta.total_seconds() < 0:
        return _("overdue by %(span)s") % {"span": _span(delta)}
    return _("due in %(span)s") % {"span": _span(delta)}


@register.filter
def report_name(report) -> str:
    """The report type's name in the active language."""
    from django.utils.translation import get_language

    kind = report.report_type
    return kind.name if (get_language() or "").startswith("de") else kind.name_en


@register.filter
def criterion_label(criterion: dict) -> str:
    from django.utils.translation import get_language

    german = (get_language() or "").startswith("de")
    return criterion.get("de" if german else "en") or criterion.get("en") or criterion.get("key")
