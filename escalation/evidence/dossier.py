"""The evidence dossier of one incident: everything an auditor asks for, in one JSON document
(the API answers it as is; the PDF renders it).

What is in it: the record; every classification and escalation decision with the rule that made
it; every page and acknowledgement; every message sent to every audience (content, recipient,
time, delivery status); the SLA clocks and penalties; the sections nested apps register
(escalation.hooks.dossier_sections: reviews, actions, continuity, ...); and the timeline with its
hash chain, the result of verifying it, and how to verify it independently (the canonical form,
the algorithm, and VERIFY_SCRIPT, which recomputes the chain from this JSON alone).

Timeline entries carry exactly the fields the hash covers (IncidentEvent.canonical_content), as
stored: `created_at` in UTC with microseconds, `data` as the JSON column holds it. Anything added
for reading (a label) lives beside them and is not hashed.
"""

import re
from datetime import UTC, datetime

from django.db.models import Q
from django.template import TemplateDoesNotExist
from django.utils.translation import gettext as _

from escalation import hooks
from escalation.api.serializers import IncidentSlaSerializer
from escalation.models import Page
from escalation.selectors import sla_exposure
from escalation.sla import is_paused
from incidents.models import GENESIS_HASH, EventKind, Incident, IncidentEvent
from incidents.timeline import verify_incident
from notifications.models import Notification
from notifications.rendering import render_content

FORMAT = "escalation-manager/dossier/1"
# A page's one-click acknowledgement link is a credential while it lasts: not in the dossier.
ACK_LINK = re.compile(r"/ack/[^/\s]+/?")
HASHED_FIELDS = (
    "incident",
    "seq",
    "kind",
    "actor",
    "actor_label",
    "from_state",
    "to_state",
    "data",
    "created_at",
    "prev_hash",
)
DECISION_KINDS = (
    EventKind.CLASSIFIED,
    EventKind.RECLASSIFIED,
    EventKind.ESCALATION_DECIDED,
    EventKind.ESCALATED,
)

CANONICAL_FORM = (
    "Each timeline entry's hash is SHA-256 (hex) over the UTF-8 bytes of a JSON object with "
    "exactly the keys incident, seq, kind, actor, actor_label, from_state, to_state, data, "
    "created_at, prev_hash (the values as in this dossier; created_at in UTC, ISO 8601 with "
    "microseconds), written with sorted keys, no whitespace (separators ',' and ':') and "
    "non-ASCII characters unescaped. The first entry's prev_hash is 64 zeros; every further "
    "entry's prev_hash is the hash of the entry before it; the incident records the number of "
    "entries and the newest hash (length, head), so removing the newest entries shows too."
)

# Printed in the dossier; an auditor runs it on the JSON (tests run this very text).
VERIFY_SCRIPT = '''\
"""Recompute the hash chain of an Escalation Manager evidence dossier.
Usage: python3 verify_dossier.py dossier.json   (exit code 0: intact, 1: broken)"""
import hashlib
import json
import sys

FIELDS = ("incident", "seq", "kind", "actor", "actor_label",
          "from_state", "to_state", "data", "created_at", "prev_hash")


def verify(timeline):
    prev, seq = "0" * 64, 0
    for entry in timeline["entries"]:
        seq += 1
        if entry.get("withheld"):  # not for this reader: its link is checked, its hash taken
            digest = entry["hash"]
        else:
            content = {name: entry[name] for name in FIELDS}
            canonical = json.dumps(content, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode("utf-8")
            digest = hashlib.sha256(canonical).hexdigest()
        if entry["seq"] != seq:
            return f"entry #{entry['seq']}: expected sequence number {seq}"
        if entry["prev_hash"] != prev:
            return f"entry #{seq}: does not link to the entry before it"
        if digest != entry["hash"]:
            return f"entry #{seq}: content does not match its hash"
        prev = digest
    if seq != timeline["length"] or (seq and prev != timeline["head"]):
        return f"the chain ends at entry #{seq}, the incident records {timeline['length']}"
    return None


with open(sys.argv[1], encoding="utf-8") as file:
    timeline = json.load(file)["timeline"]
problem = verify(timeline)
if problem:
    print("BROKEN:", problem)
    sys.exit(1)
withheld = sum(1 for entry in timeline["entries"] if entry.get("withheld"))
note = f" ({withheld} withheld from this reader: hashes taken as given)" if withheld else ""
print(f"OK: {timeline['length']} entries, head {timeline['head']}{note}")
'''


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.display_name}


def audience_of(notification: Notification) -> str:
    """Who a message went to, as the communication matrix names audiences."""
    if notification.template == "page":
        return "paged"
    if notification.recipient_id is None:
        return "subscribers"
    if notification.recipient.customer_id:
        return "customers"
    if "executive" in notification.template:
        return "executives"
    return "team"


def _record(incident: Incident) -> dict:
    return {
        "id": incident.pk,
        "title": incident.title,
        "description": incident.description,
        "state": incident.state,
        "source": incident.source,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "priority": incident.priority,
        "services": [{"slug": s.slug, "name": s.name} for s in incident.services.all()],
        "customers": [{"slug": c.slug, "name": c.name} for c in incident.customers.all()],
        "commander": _person(incident.commander),
        "created_by": _person(incident.created_by),
        "escalation_required": incident.escalation_required,
        "escalation_rule": incident.escalation_rule,
        "escalation_reason": incident.escalation_reason,
        "workaround": incident.workaround,
        "resolution": incident.resolution,
        "review": incident.review,
        **{
            field: _iso(getattr(incident, field))
            for field in (
                "detected_at",
                "acknowledged_at",
                "classified_at",
                "escalated_at",
                "workaround_at",
                "resolved_at",
                "closed_at",
            )
        },
    }


