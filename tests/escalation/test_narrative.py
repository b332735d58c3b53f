"""The readable timeline (escalation/narrative.py): a sentence per entry in the reader's language,
no raw code or Python repr, generated English texts through the catalogue, a fallback for kinds
nobody registered."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import translation

from escalation import narrative
from incidents.models import IncidentEvent, State
from tests.factories import IncidentFactory, drive

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 7, 6, 36, tzinfo=UTC)
SAMPLES = {
    "escalated": {"reason": "Rule 'P1-P2 always escalate': priority P2 is at or above P2"},
    "escalation_decided": {"required": False, "reason": "no escalation rule matches priority P3"},
    "resolved": {"resolution": "Resolved by Claims Portal: claims-api up again"},
    "page_sent": {"to": "eva", "channel": "email", "level": 1},
    "level_paged": {
        "level": 1,
        "of": 3,
        "cycle": 0,
        "paged": ["eva"],
        "next_level_at": AT.isoformat(),
    },
    "matrix_decision": {
        "audience": "executives",
        "informed": [{"channel": "email", "to": "eva"}],
        "next_update_due": AT.isoformat(),
        "rule": 1,
    },
    "escalation_started": {
        "policy": "(default: escalation manager on duty)",
        "levels": 1,
        "repeat": 0,
    },
    "sla_breached": {
        "target": "response",
        "contract_name": "Vertrag",
        "breached_at": AT.isoformat(),
        "told": ["eva"],
    },
    "reclassified": {
        "impact": "high",
        "urgency": "medium",
        "priority": 2,
        "previous": {"priority": 4},
    },
    "delivery_dead": {
        "to": "x@example.com",
        "channel": "webhook",
        "attempts": 5,
        "error": "HTTP 500",
    },
}
RAW = re.compile(
    r"\{'|\[\'|_[a-z]+_|\b(page_sent|level_paged|matrix_decision|escalated|None)\b|Rule '"
)


def entry(kind, data, **kw):
    event = IncidentEvent(
        kind=kind, data=data, created_at=AT, actor_label="system (escalation)", **kw
    )
    return narrative.entries_present([event])[0]


@pytest.mark.parametrize("kind", [*narrative.SENTENCES, "regulatory_report_filed"])
def test_every_kind_reads_as_words_in_german(kind):
    from tests.factories import UserFactory

    UserFactory(username="eva", first_name="Eva", last_name="Hoffmann")
    data = SAMPLES.get(kind, {"nested": {"deadline": AT.isoformat(), "flag": True}, "items": ["a"]})
    with translation.override("de"):
        shown = entry(kind, data, from_state="classified", to_state="escalated")
    text = " ".join([shown.sentence, *(f"{k} {v}" for k, v in shown.fields)])
    assert not RAW.search(text), text
    assert "Klassifiziert → Eskaliert" in text
    if kind == "page_sent":
        assert shown.sentence == "Eva Hoffmann per E-Mail alarmiert, Stufe 1"
    if kind == "escalated":
        assert "Regel „P1-P2 always escalate“: Priorität P2 liegt bei oder über P2" in text
    if kind == "level_paged":
        assert "07.12.2026 07:36" in text  # Europe/Berlin
    if kind == "regulatory_report_filed":  # nobody registered it: words, fields, no repr
        assert shown.sentence == "Regulatory report filed" and "Frist: 07.12.2026 07:36" in text
    assert f'"kind": "{kind}"' in shown.technical  # the raw data stays one toggle away


def test_nested_apps_register_their_sentences():
    narrative.sentence_register("review_done", lambda e, n: narrative.Told("Review done"))
    try:
        assert entry("review_done", {}).sentence == "Review done"
    finally:
        del narrative.SENTENCES["review_done"]


def test_incident_page_timeline_in_german(client, manager, django_assert_max_num_queries):
    incident = drive(IncidentFactory(title="Mail"), State.RESOLVED, actor=manager)
    client.force_login(manager)
    url = reverse("console:incident", args=[incident.pk])
    # The whole page with every section (people, alerts, continuity, problems, reporting, review,
    # dossier): a bound that does not grow with the timeline's length.
    with django_assert_max_num_queries(54):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    timeline = re.sub(
        r'<details class="technical">.*?</details>',
        "",
        page[page.index('id="timeline"') :],
        flags=re.S,
    )
    assert "hat den Incident gelöst" in timeline and "Eskaliert → Workaround aktiv" in timeline
    assert not RAW.search(timeline)


def test_forms_cannot_mislead(client, manager):
    """Reclassify is preset to the current values and offered last; closing an escalated incident
    marks the review as required and says why before the confirm."""
    client.force_login(manager)
    incident = drive(IncidentFactory(title="Formular"), State.CLASSIFIED)  # P3: medium/medium
    page = client.get(reverse("console:incident", args=[incident.pk]), HTTP_ACCEPT_LANGUAGE="en")
    page = page.content.decode()
    steps = page[page.index('id="next-steps"') : page.index('id="composer"')]
    assert steps.index('data-action="escalate"') < steps.index("<summary>Reclassify</summary>")
    assert (
        '<option value="medium" selected>' in steps
        and '<option value="high" selected>' not in steps
    )
    resolved = drive(IncidentFactory(title="Zu"), State.RESOLVED)
    page = client.get(reverse("console:incident", args=[resolved.pk]), HTTP_ACCEPT_LANGUAGE="de")
    page = page.content.decode()
    assert "zum Abschließen ist ein Post-Incident-Review nötig" in page
    assert 'name="close-review"' in page and "(Pflichtfeld)" in page
    assert 'data-confirm="Dieser Incident wurde eskaliert' in page


def test_incident_page_polls_only_what_is_not_a_form(client, manager, responder):
    from escalation.services import incident_acknowledge

    incident = IncidentFactory(title="Live", commander=manager)
    client.force_login(manager)
    url = reverse("console:incident", args=[incident.pk])
    page = client.get(url).content.decode()
    seen = incident.timeline_length
    assert f'hx-get="{url}?seen={seen}"' in page
    poll = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}
    assert client.get(url, {"seen": seen}, **poll).status_code == 204  # nothing new: no swap
    incident_acknowledge(incident=incident, actor=responder)
    fragment = client.get(url, {"seen": seen}, **poll).content.decode()
    assert "Changed meanwhile by rolf.responder." in fragment
    assert 'id="timeline-list" hx-swap-oob="true"' in fragment and "<form" not in fragment


def test_a_timeline_looks_each_report_type_and_customer_up_once(manager, django_assert_num_queries):
    """Entries that name a report type or a customer (regulatory, continuity) cost one lookup per
    distinct name for the whole timeline, not one per entry; outside a timeline each sentence
    still looks its name up."""
    from django.db import transaction

    from escalation.continuity.services import EV_CONCESSION
    from escalation.regulatory.services import EV_REFERENCE, EV_SUBMITTED
    from incidents.services import timeline_record_many
    from tests.factories import CustomerFactory

    customer = CustomerFactory(slug="stadtwerke", name="Stadtwerke Nord")
    incident = IncidentFactory()
    submitted = {
        "report": "Early warning",
        "regime": "nis2",
        "submitted_at": "2026-12-07T10:00:00+00:00",
    }
    entries = [
        {"kind": kind, "actor": manager, "data": data}
        for _ in range(4)
        for kind, data in (
            (EV_SUBMITTED, submitted),
            (EV_REFERENCE, {**submitted, "reference": "BSI-1"}),
            (EV_CONCESSION, {"customer": customer.slug, "accepted_by": "Frau Nord"}),
        )
    ]
    with transaction.atomic():
        timeline_record_many(incident=incident, entries=entries)
    kinds = [EV_SUBMITTED, EV_REFERENCE, EV_CONCESSION]
    events = list(IncidentEvent.objects.filter(kind__in=kinds).select_related("actor"))
    assert len(events) == 12
    with translation.override("en"), django_assert_num_queries(2):  # a report type, a customer
        told = narrative.entries_present(events)
    assert all("Stadtwerke Nord" in e.sentence for e in told if e.event.kind == EV_CONCESSION)
    with translation.override("en"), django_assert_num_queries(2):
        narrative.entry_present(events[0], {}), narrative.entry_present(events[3], {})
