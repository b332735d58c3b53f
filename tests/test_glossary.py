"""One state, one name per audience (DESIGN.md's glossary): customers only ever read the public
statuses, named by incidents.glossary.public_status_label; "Workaround" is the German word too."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from escalation import selectors
from incidents.glossary import PUBLIC_STATUS_OF_STATE, public_status_label
from incidents.models import State
from tests.factories import IncidentFactory, drive

ROOT = Path(__file__).resolve().parent.parent
BANNED = re.compile(r"Übergangslösung|Umgehungslösung", re.IGNORECASE)
GLOSSARY = {
    "de": {
        "internal": {
            "detected": "Erkannt",
            "classified": "Klassifiziert",
            "escalated": "Eskaliert",
            "workaround": "Workaround aktiv",
            "resolved": "Gelöst",
            "closed": "Abgeschlossen",
        },
        "public": ["Wird untersucht", "Ursache gefunden", "Wird beobachtet", "Behoben"],
    },
    "en": {
        "internal": {
            "detected": "Detected",
            "classified": "Classified",
            "escalated": "Escalated",
            "workaround": "Workaround in place",
            "resolved": "Resolved",
            "closed": "Closed",
        },
        "public": ["Investigating", "Identified", "Monitoring", "Resolved"],
    },
}


def test_no_banned_word_in_templates_code_or_catalogue():
    files = [
        *(ROOT / "templates").rglob("*.*"),
        *(ROOT / "config" / "locale").rglob("*.po"),
        *(
            p
            for app in ("incidents", "escalation", "notifications")
            for p in (ROOT / app).rglob("*.py")
        ),
    ]
    offenders = [
        str(p.relative_to(ROOT))
        for p in files
        if p.suffix in {".html", ".txt", ".po", ".py", ".xml", ".atom"}
        and BANNED.search(p.read_text(encoding="utf-8", errors="ignore"))
    ]
    assert offenders == []


def test_catalogue_holds_the_glossary():
    po = (ROOT / "config/locale/de/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    entries = re.findall(r'msgctxt "public status"\nmsgid "([^"]*)"\nmsgstr "([^"]*)"', po)
    public = dict(entries)
    assert public == dict(zip(GLOSSARY["en"]["public"], GLOSSARY["de"]["public"], strict=True))


@pytest.mark.parametrize("language", ["de", "en"])
def test_internal_and_public_words(language):
    words = GLOSSARY[language]
    with translation.override(language):
        assert {s.value: str(s.label) for s in State} == words["internal"]
        assert sorted({public_status_label(s) for s in State.values}) == sorted(
            [words["public"][0], words["public"][1], words["public"][3]]
        )
        assert public_status_label("monitoring") == words["public"][2]


def test_customer_facing_code_names_states_through_the_one_mapping():
    """The portal, the status page and customer mail name a state with public_status_label or
    the glossary's labels; no other module keeps its own table of public words."""
    users = {
        # the portal, customer mail and the customer API read public incidents through it
        "incidents/presentation.py": "glossary.public_status_label",
        "incidents/statuspage/render.py": "PUBLIC_STATUS_LABELS",
        "escalation/selectors.py": "public_status_label",
    }
    for path, name in users.items():
        assert name in (ROOT / path).read_text(), path
    tables = [
        str(p.relative_to(ROOT))
        for app in ("incidents", "escalation", "notifications")
        for p in (ROOT / app).rglob("*.py")
        if re.search(r'gettext(_lazy)?\("(Investigating|Being worked on)"', p.read_text())
    ]
    assert tables == []
    assert set(PUBLIC_STATUS_OF_STATE) == set(State.values)


@pytest.mark.django_db
@pytest.mark.parametrize("state", [State.ESCALATED, State.WORKAROUND, State.RESOLVED])
def test_customer_mail_reads_the_public_status(customer_contact, state):
    incident = drive(IncidentFactory(), state)
    for language in ("de", "en"):
        customer = selectors.message_context(
            incident, customer_contact, audience="customer", language=language
        )
        team = selectors.message_context(incident, None, audience="internal", language=language)
        with translation.override(language):
            assert customer["state"] == public_status_label(state)
        assert customer["state"] in GLOSSARY[language]["public"]
        assert team["state"] == GLOSSARY[language]["internal"][state]
