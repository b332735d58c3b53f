"""SLA clocks end to end, with time travel: clocks per incident x contract x target in service
time, warnings at 50/75/90 % that fire once each, the breach on the timeline, pauses, reopening,
and the live exposure (accrued and projected penalty)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from escalation import calendars, roles, selectors, sla
from escalation.models import (
    BusinessCalendar,
    Clock,
    ContactMethod,
    Contract,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    PenaltyClause,
    SlaClock,
    SlaTarget,
)
from escalation.services import (
    incident_acknowledge,
    incident_classify,
    incident_close,
    incident_edit,
    incident_reopen,
    incident_resolve,
)
from escalation.services.clocks import clocks_tick
from escalation.services.sla import sla_pause, sla_resume, sla_sync
from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import EventKind, IncidentEvent
from incidents.timeline import verify_incident
from notifications.models import Notification
from tests.factories import IncidentFactory, ServiceFactory, review_approved

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday, 15:00 in Berlin
FRIDAY_17 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # Friday 17:00 in Berlin


def events(incident, kind):
    return list(
        IncidentEvent.objects.filter(incident=incident, kind=kind)
        .order_by("seq")
        .values_list("data", flat=True)
    )


@pytest.fixture
def service(db):
    return ServiceFactory(slug="kundenportal", name="Kundenportal")


@pytest.fixture
def contract(customer, service):
    """24/7, P1: respond in 15 min, workaround in 60, restore in 240; EUR 500 per started hour
    beyond the restore target, at most 50 % of the EUR 20,000 monthly fee per incident."""
    contract = Contract.objects.create(
        customer=customer,
        name="Betrieb Kundenportal",
        monthly_fee=Decimal("20000.00"),
        cap_per_incident_percent=Decimal("50"),
        valid_from=date(2026, 1, 1),
    )
    contract.services.add(service)
    SlaTarget.objects.create(
        contract=contract,
        priority=1,
        response_minutes=15,
        workaround_minutes=60,
        restore_minutes=240,
    )
    SlaTarget.objects.create(contract=contract, priority=3, restore_minutes=480)
    PenaltyClause.objects.create(
        contract=contract,
        target="restore",
        form="fixed_per_period",
        amount=Decimal("500"),
        period_minutes=60,
    )
    return contract


@pytest.fixture
def with_email(manager):
    ContactMethod.objects.create(user=manager, channel="email", address="mara@example.org")
    return manager


def open_p1(service, customer, actor, **kwargs):
    incident = IncidentFactory(services=[service], customers=[customer], actor=actor, **kwargs)
    return incident_classify(incident=incident, actor=actor, impact="high", urgency="high")


def test_classifying_starts_one_clock_per_contract_and_target(contract, service, customer, manager):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    clocks = {c.target: c for c in SlaClock.objects.filter(incident=incident)}
    assert set(clocks) == {"response", "workaround", "restore"}
    assert clocks["response"].deadline_at == T0 + timedelta(minutes=15)  # 24/7: wall time
    assert clocks["restore"].deadline_at == T0 + timedelta(hours=4)
    pending = Clock.objects.filter(incident=incident, kind__startswith="sla", status="pending")
    # three warnings and the breach for each of the three targets
    assert pending.count() == 12
    assert pending.filter(kind="sla_breach").count() == 3


def test_no_clocks_for_other_customers_services_or_priorities(contract, customer, manager):
    other_service = ServiceFactory(slug="mail")
    with time_machine.travel(T0, tick=False):
        not_covered = open_p1(other_service, customer, manager)
        no_customer = IncidentFactory(services=[contract.services.get()], actor=manager)
        incident_classify(incident=no_customer, actor=manager, impact="high", urgency="high")
        p4 = IncidentFactory(services=[contract.services.get()], customers=[customer])
        incident_classify(incident=p4, actor=manager, impact="low", urgency="low")
    assert not SlaClock.objects.filter(incident__in=[not_covered, no_customer, p4]).exists()


def test_warnings_fire_once_each_then_the_breach_is_on_the_timeline(
    contract, service, customer, manager, with_email
):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
        incident_acknowledge(incident=incident, actor=manager)  # only workaround/restore run on
    restore_warnings = []
    for minutes, expected in [(119, []), (120, [50]), (121, [50]), (180, [50, 75]), (216, None)]:
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            clocks_tick()
            clocks_tick()  # a second tick at the same time changes nothing
        restore_warnings = [
            e["percent"]
            for e in events(incident, EventKind.SLA_WARNING)
            if e["target"] == "restore"
        ]
        if expected is not None:
            assert restore_warnings == expected, minutes
    assert restore_warnings == [50, 75, 90]
    assert not [e for e in events(incident, EventKind.SLA_BREACHED) if e["target"] == "restore"]
    with time_machine.travel(T0 + timedelta(hours=4, seconds=1), tick=False):
        clocks_tick()
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        clocks_tick()
    breaches = [e for e in events(incident, EventKind.SLA_BREACHED) if e["target"] == "restore"]
    assert len(breaches) == 1
    assert breaches[0]["breached_at"] == (T0 + timedelta(hours=4)).isoformat()
    restore = SlaClock.objects.get(incident=incident, target="restore")
    assert restore.breached_at == T0 + timedelta(hours=4)
    # the commander (here: the manager on duty) was told by email, once per threshold
    mails = Notification.objects.filter(template="sla_warning", address="mara@example.org")
    restore_mails = [m for m in mails if m.context["sla_target"] == "restore"]
    assert sorted(m.context["sla_percent"] for m in restore_mails) == [50, 75, 90, 100]
    incident.refresh_from_db()
    assert verify_incident(incident) is None


def test_at_ninety_percent_the_next_escalation_level_is_paged(
    contract, service, customer, manager, responder
):
    policy = EscalationPolicy.objects.create(name="Portal", repeat=0)
    policy.services.add(service)
    responder.groups.add(Group.objects.get(name=roles.RESPONDER))
    first = EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=60)
    first.users.add(responder)
    second = EscalationLevel.objects.create(policy=policy, position=1, timeout_minutes=60)
    second.users.add(manager)
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)  # P1 escalates automatically
    run = EscalationRun.objects.get(incident=incident)
    assert run.level_index == 0
    # 90 % of the 15-minute response target is 13.5 minutes, before the level's own timeout
    with time_machine.travel(T0 + timedelta(minutes=13, seconds=30), tick=False):
        clocks_tick()
    run.refresh_from_db()
    assert run.level_index == 1
    warning = [e for e in events(incident, EventKind.SLA_WARNING) if e["percent"] == 90]
    assert warning[0]["escalated_to_level"] == 2


def test_late_reclassification_sends_only_the_highest_warning(
    contract, service, customer, manager, with_email
):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(services=[service], customers=[customer], actor=manager)
        incident_classify(incident=incident, actor=manager, impact="medium", urgency="medium")
    assert {c.target for c in SlaClock.objects.filter(incident=incident)} == {"restore"}
    with time_machine.travel(T0 + timedelta(minutes=50), tick=False):
        incident_classify(incident=incident, actor=manager, impact="high", urgency="high")
        incident_acknowledge(incident=incident, actor=manager)
        clocks_tick()
    workaround = [
        e["percent"] for e in events(incident, EventKind.SLA_WARNING) if e["target"] == "workaround"
    ]
    assert workaround == [75]  # 50 of 60 minutes: 83 %, so 75 and not 50 as well


def test_acknowledging_in_time_stops_the_response_clock(contract, service, customer, manager):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        incident_acknowledge(incident=incident, actor=manager)
    response = SlaClock.objects.get(incident=incident, target="response")
    assert response.stopped_at == T0 + timedelta(minutes=5)
    assert response.deadline_at is None
    assert not Clock.objects.filter(
        incident=incident, status="pending", payload__sla=response.pk
    ).exists()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        clocks_tick()
    assert not [e for e in events(incident, EventKind.SLA_BREACHED) if e["target"] == "response"]


def test_resolving_late_records_the_breach_without_waiting_for_a_tick(
    contract, service, customer, manager
):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Neustart")
    breached = {e["target"] for e in events(incident, EventKind.SLA_BREACHED)}
    assert breached == {"response", "workaround", "restore"}
    assert not Clock.objects.filter(incident=incident, status="pending").exists()


def test_business_hours_contract_counts_service_time_only(customer, service, manager):
    calendar = BusinessCalendar.objects.create(name="Mo-Fr 8-18 NRW", subdivision="NW")
    contract = Contract.objects.create(
        customer=customer,
        name="Bürozeiten",
        calendar=calendar,
        monthly_fee=Decimal("5000"),
        valid_from=date(2026, 1, 1),
    )
    SlaTarget.objects.create(contract=contract, priority=1, restore_minutes=120)
    with time_machine.travel(FRIDAY_17, tick=False):
        incident = open_p1(service, customer, manager)
    restore = SlaClock.objects.get(incident=incident, target="restore")
    # one hour on Friday until 18:00, the second on Monday from 08:00: Monday 09:00 Berlin
    assert restore.deadline_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_a_pause_stops_the_clocks_and_moves_the_deadline(contract, service, customer, manager):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        sla_pause(incident=incident, actor=manager, reason="Warten auf Zugang beim Kunden")
        with pytest.raises(InvalidInput):
            sla_pause(incident=incident, actor=manager, reason="noch einmal")
    restore = SlaClock.objects.get(incident=incident, target="restore")
    assert restore.deadline_at is None
    breach_rows = Clock.objects.filter(
        incident=incident, kind="sla_breach", status="pending", payload__sla=restore.pk
    )
    assert not breach_rows.exists()
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        clocks_tick()  # nothing fires while paused
        sla_resume(incident=incident, actor=manager)
    restore.refresh_from_db()
    assert restore.deadline_at == T0 + timedelta(hours=6)  # 4 h target + 2 h paused
    assert breach_rows.get().due_at == T0 + timedelta(hours=6)
    kinds = [e.kind for e in IncidentEvent.objects.filter(incident=incident).order_by("seq")]
    assert EventKind.SLA_PAUSED in kinds and EventKind.SLA_RESUMED in kinds


def test_pausing_needs_a_reason_an_open_incident_and_a_staff_role(
    contract, service, customer, manager, executive
):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
        with pytest.raises(InvalidInput):
            sla_pause(incident=incident, actor=manager, reason="  ")
        with pytest.raises(PermissionDenied) as refused, translation.override("de"):
            sla_pause(incident=incident, actor=executive, reason="Warten")
        assert (
            str(refused.value.message) == "Sie dürfen SLA-Uhren weder anhalten noch wieder starten."
        )
        with pytest.raises(InvalidInput):
            sla_resume(incident=incident, actor=manager)
    assert not incident.sla_pauses.exists()


def test_a_contract_without_pauses_keeps_counting(contract, service, customer, manager):
    contract.allows_pauses = False
    contract.save()
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        sla_pause(incident=incident, actor=manager, reason="Warten auf den Kunden")
    restore = SlaClock.objects.get(incident=incident, target="restore")
    assert restore.deadline_at == T0 + timedelta(hours=4)


def test_reopening_does_not_count_the_time_it_stood_resolved(contract, service, customer, manager):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
        incident_acknowledge(incident=incident, actor=manager)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        incident_resolve(incident=incident, actor=manager, resolution="Neustart")
    with time_machine.travel(T0 + timedelta(hours=10), tick=False):
        incident_reopen(incident=incident, actor=manager, reason="Fehler wieder da")
    restore = SlaClock.objects.get(incident=incident, target="restore")
    assert restore.stopped_at is None
    assert restore.breached_at is None
    assert restore.deadline_at == T0 + timedelta(hours=13)  # 1 h used, 3 h left from 10:00


def test_adding_a_customer_later_starts_its_contract_clocks(contract, service, customer, manager):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory(services=[service], actor=manager)
        incident = incident_classify(
            incident=incident, actor=manager, impact="high", urgency="high"
        )
    assert not SlaClock.objects.filter(incident=incident).exists()
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        incident_edit(incident=incident, actor=manager, customers=[customer])
    # the clocks count from detection, not from when the customer was added
    assert SlaClock.objects.get(incident=incident, target="response").deadline_at == (
        T0 + timedelta(minutes=15)
    )


def test_exposure_accrued_and_projected(contract, service, customer, manager):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    at = T0 + timedelta(hours=4, minutes=30)  # 30 minutes beyond the restore target
    incident = selectors.with_sla(type(incident).objects.filter(pk=incident.pk)).get()
    (exposure,) = selectors.sla_exposure(incident, at)
    assert exposure.customer_name == customer.name
    assert exposure.accrued.amount == Decimal("500.00")  # one started hour
    assert exposure.if_restored_in[1].amount == Decimal("1000.00")  # 1.5 h -> two started hours
    assert exposure.if_restored_in[4].amount == Decimal("2500.00")  # 4.5 h -> five
    restore = next(t for t in exposure.targets if t.target == "restore")
    assert restore.missed and round(restore.percent) == 112
    # the cap: at most 50 % of the monthly fee (EUR 10,000) per incident
    (late,) = selectors.sla_exposure(incident, T0 + timedelta(days=2))
    assert late.accrued.uncapped == Decimal("22000.00") and late.accrued.amount == Decimal("10000")


def test_sync_is_idempotent(contract, service, customer, manager):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
        before = list(Clock.objects.filter(incident=incident).values_list("key", "status"))
        sla_sync(incident=incident)
        sla_sync(incident=incident)
    assert list(Clock.objects.filter(incident=incident).values_list("key", "status")) == before


OFFICE = calendars.business_hours_mon_fri(subdivision="NW")
_instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(
    start=_instants,
    seconds=st.integers(min_value=0, max_value=40 * 3600),
    gaps=st.lists(st.tuples(st.integers(0, 20 * 86400), st.integers(1, 3 * 86400)), max_size=3),
)
def test_reached_at_is_where_elapsed_service_time_reaches_the_target(start, seconds, gaps):
    pauses = [(start + timedelta(seconds=a), start + timedelta(seconds=a + b)) for a, b in gaps]
    now = start + timedelta(days=60)
    when = sla.reached_at(OFFICE, start, seconds, pauses, now)
    assert when is not None and when >= start
    assert abs(sla.elapsed(OFFICE, start, when, pauses) - seconds) < 1e-6
    if seconds:  # a moment earlier it was not yet reached
        assert sla.elapsed(OFFICE, start, when - timedelta(seconds=1), pauses) < seconds


def test_a_stored_clause_maps_every_field_to_its_rule(contract):
    clause = PenaltyClause.objects.create(
        contract=contract,
        target="workaround",
        form="fee_percent_per_period",
        priority=2,
        fee_percent=Decimal("1.5"),
        period_minutes=30,
        from_minutes=60,
        until_minutes=240,
    )
    spec = clause.as_spec()
    assert (spec.form, spec.target, spec.priority, spec.ref) == (
        "fee_percent_per_period",
        "workaround",
        2,
        clause.pk,
    )
    assert (spec.fee_percent, spec.period_minutes, spec.from_minutes, spec.until_minutes) == (
        Decimal("1.5"),
        30,
        60,
        240,
    )
    assert spec.applies_to("workaround", 2) and not spec.applies_to("workaround", 1)
    assert not spec.applies_to("restore", 2)


def test_a_clause_for_another_priority_costs_nothing(contract, service, customer, manager):
    """The fixture's clause holds for every priority; one limited to P3 must not charge a P1."""
    contract.clauses.update(priority=3)
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    at = T0 + timedelta(hours=6)  # two hours beyond the P1 restore target
    incident = selectors.with_sla(type(incident).objects.filter(pk=incident.pk)).get()
    (exposure,) = selectors.sla_exposure(incident, at)
    assert exposure.accrued.amount == Decimal("0")
    contract.clauses.update(priority=1)
    incident = selectors.with_sla(type(incident).objects.filter(pk=incident.pk)).get()
    (exposure,) = selectors.sla_exposure(incident, at)
    assert exposure.accrued.amount == Decimal("1000.00")  # two started hours at EUR 500


