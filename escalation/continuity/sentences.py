"""How the console's timeline says this app's entries (escalation.narrative's registry), and the
level reasons this app stores in English."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escalation.narrative import (
    Told,
    actor_of,
    fields_of,
    looked_up,
    person,
    person_keys_register,
    sentence_register,
    system_actor_register,
    text_pattern_register,
    when,
)
from incidents.models import Customer

from . import services
from .models import Level


def _actor(event) -> dict:
    return {"actor": actor_of(event)}


def _workaround(event, names):
    d = event.data
    if d.get("ad_hoc") or not d.get("runbook_title"):
        return Told(_("%(actor)s recorded an ad-hoc workaround") % _actor(event))
    return Told(
        _("%(actor)s applied the runbook “%(runbook)s” (version %(version)s)")
        % {**_actor(event), "runbook": d["runbook_title"], "version": d.get("version")}
    )


def _concession(event, names):
    d = event.data
    customer = looked_up(
        ("customer", d["customer"]),
        lambda: Customer.objects.filter(slug=d["customer"]).values_list("name", flat=True).first(),
    )
    fields = [
        (_("Accepted by"), d.get("accepted_by") or "–"),
        (_("Accepted at"), when(d.get("accepted_at", ""))),
    ]
    if d.get("conditions"):
        fields.append((_("Conditions"), d["conditions"]))
    return Told(
        _("%(actor)s recorded that %(customer)s accepted the workaround")
        % {**_actor(event), "customer": customer or d["customer"]},
        fields,
    )


def _level_word(code: str) -> str:
    try:
        return str(Level(code).label)
    except ValueError:
        return code or "–"


def _level(event, names):
    d = event.data
    values = {**_actor(event), "level": _level_word(d["to"])}
    if event.actor_id:
        sentence = _("%(actor)s set the disruption level to %(level)s") % values
    else:
        sentence = _("Disruption level now %(level)s") % values
    fields = [(_("Before"), _level_word(d.get("from", "")))] if d.get("from") else []
    fields += fields_of(d, names, ["reason"])
    if d.get("crisis_team"):
        team = ", ".join(person(u, names) for u in d["crisis_team"])
        fields.append((_("Crisis team paged"), team))
    return Told(sentence, fields)


def _warning(event, names):
    d = event.data
    values = {
        "process": d["process"],
        "objective": str(d["objective"]).upper(),
        "percent": d["percent"],
    }
    if int(d["percent"]) >= 100:
        sentence = _("%(process)s: the %(objective)s has passed without a workaround") % values
    else:
        sentence = _("%(process)s: %(percent)s %% of the %(objective)s used") % values
    fields = [(_("Deadline"), when(d.get("deadline", "")))]
    if d.get("told"):
        fields.append((_("Told"), ", ".join(person(u, names) for u in d["told"])))
    return Told(sentence, fields)


def register() -> None:
    for kind, function in {
        services.EV_WORKAROUND: _workaround,
        services.EV_CONCESSION: _concession,
        services.EV_LEVEL: _level,
        services.EV_WARNING: _warning,
    }.items():
        sentence_register(kind, function)
    person_keys_register("crisis_team")
    system_actor_register("continuity", gettext_lazy("business continuity"))
    text_pattern_register(r"within recovery objectives", lambda m: _("within recovery objectives"))
    text_pattern_register(
        r"RTO passed without a workaround", lambda m: _("RTO passed without a workaround")
    )
    text_pattern_register(
        r"MTPD passed without a workaround", lambda m: _("MTPD passed without a workaround")
    )
