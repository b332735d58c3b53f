"""How the console's timeline says this app's entries (escalation.narrative's registry)."""

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from escalation.narrative import (
    Told,
    actor_of,
    fields_of,
    looked_up,
    sentence_register,
    when,
    words_register,
)

from . import services
from .models import Assessment, Regime, ReportType


def _actor(event) -> dict:
    return {"actor": actor_of(event)}


def _report(data: dict) -> tuple[str, str]:
    """The report's name in the reader's language and its regime's name (the entry stores the
    English name and the regime's code)."""
    found = ReportType.objects.filter(name_en=data.get("report", "")).select_related("regime")
    if data.get("regime"):
        found = found.filter(regime__code=data["regime"])
    key = ("report_type", data.get("report", ""), data.get("regime", ""))
    report_type = looked_up(key, found.first)
    if report_type is None:
        return data.get("report", ""), data.get("regime", "")
    name = report_type.name if (get_language() or "").startswith("de") else report_type.name_en
    return name, report_type.regime.name


def _aware(event, names):
    d = event.data
    sentence = _("%(actor)s set the moment of becoming aware to %(at)s") % {
        **_actor(event),
        "at": when(d["to"]),
    }
    return Told(sentence, [(_("Before"), when(d["from"])), *fields_of(d, names, ["reason"])])


def _assessed(event, names):
    d = event.data
    decision = str(Assessment.Decision(event.to_state).label).lower()
    values = {**_actor(event), "decision": decision, "regime": d.get("regime_name", d["regime"])}
    fields = fields_of(d, names, ["reason"])
    checks = d.get("checks") or {}
    if checks:
        regime = looked_up(
            ("regime", d["regime"]),
            Regime.objects.filter(code=d["regime"]).only("criteria").first,
        )
        criteria = {c.get("key"): c for c in (regime.criteria if regime else [])}
        language = "de" if (get_language() or "").startswith("de") else "en"
        met = [criteria.get(k, {}).get(language, k) for k, v in checks.items() if v]
        fields.append((_("Criteria met"), ", ".join(met) or "–"))
    if d.get("personal_data") is not None:
        fields.append((_("Personal data affected"), _("yes") if d["personal_data"] else _("no")))
    return Told(_("%(actor)s assessed the incident as %(decision)s (%(regime)s)") % values, fields)


def _submitted(event, names):
    d = event.data
    report, regime = _report(d)
    values = {**_actor(event), "report": report, "regime": regime}
    if d.get("late"):
        sentence = _("%(actor)s submitted the report “%(report)s” (%(regime)s), late")
    else:
        sentence = _("%(actor)s submitted the report “%(report)s” (%(regime)s)")
    fields = [(_("Submitted at"), when(d["submitted_at"]))]
    if d.get("due_at"):
        fields.append((_("Deadline"), when(d["due_at"])))
    if d.get("reference"):
        fields.append((_("Reference"), d["reference"]))
    return Told(sentence % values, fields)


def _reference(event, names):
    report, _regime = _report(event.data)
    return Told(
        _("%(actor)s added the authority's reference to the report “%(report)s”")
        % {**_actor(event), "report": report},
        [(_("Reference"), event.data.get("reference", ""))],
    )


def _missed(event, names):
    report, regime = _report(event.data)
    return Told(
        _("Reporting deadline missed: “%(report)s” (%(regime)s)")
        % {"report": report, "regime": regime},
        [(_("Deadline"), when(event.data["due_at"]))],
    )


def register() -> None:
    words_register(Assessment.Decision)
    for kind, function in {
        services.EV_AWARE: _aware,
        services.EV_ASSESSED: _assessed,
        services.EV_SUBMITTED: _submitted,
        services.EV_REFERENCE: _reference,
        services.EV_MISSED: _missed,
    }.items():
        sentence_register(kind, function)
