"""Advance notices of maintenance windows: 72 h and 1 h before, at the start, at the end, to
subscribers of a covered service or of a customer using one, through the outbox, once each."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from escalation.maintenance.notices import notices_fire
from escalation.maintenance.services import maintenance_create, maintenance_update
from notifications.models import Notification, Subscription
from notifications.rendering import render
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)  # 22:00 in Berlin
END = START + timedelta(hours=2)


@pytest.fixture
def world(customer, other_customer, manager):
    service = ServiceFactory(slug="kundenportal", name="Kundenportal")
    service.customers.add(customer)
    elsewhere = ServiceFactory(slug="lager", name="Lager")
    subscribe = dict(confirmed_at=NOW, is_active=True)
    subs = [
        Subscription.objects.create(
            channel="email", address="ops@example.org", scope="service:kundenportal",
            language="en", **subscribe,
        ),
        Subscription.objects.create(
            channel="email", address="it@stadtwerke.example", scope=f"customer:{customer.slug}",
            language="de", **subscribe,
        ),
        Subscription.objects.create(
            channel="email", address="nobody@example.org", scope="service:lager", **subscribe
        ),
        Subscription.objects.create(
            channel="email", address="other@example.org", scope=f"customer:{other_customer.slug}",
            **subscribe,
        ),
        Subscription.objects.create(  # not confirmed: never
            channel="email", address="unconfirmed@example.org", scope="service:kundenportal"
        ),
    ]  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        window = maintenance_create(
            actor=manager, title="Datenbank-Upgrade", body="Bis zu 30 Minuten Ausfall.",
            services=[service], starts_at=START, ends_at=END,
        )  # fmt: skip
    return window, subs, elsewhere


def _sent(kind_prefix="maint:"):
    return sorted(
        (n.address, n.context["kind"])
        for n in Notification.objects.filter(dedup_key__startswith=kind_prefix)
    )


def test_four_notices_each_once_to_the_right_subscribers(world):
    window, _subs, _elsewhere = world
    assert sorted(window.notices.values_list("kind", flat=True)) == sorted(
        ["before_72h", "before_1h", "started", "ended"]
    )
    moments = [
        (START - timedelta(hours=72), "before_72h"),
        (START - timedelta(hours=1), "before_1h"),
        (START, "started"),
        (END + timedelta(seconds=30), "ended"),
    ]
    expected = []
    for moment, kind in moments:
        assert notices_fire(now=moment - timedelta(minutes=1)) == 0  # not due yet
        assert notices_fire(now=moment) == 1
        assert notices_fire(now=moment) == 0  # a second tick sends nothing again
        expected += [("it@stadtwerke.example", kind), ("ops@example.org", kind)]
        assert _sent() == sorted(expected)
    assert set(window.notices.values_list("status", flat=True)) == {"sent"}


def test_notice_texts_in_the_subscribers_language_and_time_zone(world):
    notices_fire(now=START - timedelta(hours=72))
    german = render(Notification.objects.get(address="it@stadtwerke.example"))
    english = render(Notification.objects.get(address="ops@example.org"))
    assert german.subject == "Geplante Wartung: Datenbank-Upgrade"
    assert "Von 05.12.2026 22:00 CET bis 06.12.2026 00:00 CET" in german.text
    assert "Bis zu 30 Minuten Ausfall." in german.text and "Abbestellen:" in german.text
    assert english.subject == "Scheduled maintenance: Datenbank-Upgrade"
    assert "From 5 Dec 2026 22:00 CET to 6 Dec 2026 00:00 CET" in english.text


def test_a_moved_window_replans_and_a_late_plan_skips_what_is_past(world, manager):
    window, _subs, _elsewhere = world
    notices_fire(now=START - timedelta(hours=72))
    later = START + timedelta(days=1)
    with time_machine.travel(START - timedelta(hours=70), tick=False):
        maintenance_update(
            window=window, actor=manager, starts_at=later, ends_at=later + timedelta(hours=1)
        )
    due = dict(window.notices.filter(status="pending").values_list("kind", "due_at"))
    assert due == {
        "before_1h": later - timedelta(hours=1),
        "started": later,
        "ended": later + timedelta(hours=1),
    }  # the 72 h notice went out already: not again
    soon = NOW + timedelta(minutes=30)
    with time_machine.travel(NOW, tick=False):
        short = maintenance_create(
            actor=manager, title="Kurzfristig", services=list(window.services.all()),
            starts_at=soon, ends_at=soon + timedelta(hours=1),
        )  # fmt: skip
    assert sorted(short.notices.values_list("kind", flat=True)) == ["before_1h", "ended", "started"]


def test_a_notice_found_long_after_it_was_due_is_not_sent(world):
    window, _subs, _elsewhere = world
    assert notices_fire(now=START - timedelta(hours=72) + timedelta(minutes=10)) == 1
    assert window.notices.get(kind="before_72h").recipients == 2  # 10 min late: still sent
    assert notices_fire(now=START - timedelta(minutes=20)) == 1  # the 1 h notice, 40 min late
    stale = window.notices.get(kind="before_1h")
    assert stale.status == "sent" and stale.recipients == 0  # too late to say "in an hour"
    assert _sent() == [("it@stadtwerke.example", "before_72h"), ("ops@example.org", "before_72h")]
