"""Every timeline kind the code records has a sentence (escalation.narrative's registry), and no
console incident page of the demo shows a raw kind code or a Python repr (issue #21)."""

import ast
import re
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from escalation import narrative
from incidents.models import EventKind, Incident, IncidentEvent, User
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def _kind_values(node: ast.AST) -> set[str] | None:
    """The kinds an expression given as `kind` can be: a string, an EventKind member, either of
    two (`a if c else b`); an EV_ constant (all of them are counted, by value, below) adds none.
    None: something else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name | ast.Attribute):
        name = getattr(node, "id", getattr(node, "attr", ""))
        if name.startswith("EV_"):
            return set()
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "EventKind":
        return {str(EventKind[node.attr])}
    if isinstance(node, ast.IfExp):
        body, orelse = _kind_values(node.body), _kind_values(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def recorded_kinds() -> tuple[set[str], list[str]]:
    """The kinds the code records: every EV_ constant (two modules may use one name for different
    kinds), every EventKind, and every literal `kind` given to timeline_record or in
    timeline_record_many's entries. Returns them and the call sites whose kind is none of these
    (a helper passing its own `kind` parameter on is fine)."""
    files = [
        path
        for folder in ("incidents", "escalation", "notifications")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]
    trees = {path: ast.parse(path.read_text()) for path in files}
    kinds = {str(k) for k in EventKind}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.startswith("EV_"):
                        kinds.add(node.value.value)
    unknown = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "timeline_record":
                given = [k.value for k in node.keywords if k.arg == "kind"]
            elif name == "timeline_record_many":
                given = [
                    v
                    for d in ast.walk(node)
                    if isinstance(d, ast.Dict)
                    for k, v in zip(d.keys, d.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "kind"
                ]
            else:
                continue
            for value in given:
                found = _kind_values(value)
                if found is not None:
                    kinds |= found
                elif not (isinstance(value, ast.Name) and value.id == "kind"):
                    unknown.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return kinds, unknown


def test_every_kind_the_code_records_has_a_sentence():
    kinds, unknown = recorded_kinds()
    assert {
        "level_paged",
        "continuity_level",
        "review_submitted",
        "regulatory_report_submitted",
    } <= kinds
    assert {"role_assigned", "review_approved", "problem_linked", "public_resolved"} <= kinds
    assert not unknown, f"record these kinds through an EV_ constant or EventKind: {unknown}"
    missing = sorted(k for k in kinds if k not in narrative.SENTENCES)
    assert not missing, f"register a sentence (narrative.sentence_register) for: {missing}"


AT = "2026-12-07T06:36:00+00:00"
SAMPLES = {
    "role_assigned": {"role": "communications_lead", "to": "eva", "from": "rolf"},
    "role_ended": {"role": "scribe", "from": "eva"},
    "responder_pulled_in": {"to": "eva", "level": 2},
    "review_drafted": {"review": 1},
    "review_submitted": {"review": 1},
    "review_sent_back": {"review": 1, "reason": "Ursache fehlt"},
    "review_approved": {"review": 1, "author": "eva"},
    "action_added": {
        "action": 1,
        "title": "Monitoring",
        "kind": "corrective",
        "owner": "eva",
        "due_on": "2026-12-10",
    },
    "action_done": {
        "action": 1,
        "title": "Monitoring",
        "kind": "preventive",
        "owner": "eva",
        "due_on": "2026-12-10",
        "note": "erledigt",
    },
    "action_checked": {
        "action": 1,
        "title": "Monitoring",
        "kind": "improvement",
        "owner": "eva",
        "due_on": "2026-12-10",
        "effective": False,
        "note": "wieder aufgetreten",
    },
    "action_cancelled": {
        "action": 1,
        "title": "Monitoring",
        "kind": "corrective",
        "owner": "eva",
        "due_on": "2026-12-10",
        "reason": "überholt",
    },
    "problem_linked": {"problem": 1, "reference": "PRB-0001"},
    "problem_unlinked": {"problem": 1, "reference": "PRB-0001"},
    "regulatory_aware_set": {"from": AT, "to": AT, "reason": "Meldung des Kunden"},
    "regulatory_assessed": {
        "regime": "nis2",
        "regime_name": "NIS2",
        "reason": "mehr als 30 Minuten",
        "checks": {"duration": True},
        "personal_data": False,
    },
    "regulatory_report_submitted": {
        "regime": "nis2",
        "report": "Early warning",
        "submitted_at": AT,
        "due_at": AT,
        "late": True,
        "reference": "BSI-1",
    },
    "regulatory_reference_added": {"report": "Early warning", "reference": "BSI-1"},
    "regulatory_deadline_missed": {"regime": "nis2", "report": "Early warning", "due_at": AT},
    "continuity_workaround": {
        "workaround": 1,
        "runbook": 1,
        "runbook_title": "Notbetrieb",
        "version": 2,
        "ad_hoc": False,
    },
    "continuity_concession": {
        "workaround": 1,
        "customer": "acme",
        "accepted_by": "Frau Meier",
        "accepted_at": AT,
        "conditions": "",
    },
    "continuity_level": {
        "from": "disruption",
        "to": "crisis",
        "manual": False,
        "reason": "MTPD passed without a workaround",
        "crisis_team": ["eva"],
    },
    "continuity_warning": {
        "process": "Schadenmeldung",
        "objective": "rto",
        "percent": 80,
        "deadline": AT,
        "told": ["eva"],
    },
    "escalated": {"reason": "Maintenance 'DB-Update' ended and the incident is still open"},
    "reopened": {"reason": "Flapping: alert db-down fired again 3 min after it resolved (Prom)."},
    "escalation_silenced": {"rule": 1, "silenced_by": "maintenance #4: DB-Update"},
    "acknowledged": {"via": "alertmanager"},
}
RAW = re.compile(r"\{'|\[\{|\[\'|\bNone\b|\b[a-z]+_[a-z_]+\b|Rule '|Maintenance '|Flapping:")


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_new_sentences_read_as_german_words(kind):
    """Each registered function itself (not the fallback entry_present turns to when one fails)
    says its entry in German, with no code, repr or English generated text."""
    UserFactory(username="eva", first_name="Eva", last_name="Hoffmann")
    CustomerFactory(slug="acme", name="Acme AG")
    event = IncidentEvent(
        kind=kind,
        data=SAMPLES[kind],
        created_at=datetime(2026, 12, 7, 6, 36, tzinfo=UTC),
        actor_label="system (continuity)",
        to_state="not_reportable" if kind == "regulatory_assessed" else "",
    )
    with translation.override("de"):
        told = narrative.SENTENCES[kind](event, {"eva": "Eva Hoffmann", "rolf": "Rolf R."})
        shown = narrative.entries_present([event])[0]
    text = " ".join([told.sentence, *(f"{k} {v}" for k, v in told.fields)])
    assert not RAW.search(text), text
    assert shown.sentence[1:] == told.sentence[1:]  # the page shows this, not a fallback
    expected = {
        "role_assigned": "Kommunikationsverantwortung",
        "continuity_level": "Krise",
        "escalated": "Wartung „DB-Update“ ist beendet",
        "reopened": "Flattern",
        "escalation_silenced": "Wartungsfenster „DB-Update“",
        "regulatory_assessed": "nicht meldepflichtig",
        "continuity_concession": "Acme AG",
        "review_approved": "Verfasst von Eva Hoffmann",
        "action_added": "Verantwortlich Eva Hoffmann",
    }
    if kind in expected:
        assert expected[kind] in text, text


def _visible(page: str) -> str:
    """The page's text as a reader sees it (technical details folded away, no scripts)."""
    page = re.sub(r'<details class="technical">.*?</details>', "", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_demo_incident_pages_show_no_code_or_repr(client):
    call_command("load_demo", stdout=StringIO())
    recorded = set(IncidentEvent.objects.values_list("kind", flat=True))
    assert recorded <= set(narrative.SENTENCES), recorded - set(narrative.SENTENCES)
    codes = {k for k in recorded | set(narrative.SENTENCES) if "_" in k}
    raw = re.compile(r"\{'|\[\{|\bNone\b|\b(" + "|".join(sorted(codes)) + r")\b")
    client.force_login(User.objects.get(username="manager"))
    folded = 0
    for pk in Incident.objects.order_by("pk").values_list("pk", flat=True):
        url = reverse("console:incident", args=[pk])
        for language in ("de", "en"):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200
            page = response.content.decode()
            folded += bool(raw.search(page))  # the codes are there, one toggle away
            found = raw.search(_visible(page))
            assert not found, f"{url} ({language}): {found.group(0)!r}"
    assert folded  # the check looks at real timelines (their technical details hold the codes)


def test_person_keys_holding_other_data_still_read():
    """A key the registry treats as a username (nested apps add some) may hold something else in
    another kind's data: no crash, still words."""
    event = IncidentEvent(
        kind="some_new_kind",
        data={"to": {"level": 2}, "from": ["a", {"b": 1}], "owner": None},
        created_at=datetime(2026, 12, 7, 6, 36, tzinfo=UTC),
        actor_label="system",
    )
    with translation.override("en"):
        shown = narrative.entries_present([event])[0]
    assert shown.sentence == "Some new kind"
    assert not RAW.search(" ".join(f"{k} {v}" for k, v in shown.fields))
