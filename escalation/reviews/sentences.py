"""How the console's timeline says this app's entries (escalation.narrative's registry)."""

from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _

from escalation.narrative import (
    Told,
    actor_of,
    fields_of,
    person,
    person_keys_register,
    sentence_register,
)

from . import services
from .models import Action


def _actor(event) -> dict:
    return {"actor": actor_of(event)}


def _drafted(event, names):
    if event.actor_id is None:
        return Told(_("The post-incident review was drafted from the record"))
    return Told(_("%(actor)s drafted the post-incident review") % _actor(event))


def _submitted(event, names):
    return Told(_("%(actor)s submitted the post-incident review for approval") % _actor(event))


def _sent_back(event, names):
    return Told(
        _("%(actor)s sent the post-incident review back") % _actor(event),
        fields_of(event.data, names, ["reason"]),
    )


def _approved(event, names):
    return Told(
        _("%(actor)s approved the post-incident review") % _actor(event),
        [(_("Author"), person(event.data["author"], names))] if event.data.get("author") else [],
    )


def _action_fields(event, names, keys) -> list:
    d = event.data
    fields = [
        (_("Kind"), str(Action.Kind(d["kind"]).label)),
        (_("Owner"), person(d.get("owner"), names) or "–"),
    ]
    if d.get("due_on"):
        due = formats.date_format(date.fromisoformat(d["due_on"]), "SHORT_DATE_FORMAT")
        fields.append((_("Due on"), due))
    if d.get("note"):
        fields.append((_("Note"), d["note"]))
    return fields + fields_of(d, names, keys)


def _action(sentence, keys):
    def told(event, names):
        values = {**_actor(event), "title": event.data["title"]}
        return Told(sentence() % values, _action_fields(event, names, keys))

    return told


def _checked(event, names):
    values = {**_actor(event), "title": event.data["title"]}
    if event.data.get("effective"):
        sentence = _("Action judged effective: %(title)s") % values
    else:
        sentence = _("Action judged not effective: %(title)s") % values
    return Told(sentence, [(_("Note"), event.data.get("note") or "–")])


def register() -> None:
    person_keys_register("owner", "author")  # usernames (str of the user) in the entries' data
    for kind, function in {
        services.EV_DRAFTED: _drafted,
        services.EV_SUBMITTED: _submitted,
        services.EV_SENT_BACK: _sent_back,
        services.EV_APPROVED: _approved,
        services.EV_ACTION_ADDED: _action(lambda: _("%(actor)s added an action: %(title)s"), []),
        services.EV_ACTION_DONE: _action(
            lambda: _("%(actor)s marked an action done: %(title)s"), []
        ),
        services.EV_ACTION_CHECKED: _checked,
        services.EV_ACTION_CANCELLED: _action(
            lambda: _("%(actor)s cancelled an action: %(title)s"), ["reason"]
        ),
    }.items():
        sentence_register(kind, function)
