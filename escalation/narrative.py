"""The timeline as people read it: one sentence per entry in the reader's language and time zone,
the details as labelled fields, the stored data only behind "technical details".

A registry maps an event kind to a sentence function `(event, names) -> Told`; `names` maps a
username to the person's display name (one query for a whole timeline). Nested apps register the
sentences of their own kinds in their AppConfig.ready:

    from escalation.narrative import sentence_register
    sentence_register("review_completed", lambda event, names: Told(_("Review completed")))

A kind nobody registered still reads as words (its label or its code made into a sentence) with its
data as labelled fields, so no raw code or Python repr ever shows. Texts the product generated in
English and stored (an escalation rule's reason, "Resolved by <integration>") go through
`text_translate`, which matches them against known patterns and answers from the catalogue.
"""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.models import Audience as UpdateAudience
from incidents.models import (
    Customer,
    EventKind,
    Impact,
    IncidentEvent,
    Priority,
    PublicStatus,
    Service,
    Source,
    State,
    User,
)
from notifications.models import Channel

from .memo import Memo
from .models.contracts import Target
from .models.matrix import Audience as MatrixAudience
from .models.people import IncidentRole


@dataclass
class Told:
    """What a sentence function returns: the sentence and the labelled fields below it."""

    sentence: str
    fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Entry:
    """One timeline entry ready to show."""

    event: IncidentEvent
    sentence: str
    fields: list[tuple[str, str]]
    who: str
    technical: str


SentenceFunction = Callable[[IncidentEvent, dict[str, str]], Told]
SENTENCES: dict[str, SentenceFunction] = {}

# What sentence functions looked up (a report type, a customer's name) while one timeline is
# shown: each distinct lookup once per timeline, however many entries name it.
_LOOKUPS = Memo("narrative_lookups")


def looked_up(key: tuple, find: Callable[[], object]):
    """`find()`, once per timeline shown for each key (outside one: every time)."""
    return _LOOKUPS.get(key, find)


def sentence_register(kind: str, function: SentenceFunction) -> None:
    """Tell the timeline how to say an event kind (nested apps call this from ready())."""
    SENTENCES[kind] = function


# --- Words ------------------------------------------------------------------------------------

TEXT_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = []


def text_pattern_register(pattern: str, function: Callable[[re.Match], str]) -> None:
    """A generated English text (a full match of `pattern`) and how to say it in the catalogue."""
    TEXT_PATTERNS.append((re.compile(pattern, re.DOTALL), function))


def text_translate(text: str) -> str:
    """A text the product generated in English and stored, in the active language; any other
    text (written by a person) unchanged."""
    if not text:
        return text
    for pattern, function in TEXT_PATTERNS:
        match = pattern.fullmatch(text.strip())
        if match:
            return function(match)
    return text


def _reason(match: re.Match) -> str:
    return text_translate(match["reason"])


text_pattern_register(
    r"Rule '(?P<rule>.+)': (?P<reason>.+)",
    lambda m: _("Rule “%(rule)s”: %(reason)s") % {"rule": m["rule"], "reason": _reason(m)},
)
text_pattern_register(
    r"priority P(?P<p>\d) is at or above P(?P<max>\d)",
    lambda m: _("priority P%(p)s is at or above P%(max)s") % {"p": m["p"], "max": m["max"]},
)
text_pattern_register(
    r"a business-critical service is affected",
    lambda m: _("a business-critical service is affected"),
)
text_pattern_register(
    r"a listed customer is affected", lambda m: _("a listed customer is affected")
)
text_pattern_register(
    r"no escalation rule matches priority P(?P<p>\d)",
    lambda m: _("no escalation rule matches priority P%(p)s") % {"p": m["p"]},
)
text_pattern_register(
    r"Resolved by (?P<source>[^:]+): (?P<summary>.*)",
    lambda m: _("Resolved by %(source)s: %(summary)s") % dict(m.groupdict()),
)
text_pattern_register(
    r"Resolved by (?P<source>[^:]+)", lambda m: _("Resolved by %(source)s") % dict(m.groupdict())
)
text_pattern_register(
    r"Flapping: alert (?P<alert>.+) fired again (?P<minutes>\d+) min after it resolved "
    r"\((?P<integration>.+)\)\.",
    lambda m: (
        _(
            "Flapping: alert %(alert)s fired again %(minutes)s min after it resolved "
            "(%(integration)s)."
        )
        % dict(m.groupdict())
    ),
)
text_pattern_register(r"acknowledged", lambda m: _("acknowledged"))
text_pattern_register(r"resolved", lambda m: _("resolved"))
text_pattern_register(r"resolved until reopened", lambda m: _("resolved until reopened"))
text_pattern_register(r"nobody to page", lambda m: _("nobody to page"))
text_pattern_register(r"no public face", lambda m: _("not published for customers yet"))
text_pattern_register(
    r"\(default: escalation manager on duty\)",
    lambda m: _("default policy: escalation manager on duty"),
)

