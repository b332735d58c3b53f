"""The texts this app stores in English (an escalation's reason, what held paging back), as the
console's timeline says them (escalation.narrative's text patterns)."""

from django.utils.translation import gettext as _

from escalation.narrative import text_pattern_register


def register() -> None:
    text_pattern_register(
        r"Maintenance '(?P<title>.+)' ended and the incident is still open",
        lambda m: (
            _("Maintenance “%(title)s” ended and the incident is still open")
            % {"title": m["title"]}
        ),
    )
    text_pattern_register(
        r"maintenance #(?P<pk>\d+): (?P<title>.+)",
        lambda m: _("maintenance window “%(title)s”") % {"title": m["title"]},
    )
