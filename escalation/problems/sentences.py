"""How the console's timeline says this app's entries (escalation.narrative's registry)."""

from django.utils.translation import gettext as _

from escalation.narrative import Told, actor_of, sentence_register

from .services import EV_PROBLEM_LINKED, EV_PROBLEM_UNLINKED


def _linked(event, names):
    values = {"actor": actor_of(event), "reference": event.data["reference"]}
    if event.kind == EV_PROBLEM_LINKED:
        return Told(_("%(actor)s linked the incident to problem %(reference)s") % values)
    return Told(_("%(actor)s unlinked the incident from problem %(reference)s") % values)


def register() -> None:
    sentence_register(EV_PROBLEM_LINKED, _linked)
    sentence_register(EV_PROBLEM_UNLINKED, _linked)