CHOICES = [
    State,
    Impact,
    Priority,
    Source,
    UpdateAudience,
    MatrixAudience,
    Channel,
    Target,
    PublicStatus,
    IncidentRole.Role,
]


def words_register(choices) -> None:
    """Let `word` say the codes of a nested app's choices (e.g. states shown as "from -> to")."""
    CHOICES.append(choices)


# Data keys that hold usernames: the timeline looks their names up (one query) and shows them.
PERSON_KEYS = {"to", "told", "paged", "from"}


def person_keys_register(*keys: str) -> None:
    PERSON_KEYS.update(keys)


# Field labels of the data keys the core writes; a key not listed is made into words.
FIELD_LABELS = {
    "title": gettext_lazy("Title"),
    "services": gettext_lazy("Services"),
    "customers": gettext_lazy("Customers"),
    "customer": gettext_lazy("Customer"),
    "source": gettext_lazy("Source"),
    "reason": gettext_lazy("Reason"),
    "resolution": gettext_lazy("Resolution"),
    "workaround": gettext_lazy("Workaround"),
    "review": gettext_lazy("Review"),
    "body": gettext_lazy("Text"),
    "audience": gettext_lazy("Audience"),
    "policy": gettext_lazy("Escalation policy"),
    "next_level_at": gettext_lazy("Next level"),
    "next_update_due": gettext_lazy("Next update due"),
    "informed": gettext_lazy("Informed"),
    "contract_name": gettext_lazy("Contract"),
    "deadline": gettext_lazy("Deadline"),
    "breached_at": gettext_lazy("Missed at"),
    "told": gettext_lazy("Told"),
    "status": gettext_lazy("Public status"),
    "error": gettext_lazy("Error"),
    "until": gettext_lazy("Until"),
    "changes": gettext_lazy("Changes"),
    "via": gettext_lazy("Via"),
}
# Keys that are internal references (ids, counters): only in the technical details.
HIDDEN_KEYS = {"update", "public_incident", "rule", "contract", "cycle", "seq", "dedup_key"}
VIA = {
    "console": gettext_lazy("in the console"),
    "link": gettext_lazy("by the link in the page"),
    "api": gettext_lazy("through the API"),
}


def word(value) -> str:
    """A stored code (state, channel, audience, ...) as the word people read."""
    for choices in CHOICES:
        try:
            return str(choices(value).label)
        except ValueError:
            continue
    return str(value)


def when(value) -> str:
    """A stored time (datetime or ISO string) in the reader's zone and the language's format."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return str(value)
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def person(username, names: dict[str, str]) -> str:
    return names.get(username, str(username)) if username else ""


def readable(value, names: dict[str, str], key: str = "") -> str:
    """Any stored value as words: lists joined, mappings as "label: value", times localised."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(readable(item, names, key) for item in value) or "–"
    if isinstance(value, dict):
        if set(value) >= {"to", "channel"}:
            return _("%(who)s by %(channel)s") % {
                "who": person(value["to"], names),
                "channel": word(value["channel"]),
            }
        return "; ".join(
            f"{label(k)}: {readable(v, names, k)}" for k, v in value.items() if k not in HIDDEN_KEYS
        )
    if key.endswith(("_at", "_due", "deadline", "until")):
        return when(value)
    if key in PERSON_KEYS and isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, str):
        return text_translate(word(value))
    return str(value)


def label(key: str) -> str:
    return str(FIELD_LABELS.get(key) or key.replace("_", " ").capitalize())


def fields_of(data: dict, names: dict[str, str], keys: Iterable[str] | None = None) -> list:
    """The data as labelled fields (the given keys, or every key that is not internal)."""
    keys = [k for k in (keys if keys is not None else data) if k in data and k not in HIDDEN_KEYS]
    return [(label(k), readable(data[k], names, k)) for k in keys if data[k] not in (None, "", [])]