def test_a_pause_for_one_contract_holds_only_that_contract(contract, service, customer, manager):
    second = Contract.objects.create(
        customer=customer,
        name="Rahmenvertrag",
        monthly_fee=Decimal("5000.00"),
        valid_from=date(2026, 1, 1),
        allows_pauses=True,
    )
    second.services.add(service)
    SlaTarget.objects.create(contract=second, priority=1, restore_minutes=120)
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        sla_pause(incident=incident, actor=manager, reason="Warten auf den Kunden", contract=second)
    paused = SlaClock.objects.get(incident=incident, contract=second, target="restore")
    running = SlaClock.objects.get(incident=incident, contract=contract, target="restore")
    assert paused.deadline_at is None
    assert running.deadline_at == T0 + timedelta(hours=4)  # untouched by the other's pause


@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_the_clocks_of_a_finished_incident_cannot_be_paused(
    contract, service, customer, manager, state
):
    with time_machine.travel(T0, tick=False):
        incident = open_p1(service, customer, manager)
        incident = incident_resolve(incident=incident, actor=manager, resolution="Neustart")
        if state == "closed":
            review_approved(incident)
            incident = incident_close(incident=incident, actor=manager, review="Ursache: Update")
        assert incident.state == state
        with pytest.raises(InvalidInput) as refused, translation.override("en"):
            sla_pause(incident=incident, actor=manager, reason="Warten")
    assert not incident.sla_pauses.exists()
    # The API and the console show this beside the reason field.
    assert refused.value.field == "reason"
    assert str(refused.value.message) == "Only the clocks of an open incident can be paused."