def withheld_from_executives(event: IncidentEvent) -> bool:
    """The team's internal updates: executives never read them (as the timeline API)."""
    return event.kind == EventKind.UPDATE_POSTED and (event.data or {}).get("audience") not in (
        "executive",
        "customer",
    )


def _entry(event: IncidentEvent, *, full: bool) -> dict:
    if not full and withheld_from_executives(event):
        return {
            "seq": event.seq,
            "kind": event.kind,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
            "withheld": True,
            "label": str(event.get_kind_display()),
        }
    return {
        "incident": event.incident_id,
        "seq": event.seq,
        "kind": event.kind,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "data": event.data,
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "label": str(event.get_kind_display()),
    }


def _decision(event: IncidentEvent) -> dict:
    data = event.data or {}
    return {
        "seq": event.seq,
        "kind": event.kind,
        "at": _iso(event.created_at),
        "by": event.actor_label,
        "rule": data.get("rule", ""),
        "details": data,
    }


def _content(notification: Notification) -> dict:
    """What the recipient got: the rendered subject and text (email, chat), or the payload
    (webhooks, whose body is the stored context)."""
    if notification.channel == "webhook":
        return {"subject": notification.template, "text": "", "payload": notification.context}
    try:
        content = render_content(
            channel=notification.channel,
            template=notification.template,
            language=notification.language,
            context=notification.context,
            time_zone=getattr(notification.recipient, "time_zone", "") or "",
        )
    except TemplateDoesNotExist:
        return {"subject": notification.template, "text": "", "payload": notification.context}
    text = ACK_LINK.sub("/ack/[…]/", content["text"] or content["chat"])
    return {"subject": content["subject"], "text": text}


def _message(notification: Notification, *, full: bool) -> dict:
    audience = audience_of(notification)
    if full or audience not in ("team", "paged"):
        content = _content(notification)
    else:  # the team's messages carry internal updates: executives see that they were sent
        content = {"subject": "", "text": "", "withheld": True}
    return {
        "id": notification.pk,
        "delivery_id": str(notification.delivery_id),
        "audience": audience,
        "recipient": _person(notification.recipient),
        "channel": notification.channel,
        "address": notification.address,
        "language": notification.language,
        "template": notification.template,
        "created_at": _iso(notification.created_at),
        "sent_at": _iso(notification.sent_at),
        "status": notification.status,
        "attempts": notification.attempts,
        "last_error": notification.last_error,
        **content,
    }


def messages_of(incident: Incident):
    """Every outbox row about this incident (team, executives, pages, customers, subscribers):
    the subject names it, or it went out for a public face that covers it."""
    about = Q(subject=f"incident:{incident.pk}")
    for face_id in incident.public_incidents.values_list("pk", flat=True):
        about |= Q(dedup_key__startswith=f"pub:{face_id}:")
        about |= Q(dedup_key__startswith=f"puballclear:{face_id}:")
    return (
        Notification.objects.filter(about).select_related("recipient").order_by("created_at", "pk")
    )


def _sla(incident: Incident, at: datetime) -> dict:
    pauses = [(p.started_at, p.ended_at) for p in incident.sla_pauses.all() if not p.automatic]
    body = {
        "incident": incident.pk,
        "priority": incident.priority,
        "at": at,
        "paused": is_paused(pauses, at),
        "contracts": sla_exposure(incident, at),
    }
    data = IncidentSlaSerializer(body).data
    data["pauses"] = [
        {
            "contract": p.contract_id,
            "reason": p.reason,
            "automatic": p.automatic,
            "from": _iso(p.started_at),
            "until": _iso(p.ended_at),
        }
        for p in incident.sla_pauses.all()
    ]
    return data


def incident_dossier(incident: Incident, *, at: datetime, full: bool) -> dict:
    """The dossier as a JSON-serialisable dict. `incident` must come from
    escalation.selectors.with_sla (its SLA prefetches). `full` for the team; executives
    (full=False) get the team's internal updates withheld: those timeline entries carry only
    their hashes (the chain still verifies), the team's messages only who, when and status."""
    events = list(incident.events.order_by("seq", "id"))
    problem = verify_incident(incident, iter(events))
    pages = Page.objects.filter(incident=incident).select_related("user").order_by("created_at")
    sections = [section for fn in hooks.dossier_sections if (section := fn(incident))]
    return {
        "format": FORMAT,
        "generated_at": at.isoformat(),
        "incident": _record(incident),
        "decisions": [_decision(e) for e in events if e.kind in DECISION_KINDS],
        "pages": [
            {
                "user": _person(page.user),
                "level": page.level_index + 1,
                "cycle": page.cycle,
                "at": _iso(page.created_at),
            }
            for page in pages
        ],
        "acknowledgements": [
            {"seq": e.seq, "at": _iso(e.created_at), "by": e.actor_label, **(e.data or {})}
            for e in events
            if e.kind == EventKind.ACKNOWLEDGED
        ],
        "messages": [_message(n, full=full) for n in messages_of(incident)],
        "sla": _sla(incident, at),
        "sections": sections,
        "timeline": {
            "algorithm": "SHA-256",
            "canonical_form": CANONICAL_FORM,
            "genesis": GENESIS_HASH,
            "length": incident.timeline_length,
            "head": incident.timeline_head,
            "verified": problem is None,
            "problem": str(problem) if problem else None,
            "entries": [_entry(e, full=full) for e in events],
            "script": VERIFY_SCRIPT,
        },
        "how_to_verify": _(
            "Save this JSON as dossier.json and the script under timeline.script as "
            "verify_dossier.py; run: python3 verify_dossier.py dossier.json"
        ),
    }