def actor_of(event: IncidentEvent) -> str:
    """Who acted, in words: the person's name, or what the system did it as."""
    if event.actor_id:
        return event.actor.display_name
    match = re.fullmatch(r"system(?: \((?P<what>.+)\))?", event.actor_label or "system")
    if not match:
        return event.actor_label
    what = match["what"] or ""
    if what.startswith("rule: "):
        return _("the rule “%(rule)s”") % {"rule": what[6:]}
    if what.startswith("alert "):  # a more severe alert that joined its group's incident
        return _("the alert “%(alert)s”") % {"alert": what[6:]}
    return str(SYSTEM_ACTORS.get(what, _("the system")))


SYSTEM_ACTORS = {
    "": gettext_lazy("the system"),
    "escalation": gettext_lazy("the escalation"),
    "matrix": gettext_lazy("the communication matrix"),
    "SLA": gettext_lazy("the SLA clock"),
    "delivery": gettext_lazy("the delivery"),
    "silenced by maintenance": gettext_lazy("a maintenance window"),
}


def system_actor_register(what: str, said) -> None:
    """How an entry recorded as "system (<what>)" names who acted (a lazy translation)."""
    SYSTEM_ACTORS[what] = said


# --- The sentences of the core's kinds ---------------------------------------------------------


def _a(event: IncidentEvent) -> dict:
    return {"actor": actor_of(event)}


def _created(event, names):
    source = event.data.get("source")
    if source and source != Source.MANUAL:
        sentence = _("Incident opened from %(source)s") % {"source": word(source)}
    else:
        sentence = _("%(actor)s opened the incident") % _a(event)
    fields = fields_of(event.data, names, ["title"])
    for key, model in (("services", Service), ("customers", Customer)):
        slugs = event.data.get(key) or []
        if slugs:
            found = dict(model.objects.filter(slug__in=slugs).values_list("slug", "name"))
            fields.append((label(key), ", ".join(found.get(slug, slug) for slug in slugs)))
    return Told(sentence, fields)


def _classified(event, names):
    d = event.data
    values = {
        **_a(event),
        "priority": word(d["priority"]),
        "impact": word(d["impact"]).lower(),
        "urgency": word(d["urgency"]).lower(),
    }
    if event.kind == EventKind.RECLASSIFIED and d.get("previous"):
        values["previous"] = word(d["previous"].get("priority"))
        return Told(
            _(
                "%(actor)s reclassified the incident from %(previous)s to %(priority)s "
                "(impact %(impact)s, urgency %(urgency)s)"
            )
            % values
        )
    return Told(
        _(
            "%(actor)s classified the incident as %(priority)s "
            "(impact %(impact)s, urgency %(urgency)s)"
        )
        % values
    )


def _decided(event, names):
    d = event.data
    sentence = _("Escalation required") if d.get("required") else _("No escalation required")
    return Told(sentence, [(label("reason"), text_translate(d.get("reason", "")))])


def _lifecycle(sentence: str, keys: list[str]):
    def told(event, names):
        values = {**_a(event), "state": word(event.to_state)}
        return Told(sentence() % values, fields_of(event.data, names, keys))

    return told


def _acknowledged(event, names):
    via = event.data.get("via", "")
    via = VIA.get(via) or (_("through %(source)s") % {"source": word(via)} if via else "")
    return Told(_("%(actor)s acknowledged %(via)s") % {**_a(event), "via": via})


def _update_posted(event, names):
    audience = word(event.data.get("audience", ""))
    return Told(
        _("%(actor)s wrote an update for %(audience)s") % {**_a(event), "audience": audience},
        fields_of(event.data, names, ["body"]),
    )


def _changed(event, names):
    changes = event.data.get("changes") or {}
    fields = []
    if isinstance(changes, dict):
        for key, change in changes.items():
            if isinstance(change, dict) and {"old", "new"} <= set(change):
                value = (
                    f"{readable(change['old'], names, key)} → {readable(change['new'], names, key)}"
                )
            else:
                value = readable(change, names, key)
            fields.append((label(key), value))
    return Told(_("%(actor)s changed the details") % _a(event), fields)


def _sla(event, names):
    d = event.data
    values = {"target": word(d["target"]), "contract": d.get("contract_name", "")}
    if event.kind == EventKind.SLA_BREACHED:
        sentence = _("SLA target missed: %(target)s (%(contract)s)") % values
        keys = ["breached_at", "told"]
    elif event.kind == EventKind.SLA_WARNING:
        values["percent"] = d.get("percent", "")
        sentence = _("SLA warning: %(percent)s %% of the %(target)s target used (%(contract)s)")
        sentence = sentence % values
        keys = ["deadline", "told"]
    elif event.kind == EventKind.SLA_PAUSED:
        sentence = _("%(actor)s paused the SLA clock") % _a(event)
        keys = ["reason"]
    else:
        minutes = int(d.get("paused_seconds", 0)) // 60
        sentence = _("SLA clock resumed after %(minutes)s min") % {"minutes": minutes}
        keys = []
    return Told(sentence, fields_of(d, names, keys))


