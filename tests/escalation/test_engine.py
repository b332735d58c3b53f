"""The escalation engine end to end, with time travel: levels, ladders, acknowledgement, service
hours, policy snapshots, and the clock tick."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group

from escalation import roles
from escalation.models import (
    BusinessCalendar,
    Clock,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    LayerMember,
    NotificationRule,
    OnCallSchedule,
    Page,
    ScheduleLayer,
)
from escalation.services import incident_acknowledge, incident_classify, incident_resolve
from escalation.services.clocks import clocks_tick
from incidents.models import IncidentEvent
from notifications.models import Notification
from tests.factories import IncidentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday, 15:00 in Berlin


def events(incident, kind):
    return list(
        IncidentEvent.objects.filter(incident=incident, kind=kind)
        .order_by("seq")
        .values_list("data", flat=True)
    )


def paged(incident):
    return sorted(
        (p.level_index + 1, p.cycle, p.user.username)
        for p in Page.objects.filter(incident=incident).select_related("user")
    )


@pytest.fixture
def oncall_user(db):
    return UserFactory(username="olaf.oncall")


@pytest.fixture
def schedule(oncall_user):
    schedule = OnCallSchedule.objects.create(name="Plattform")
    layer = ScheduleLayer.objects.create(
        schedule=schedule, rotation="weekly", start_date=date(2026, 1, 5), handoff_time=time(9)
    )
    LayerMember.objects.create(layer=layer, user=oncall_user, position=0)
    return schedule


@pytest.fixture
def service(db):
    return ServiceFactory(slug="kundenportal")


@pytest.fixture
def policy(service, responder, schedule):
    responder.groups.add(Group.objects.get(name=roles.RESPONDER))
    policy = EscalationPolicy.objects.create(name="Kundenportal", repeat=0)
    policy.services.add(service)
    first = EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=10)
    first.users.add(responder)
    EscalationLevel.objects.create(policy=policy, position=1, timeout_minutes=15, schedule=schedule)
    return policy


def escalate_p1(service, manager):
    incident = IncidentFactory(services=[service], actor=manager)
    return incident_classify(incident=incident, actor=manager, impact="high", urgency="high")


def test_full_escalation_levels_then_ack_stops_everything(policy, service, manager, responder):
    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)
    run = EscalationRun.objects.get(incident=incident)
    assert run.policy_name == "Kundenportal" and run.status == "active"
    assert [lvl["timeout_minutes"] for lvl in run.snapshot["levels"]] == [10, 15, 15]
    assert paged(incident) == [(1, 0, "rolf.responder")]
    page_mail = Notification.objects.get(recipient=responder, template="page")
    assert (
        page_mail.address == "rolf.responder@example.org"
        and "/ack/" in page_mail.context["ack_url"]
    )
    level_clock = Clock.objects.get(incident=incident, kind="level_timeout", status="pending")
    assert level_clock.due_at == T0 + timedelta(minutes=10)

    # Five minutes in: nothing is due yet.
    assert clocks_tick(now=T0 + timedelta(minutes=5)) == 0
    assert paged(incident) == [(1, 0, "rolf.responder")]

    # Level 1 did not acknowledge within 10 minutes: level 2 (whoever is on call) is paged.
    with time_machine.travel(T0 + timedelta(minutes=10, seconds=1), tick=False):
        assert clocks_tick() == 1
    assert paged(incident) == [(1, 0, "rolf.responder"), (2, 0, "olaf.oncall")]
    assert [e["level"] for e in events(incident, "level_paged")] == [1, 2]

    # The on-call person acknowledges: paging stops, the pending clocks are cancelled.
    with time_machine.travel(T0 + timedelta(minutes=12), tick=False):
        incident = incident_acknowledge(incident=incident, actor=manager)
    assert incident.acknowledged_at == T0 + timedelta(minutes=12)
    assert incident.paging_since is None
    run.refresh_from_db()
    assert run.status == "acknowledged"
    assert not Clock.objects.filter(incident=incident, status="pending").exclude(kind="update_due")
    assert events(incident, "escalation_stopped")[0]["reason"] == "acknowledged"

    # Much later: nobody else is paged.
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        clocks_tick()
    assert len(paged(incident)) == 2


def test_manager_on_duty_is_the_last_level_and_repeat_then_exhausted(
    policy, service, manager, responder
):
    policy.repeat = 1
    policy.save()
    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)
    minute = T0
    for step in (10, 15, 15, 10, 15, 15):  # two cycles of three levels
        minute += timedelta(minutes=step, seconds=1)
        clocks_tick(now=minute)
    assert paged(incident) == [
        (1, 0, "rolf.responder"),
        (1, 1, "rolf.responder"),
        (2, 0, "olaf.oncall"),
        (2, 1, "olaf.oncall"),
        (3, 0, "mara.manager"),
        (3, 1, "mara.manager"),
    ]
    assert len(events(incident, "escalation_exhausted")) == 1
    assert EscalationRun.objects.get(incident=incident).status == "exhausted"


def test_policy_is_copied_when_the_escalation_starts(policy, service, manager, oncall_user):
    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)
    # Someone edits the policy while the escalation runs: it must not change this incident's run.
    level = policy.levels.get(position=0)
    level.timeout_minutes = 120
    level.save()
    policy.levels.get(position=1).delete()
    clocks_tick(now=T0 + timedelta(minutes=10, seconds=1))
    assert (2, 0, "olaf.oncall") in paged(incident)
    # A new incident takes the edited policy.
    with time_machine.travel(T0, tick=False):
        other = escalate_p1(service, manager)
    snapshot = EscalationRun.objects.get(incident=other).snapshot
    assert [lvl["timeout_minutes"] for lvl in snapshot["levels"]] == [120, 120]


def test_personal_ladder_runs_until_acknowledged(policy, service, manager, responder):
    email = ContactMethod.objects.create(user=responder, channel="email", address="r@example.org")
    chat = ContactMethod.objects.create(
        user=responder, channel="apprise", address="mmost://chat.example.org/token"
    )
    sms = ContactMethod.objects.create(
        user=responder, channel="apprise", address="sinch://sms.example.org/x"
    )
    NotificationRule.objects.create(user=responder, contact_method=email, delay_minutes=0)
    NotificationRule.objects.create(user=responder, contact_method=chat, delay_minutes=2)
    NotificationRule.objects.create(user=responder, contact_method=sms, delay_minutes=5)
    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)

    def sent():
        return sorted(
            n.address for n in Notification.objects.filter(recipient=responder, template="page")
        )

    assert sent() == ["r@example.org"]
    clocks_tick(now=T0 + timedelta(minutes=2, seconds=1))
    assert sent() == ["mmost://chat.example.org/token", "r@example.org"]
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        incident_acknowledge(incident=incident, actor=responder)
    clocks_tick(now=T0 + timedelta(minutes=6))
    assert sent() == ["mmost://chat.example.org/token", "r@example.org"]  # no SMS after the ack
    # What was still unsent when the ack came is cancelled, not delivered late.
    statuses = Notification.objects.filter(recipient=responder).values_list("status", flat=True)
    assert set(statuses) == {"cancelled"}
    # What was still unsent when the ack came is cancelled, not delivered late.
    assert set(
        Notification.objects.filter(recipient=responder, template="page").values_list(
            "status", flat=True
        )
    ) == {"cancelled"}
    sms_rung = NotificationRule.objects.get(contact_method=sms).pk  # not 3: PG ids run on
    ladder = Clock.objects.get(incident=incident, kind="ladder_step", payload__rung=sms_rung)
    assert ladder.status == "cancelled"


def test_resolving_cancels_every_clock(policy, service, manager):
    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)
    incident_resolve(incident=incident, actor=manager, resolution="Neustart")
    assert not Clock.objects.filter(incident=incident, status="pending").exists()
    clocks_tick(now=T0 + timedelta(hours=5))
    assert paged(incident) == [(1, 0, "rolf.responder")]


def test_state_is_rechecked_when_a_clock_fires(policy, service, manager):
    """A clock that was claimed but whose incident was acknowledged meanwhile does nothing."""
    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)
    Clock.objects.filter(incident=incident, kind="level_timeout").update(due_at=T0)
    from escalation.services.clocks import clock_fire, clocks_claim

    claimed = clocks_claim(now=T0 + timedelta(minutes=1), limit=10)
    assert claimed
    incident_acknowledge(incident=incident, actor=manager)  # cancels claimed clocks too
    assert [clock_fire(clock_id=c, now=T0 + timedelta(minutes=1)) for c in claimed] == [False]
    assert paged(incident) == [(1, 0, "rolf.responder")]


def test_a_clock_claimed_before_the_incident_closed_fires_without_effect(policy, service, manager):
    """Clocks after resolve: a claimed clock whose incident is no longer open (resolved by another
    process between the claim and the fire) is done, once, and pages nobody."""
    from escalation.services.clocks import clock_fire, clocks_claim
    from incidents.models import Incident

    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)
    claimed = clocks_claim(now=T0 + timedelta(minutes=11), limit=10)
    assert len(claimed) == 1
    Incident.objects.filter(pk=incident.pk).update(state="resolved")
    with time_machine.travel(T0 + timedelta(minutes=12), tick=False):
        assert clock_fire(clock_id=claimed[0], now=T0 + timedelta(minutes=11)) is True
    clock = Clock.objects.get(pk=claimed[0])
    assert (clock.status, clock.fired_at) == ("done", T0 + timedelta(minutes=12))
    assert paged(incident) == [(1, 0, "rolf.responder")]  # level 2 was never paged
    assert clock_fire(clock_id=claimed[0], now=T0 + timedelta(minutes=11)) is False


def test_stale_claim_of_a_crashed_worker_is_fired_later(policy, service, manager):
    with time_machine.travel(T0, tick=False):
        incident = escalate_p1(service, manager)
    from escalation.services.clocks import clocks_claim

    due = T0 + timedelta(minutes=10, seconds=1)
    assert clocks_claim(now=due, limit=10)  # the worker dies right after claiming
    assert clocks_tick(now=due + timedelta(seconds=10)) == 0  # still within the claim timeout
    assert clocks_tick(now=due + timedelta(minutes=5)) == 1
    assert (2, 0, "olaf.oncall") in paged(incident)


def test_waits_for_service_hours_instead_of_paging(policy, service, manager, responder):
    calendar = BusinessCalendar.objects.create(name="Bürozeiten NRW", subdivision="NW")
    policy.calendar = calendar
    policy.wait_for_business_hours = True
    policy.save()
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    with time_machine.travel(saturday, tick=False):
        incident = escalate_p1(service, manager)
    run = EscalationRun.objects.get(incident=incident)
    assert run.status == "waiting" and paged(incident) == []
    monday_8 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    assert events(incident, "waiting_for_service_hours")[0]["until"] == monday_8.isoformat()
    clocks_tick(now=monday_8 - timedelta(minutes=1))
    assert paged(incident) == []
    clocks_tick(now=monday_8)
    assert paged(incident) == [(1, 0, "rolf.responder")]


def test_level_limited_to_outside_service_hours_is_skipped_inside(policy, service, manager):
    policy.calendar = BusinessCalendar.objects.create(name="Bürozeiten", subdivision="NW")
    policy.save()
    policy.levels.filter(position=0).update(applies=EscalationLevel.Applies.OUTSIDE)
    with time_machine.travel(T0, tick=False):  # Tuesday 15:00: inside service hours
        incident = escalate_p1(service, manager)
    assert paged(incident) == [(2, 0, "olaf.oncall")]
    assert events(incident, "level_skipped")[0]["why"] == "not in its service hours"


def test_default_policy_pages_the_escalation_manager_on_duty(manager):
    with time_machine.travel(T0, tick=False):
        incident = IncidentFactory()
        incident = incident_classify(
            incident=incident, actor=manager, impact="high", urgency="high"
        )
    assert paged(incident) == [(1, 0, "mara.manager")]


def test_manager_on_duty_rota_decides_who_is_last(manager, db):
    duty = UserFactory(username="dora.duty")
    rota = OnCallSchedule.objects.create(name="EM vom Dienst", is_manager_on_duty=True)
    layer = ScheduleLayer.objects.create(
        schedule=rota, rotation="daily", start_date=date(2026, 1, 1)
    )
    LayerMember.objects.create(layer=layer, user=duty)
    with time_machine.travel(T0, tick=False):
        incident = incident_classify(
            incident=IncidentFactory(), actor=manager, impact="high", urgency="high"
        )
    assert paged(incident) == [(1, 0, "dora.duty")]
