"""Business continuity's services: runbook versions, the workaround record and concession on the
timeline, the disruption level (derived and set by hand, paging the crisis team), and the
RTO/MTPD clocks with time travel."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine

from escalation.continuity import selectors
from escalation.continuity.models import ContinuitySettings, IncidentLevel, Level, Workaround
from escalation.continuity.services import (
    CLOCK_KIND,
    concession_record,
    level_release,
    level_set,
    process_update,
    runbook_revise,
    workaround_apply,
)
from escalation.models import Clock, EscalationLevel, EscalationPolicy
from escalation.services import incident_classify
from escalation.services.clocks import clocks_tick
from incidents.exceptions import InvalidInput, TransitionNotAllowed
from incidents.models import IncidentEvent, State
from incidents.timeline import verify_incident
from notifications.models import Notification
from tests.factories import IncidentFactory, UserFactory, drive

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def kinds(incident, kind):
    return list(
        IncidentEvent.objects.filter(incident=incident, kind=kind)
        .order_by("seq")
        .values_list("data", flat=True)
    )


@pytest.fixture
def incident(service, customer, manager, process):
    return IncidentFactory(actor=manager, services=[service], customers=[customer], detected_at=T0)


def test_an_edit_makes_a_new_version_and_the_incident_keeps_the_one_it_used(
    runbook, incident, manager
):
    assert runbook.version == 1
    v2 = runbook_revise(runbook=runbook, actor=manager, limitations="Nur werktags 7-20 Uhr")
    assert (v2.number, v2.customer_text_de) == (2, runbook.versions.get(number=1).customer_text_de)
    assert runbook_revise(runbook=runbook, actor=manager, limitations=v2.limitations) == v2

    incident = drive(incident, State.ESCALATED, actor=manager)
    record = workaround_apply(incident=incident, actor=manager, runbook=runbook)
    runbook_revise(runbook=runbook, actor=manager, customer_text_en="Call us, please.")

    record.refresh_from_db()
    assert record.runbook_version.number == 2
    assert record.decided_by == manager
    assert "1. Hotline" in record.text and "(Service Desk)" in record.text
    assert "(Kundenservice)" in record.text  # a step without its own performer: the runbook's
    incident.refresh_from_db()
    assert incident.state == State.WORKAROUND
    assert incident.workaround == record.text
    [entry] = kinds(incident, "continuity_workaround")
    assert entry["version"] == 2 and entry["ad_hoc"] is False
    assert verify_incident(incident) is None


def test_a_runbook_needs_steps_and_customer_texts(runbook, manager):
    with pytest.raises(InvalidInput):
        runbook_revise(runbook=runbook, actor=manager, steps=[])
    with pytest.raises(InvalidInput):
        runbook_revise(runbook=runbook, actor=manager, customer_text_en="  ")
    runbook.refresh_from_db()
    assert runbook.version == 1


def test_objectives_are_checked(process, manager):
    with pytest.raises(InvalidInput):
        process_update(process=process, actor=manager, mtpd_minutes=30)
    with pytest.raises(InvalidInput):
        process_update(process=process, actor=manager, objectives={"9": {"rto": 1, "mtpd": 2}})
    assert process.objectives_for(1) == (30, 120)
    assert process.objectives_for(3) == (60, 240)


def test_ad_hoc_workaround_and_the_concession(incident, manager, customer, other_customer):
    incident = drive(incident, State.ESCALATED, actor=manager)
    with pytest.raises(InvalidInput):
        workaround_apply(incident=incident, actor=manager, text=" ")
    record = workaround_apply(
        incident=incident, actor=manager, text="Ablesung per Papierformular", customer_text_de="X"
    )
    assert record.ad_hoc and record.runbook_version is None
    with pytest.raises(InvalidInput):
        concession_record(
            workaround=record, actor=manager, customer=other_customer, accepted_by="A"
        )
    with pytest.raises(InvalidInput):
        concession_record(workaround=record, actor=manager, customer=customer, accepted_by=" ")
    concession = concession_record(
        workaround=record,
        actor=manager,
        customer=customer,
        accepted_by="Frau Berg (Leitung Abrechnung)",
        conditions="Nur bis Monatsende",
    )
    assert concession.recorded_by == manager
    [entry] = kinds(incident, "continuity_concession")
    assert entry["customer"] == customer.slug and entry["conditions"] == "Nur bis Monatsende"
    with pytest.raises(InvalidInput):  # once per customer
        concession_record(workaround=record, actor=manager, customer=customer, accepted_by="B")


def test_a_workaround_needs_an_escalated_incident(incident, manager, runbook):
    with pytest.raises(TransitionNotAllowed):
        workaround_apply(incident=incident, actor=manager, runbook=runbook)
    assert not Workaround.objects.exists()


def test_level_derivation(incident, process):
    found = selectors.deadlines(incident, [process])
    assert found[0].rto_at == T0 + timedelta(minutes=60)
    assert selectors.level_derived(incident, found, T0 + timedelta(minutes=59)) == "disruption"
    assert selectors.level_derived(incident, found, T0 + timedelta(minutes=60)) == "emergency"
    assert selectors.level_derived(incident, found, T0 + timedelta(minutes=240)) == "crisis"
    assert selectors.level_derived(incident, [], T0 + timedelta(days=3)) == "disruption"
    recovered = SimpleNamespace(state=State.WORKAROUND)  # the process runs again
    assert selectors.level_derived(recovered, found, T0 + timedelta(days=3)) == "disruption"


def test_the_level_is_set_by_hand_with_a_reason_and_pages_the_crisis_team(incident, manager):
    crisis = UserFactory(username="kurt.krisenstab")
    policy = EscalationPolicy.objects.create(name="Krisenstab")
    EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=10).users.add(crisis)
    ContinuitySettings.objects.create(crisis_policy=policy, page_from=Level.EMERGENCY)
    with pytest.raises(InvalidInput):
        level_set(incident=incident, actor=manager, level=Level.CRISIS, reason="")

    level_set(incident=incident, actor=manager, level=Level.EMERGENCY, reason="Vorstand betroffen")
    level_set(incident=incident, actor=manager, level=Level.CRISIS, reason="Presse fragt an")

    row = IncidentLevel.objects.get(incident=incident)
    assert (row.level, row.manual, row.set_by) == ("crisis", True, manager)
    entries = kinds(incident, "continuity_level")
    assert [(e["from"], e["to"]) for e in entries] == [
        ("disruption", "emergency"),
        ("emergency", "crisis"),
    ]
    assert entries[0]["crisis_team"] == ["kurt.krisenstab"]
    assert entries[1]["crisis_team"] == []  # paged once, on rising past the threshold
    assert Notification.objects.filter(template="continuity_crisis").count() == 1
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        level_release(incident=incident, actor=manager)  # back to the objectives: within RTO
    assert IncidentLevel.objects.get(incident=incident).level == "disruption"


def test_rto_and_mtpd_clocks_warn_and_raise_the_level(incident, manager, runbook):
    with time_machine.travel(T0, tick=False):
        incident = incident_classify(
            incident=incident, actor=manager, impact="medium", urgency="medium"
        )
    clocks = Clock.objects.filter(incident=incident, kind=CLOCK_KIND)
    assert sorted(c.due_at - T0 for c in clocks) == [
        timedelta(minutes=m) for m in (30, 48, 60, 120, 192, 240)
    ]
    with time_machine.travel(T0 + timedelta(minutes=61), tick=False):
        clocks_tick()
    warnings = kinds(incident, "continuity_warning")
    assert [(w["objective"], w["percent"]) for w in warnings] == [
        ("rto", 50),
        ("rto", 80),
        ("rto", 100),
    ]
    assert warnings[0]["told"] == ["mara.manager"]
    assert Notification.objects.filter(template="continuity_warning").count() == 3
    assert IncidentLevel.objects.get(incident=incident).level == "emergency"

    with time_machine.travel(T0 + timedelta(minutes=90), tick=False):
        incident = drive(incident, State.ESCALATED, actor=manager)  # from classified
        workaround_apply(incident=incident, actor=manager, runbook=runbook)
    assert IncidentLevel.objects.get(incident=incident).level == "disruption"
    assert not clocks.filter(status=Clock.Status.PENDING).exists()  # recovered: no more due
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        clocks_tick()
    assert len(kinds(incident, "continuity_warning")) == 3
    incident.refresh_from_db()
    assert verify_incident(incident) is None


def test_a_priority_of_its_own_moves_the_clocks(incident, manager):
    with time_machine.travel(T0, tick=False):
        incident_classify(incident=incident, actor=manager, impact="medium", urgency="medium")
        incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
    pending = Clock.objects.filter(incident=incident, kind=CLOCK_KIND, status=Clock.Status.PENDING)
    assert sorted(c.due_at - T0 for c in pending) == [
        timedelta(minutes=m) for m in (15, 24, 30, 60, 96, 120)
    ]