def _public(event, names):
    d = event.data
    sentences = {
        EventKind.PUBLIC_PUBLISHED: _("%(actor)s published the incident for customers"),
        EventKind.PUBLIC_LINKED: _("%(actor)s linked the incident to a published disruption"),
        EventKind.PUBLIC_UPDATE: _("%(actor)s published an update for customers"),
        EventKind.PUBLIC_RESOLVED: _("All-clear sent to customers"),
    }
    return Told(
        sentences[event.kind] % _a(event),
        fields_of(d, names, ["title", "status", "body", "informed"]),
    )


def _escalation_started(event, names):
    d = event.data
    return Told(
        _("Escalation started: %(policy)s, %(levels)s levels")
        % {"policy": text_translate(d["policy"]), "levels": d["levels"]}
    )


def _level_paged(event, names):
    d = event.data
    paged = ", ".join(person(u, names) for u in d.get("paged", [])) or "–"
    return Told(
        _("Level %(level)s of %(of)s paged: %(people)s")
        % {"level": d["level"], "of": d["of"], "people": paged},
        fields_of(d, names, ["next_level_at"]),
    )


def _page_sent(event, names):
    d = event.data
    return Told(
        _("%(person)s paged by %(channel)s, level %(level)s")
        % {
            "person": person(d["to"], names),
            "channel": word(d["channel"]),
            "level": d["level"],
        }
    )


def _level_skipped(event, names):
    return Told(
        _("Level %(level)s skipped: %(why)s")
        % {"level": event.data["level"], "why": text_translate(event.data.get("why", ""))}
    )


def _waiting(event, names):
    return Told(
        _("Paging waits for service hours until %(until)s") % {"until": when(event.data["until"])}
    )


def _exhausted(event, names):
    return Told(
        _("Escalation ended: nobody acknowledged after %(cycles)s rounds")
        % {"cycles": event.data["cycles"]}
    )


def _stopped(event, names):
    return Told(
        _("Escalation stopped: %(reason)s")
        % {"reason": text_translate(event.data.get("reason", ""))}
    )


def _informed(event, names):
    d = event.data
    audience = word(d.get("audience", ""))
    if d.get("informed") or d.get("digest_to"):
        sentence = _("%(audience)s informed") % {"audience": audience}
    elif d.get("withheld"):
        sentence = _("%(audience)s not informed: %(why)s") % {
            "audience": audience,
            "why": text_translate(d["withheld"]),
        }
    elif event.kind == "update_reminder":
        sentence = _("Reminder: an update for %(audience)s is due") % {"audience": audience}
    else:
        sentence = _("Update plan for %(audience)s set") % {"audience": audience}
    keys = ["informed", "digest_to", "reminded", "next_update_due", "due"]
    return Told(sentence, fields_of(d, names, keys))


def _delivery(event, names):
    d = event.data
    values = {"to": d["to"], "channel": word(d["channel"])}
    if event.kind == "delivery_dead":
        sentence = _("Message to %(to)s by %(channel)s given up") % values
    else:
        sentence = _("Message to %(to)s by %(channel)s failed, will retry") % values
    return Told(sentence, fields_of(d, names, ["attempts", "error"]))


def _role_assigned(event, names):
    d = event.data
    values = {**_a(event), "person": person(d["to"], names), "role": word(d["role"])}
    fields = [(_("Before"), person(d["from"], names))] if d.get("from") else []
    return Told(_("%(actor)s handed the role %(role)s to %(person)s") % values, fields)


def _role_ended(event, names):
    d = event.data
    values = {**_a(event), "person": person(d.get("from"), names), "role": word(d["role"])}
    return Told(_("%(actor)s ended the role %(role)s (held by %(person)s)") % values)


def _pulled_in(event, names):
    d = event.data
    values = {**_a(event), "person": person(d["to"], names), "level": d["level"]}
    return Told(_("%(actor)s pulled in %(person)s (paged at level %(level)s)") % values)


def _silenced(event, names):
    return Told(
        _("Paging held back by a maintenance window"),
        fields_of(event.data, names, ["silenced_by"]),
    )


