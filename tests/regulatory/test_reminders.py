"""Reminders of regulatory deadlines at 50 % and 80 % of each period and on breach, through the
outbox, to the escalation managers and the regime's named people; they outlive the incident."""

from datetime import timedelta

import pytest
import time_machine

from escalation.regulatory.models import Assessment, Regime, Report
from escalation.regulatory.services import (
    EV_MISSED,
    assessment_decide,
    reminders_fire,
    report_submit,
)
from escalation.regulatory.tasks import regulatory_tick
from incidents.models import State
from notifications.models import Notification
from notifications.rendering import render
from tests.factories import UserFactory, drive

from .conftest import AWARE

pytestmark = pytest.mark.django_db


@pytest.fixture
def gdpr(regimes):
    regime = regimes["gdpr"]
    regime.notify.add(UserFactory(username="dora.dpo", email="dpo@example.org", language="en"))
    regime.notify_addresses = "datenschutz@example.org\n\nDPO@example.org"  # a repeat is dropped
    regime.save()
    return regime


def _decide(incident, regime, manager, at):
    with time_machine.travel(at, tick=False):
        assessment_decide(
            incident=incident,
            regime=regime,
            actor=manager,
            decision=Assessment.Decision.REPORTABLE,
            reason="Kundendaten einsehbar",
            personal_data=True,
        )
    return Report.objects.get(assessment__regime=regime)


def _reminders():
    return Notification.objects.filter(template="regulatory_reminder")


def _fire(at) -> int:
    with time_machine.travel(at, tick=False):
        return reminders_fire()


def test_half_four_fifths_and_breach_to_manager_and_named_people(incident, gdpr, manager):
    report = _decide(incident, gdpr, manager, AWARE + timedelta(hours=1))
    assert report.next_alert_at == AWARE + timedelta(hours=36)  # half of 72 h from awareness

    assert _fire(AWARE + timedelta(hours=35)) == 0
    assert _reminders().count() == 0
    assert _fire(AWARE + timedelta(hours=36)) == 1
    addresses = sorted(_reminders().values_list("address", flat=True))
    assert addresses == ["datenschutz@example.org", "dpo@example.org", "mara.manager@example.org"]
    assert _fire(AWARE + timedelta(hours=37)) == 0  # nothing twice

    with time_machine.travel(AWARE + timedelta(hours=40), tick=False):
        drive(incident, State.CLOSED, actor=manager)  # closing cancels no regulatory clock
    assert _fire(AWARE + timedelta(hours=57, minutes=36)) == 1  # 80 %
    assert _reminders().count() == 6
    assert not incident.events.filter(kind=EV_MISSED).exists()

    with time_machine.travel(AWARE + timedelta(hours=72), tick=False):
        assert regulatory_tick.apply().get() == 1  # the beat task: the breach
    assert _reminders().count() == 9
    report.refresh_from_db()
    assert report.breached_at == AWARE + timedelta(hours=72)
    assert report.next_alert_at is None and report.state == Report.State.RUNNING
    assert incident.events.get(kind=EV_MISSED).data["report"] == report.report_type.name_en
    assert _fire(AWARE + timedelta(days=10)) == 0

    stages = list(
        _reminders()
        .filter(address="dpo@example.org")
        .order_by("pk")
        .values_list("context__stage", flat=True)
    )
    assert stages == ["half", "four_fifths", "breach"]


def test_after_an_outage_only_the_latest_reminder_goes_out(incident, gdpr, manager):
    _decide(incident, gdpr, manager, AWARE)
    assert _fire(AWARE + timedelta(hours=60)) == 1  # 50 % and 80 % are past: only 80 %
    assert set(_reminders().values_list("context__stage", flat=True)) == {"four_fifths"}
    assert _fire(AWARE + timedelta(hours=73)) == 1
    german = _reminders().get(address="mara.manager@example.org", context__stage="breach")
    english = _reminders().get(address="dpo@example.org", context__stage="breach")
    assert "Frist versäumt" in render(german).subject
    assert "13.06.2026 10:00" in render(german).text  # due 08:00 UTC, shown in Europe/Berlin
    assert "submits nothing" in render(english).text


def test_submitting_stops_the_reminders(incident, gdpr, manager):
    report = _decide(incident, gdpr, manager, AWARE)
    with time_machine.travel(AWARE + timedelta(hours=30), tick=False):
        report_submit(report=report, actor=manager, reference="LfD-123")
    assert _fire(AWARE + timedelta(days=5)) == 0
    assert _reminders().count() == 0


def test_a_commander_is_reminded_instead_of_every_manager(incident, gdpr, manager):
    boss = UserFactory(username="ines.commander", email="ines@example.org")
    incident.commander = boss
    incident.save(update_fields=["commander"])
    Regime.objects.filter(pk=gdpr.pk).update(notify_addresses="")
    gdpr.notify.clear()
    _decide(incident, gdpr, manager, AWARE)
    _fire(AWARE + timedelta(hours=36))
    assert list(_reminders().values_list("address", flat=True)) == ["ines@example.org"]
