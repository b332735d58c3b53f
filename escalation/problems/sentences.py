"""How the console's timeline says this app's entries (escalation.narrative's registry), and the
problem's own history in words."""

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from escalation.narrative import Told, actor_of, sentence_register

from .models import ACTION_LABELS, Problem, ProblemState
from .services import EV_PROBLEM_LINKED, EV_PROBLEM_UNLINKED


def _linked(event, names):
    values = {"actor": actor_of(event), "reference": event.data["reference"]}
    if event.kind == EV_PROBLEM_LINKED:
        return Told(_("%(actor)s linked the incident to problem %(reference)s") % values)
    return Told(_("%(actor)s unlinked the incident from problem %(reference)s") % values)


def register() -> None:
    sentence_register(EV_PROBLEM_LINKED, _linked)
    sentence_register(EV_PROBLEM_UNLINKED, _linked)


def history_present(events) -> list[dict]:
    """A problem's own history as the console shows it: states, changed fields, the transition
    and linked incidents in words (the stored data stays in the admin and the API)."""

    def state(code: str) -> str:
        try:
            return str(ProblemState(code).label)
        except ValueError:
            return code

    def field_name(name: str) -> str:
        try:
            return str(Problem._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            return name.replace("_", " ")

    rows = []
    for event in events:
        d = event.data or {}
        details = []
        if d.get("action") in ACTION_LABELS:
            details.append((_("Step"), str(ACTION_LABELS[d["action"]])))
        if d.get("changed"):
            details.append((_("Changed"), ", ".join(field_name(n) for n in d["changed"])))
        if d.get("incident"):
            details.append((_("Incident"), f"#{d['incident']}"))
        if d.get("reason"):
            details.append((_("Reason"), d["reason"]))
        moved = ""
        if event.from_state and event.to_state:
            moved = f"{state(event.from_state)} → {state(event.to_state)}"
        rows.append({"event": event, "moved": moved, "details": details})
    return rows