for _kind, _function in {
    EventKind.CREATED: _created,
    EventKind.CLASSIFIED: _classified,
    EventKind.RECLASSIFIED: _classified,
    EventKind.ESCALATION_DECIDED: _decided,
    EventKind.ESCALATED: _lifecycle(lambda: _("%(actor)s escalated the incident"), ["reason"]),
    EventKind.ACKNOWLEDGED: _acknowledged,
    EventKind.WORKAROUND: _lifecycle(lambda: _("%(actor)s provided a workaround"), ["workaround"]),
    EventKind.RESOLVED: _lifecycle(lambda: _("%(actor)s resolved the incident"), ["resolution"]),
    EventKind.CLOSED: _lifecycle(lambda: _("%(actor)s closed the incident"), ["review"]),
    EventKind.REOPENED: _lifecycle(lambda: _("%(actor)s reopened the incident"), ["reason"]),
    EventKind.UPDATE_POSTED: _update_posted,
    EventKind.CHANGED: _changed,
    EventKind.SLA_WARNING: _sla,
    EventKind.SLA_BREACHED: _sla,
    EventKind.SLA_PAUSED: _sla,
    EventKind.SLA_RESUMED: _sla,
    EventKind.PUBLIC_PUBLISHED: _public,
    EventKind.PUBLIC_LINKED: _public,
    EventKind.PUBLIC_UPDATE: _public,
    EventKind.PUBLIC_RESOLVED: _public,
    "escalation_started": _escalation_started,
    "level_paged": _level_paged,
    "page_sent": _page_sent,
    "level_skipped": _level_skipped,
    "waiting_for_service_hours": _waiting,
    "escalation_exhausted": _exhausted,
    "escalation_stopped": _stopped,
    "matrix_decision": _informed,
    "update_due": _informed,
    "update_reminder": _informed,
    "update_sent": _informed,
    "lifecycle_sent": _informed,
    "delivery_failed": _delivery,
    "delivery_dead": _delivery,
    "escalation_silenced": _silenced,
    "role_assigned": _role_assigned,
    "role_ended": _role_ended,
    "responder_pulled_in": _pulled_in,
}.items():
    sentence_register(str(_kind), _function)


def _fallback(event: IncidentEvent, names: dict[str, str]) -> Told:
    """A kind nobody registered: its label (or its code as words) and its data as fields."""
    try:
        sentence = str(EventKind(event.kind).label)
    except ValueError:
        sentence = event.kind.replace("_", " ").capitalize()
    return Told(sentence, fields_of(event.data, names))


# --- The timeline ----------------------------------------------------------------------------


def _usernames(events: list[IncidentEvent]) -> set[str]:
    found = set()
    for event in events:
        d = event.data
        for key in PERSON_KEYS:
            value = d.get(key)
            values = value if isinstance(value, list) else [value]
            found.update(v for v in values if v and isinstance(v, str))
        for item in d.get("informed", []) if isinstance(d.get("informed"), list) else []:
            if isinstance(item, dict) and item.get("to"):
                found.add(item["to"])
    return {u for u in found if isinstance(u, str)}


def entry_present(event: IncidentEvent, names: dict[str, str]) -> Entry:
    function = SENTENCES.get(event.kind, _fallback)
    try:
        told = function(event, names)
    except (KeyError, TypeError, ValueError, AttributeError):
        told = _fallback(event, names)  # data in an older shape: still words
    if event.from_state and event.to_state and event.from_state != event.to_state:
        told.fields.insert(0, (_("State"), f"{word(event.from_state)} → {word(event.to_state)}"))
    technical = json.dumps(
        {
            "kind": event.kind,
            "actor": event.actor_label,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "at": event.created_at.isoformat(),
            "data": event.data,
        },
        indent=2,
        ensure_ascii=False,
        default=str,
    )
    sentence = told.sentence[:1].upper() + told.sentence[1:]
    return Entry(event, sentence, told.fields, actor_of(event), technical)


def entries_present(events: Iterable[IncidentEvent]) -> list[Entry]:
    """A timeline as entries to show; one query for the names of the people the data mentions."""
    events = list(events)
    usernames = _usernames(events)
    names = {}
    if usernames:
        people = User.objects.filter(username__in=usernames).only(
            "username", "first_name", "last_name"
        )
        names = {u.username: u.display_name for u in people}
    with _LOOKUPS.scope():
        return [entry_present(event, names) for event in events]
