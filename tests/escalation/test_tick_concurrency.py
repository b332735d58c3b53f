"""On PostgreSQL, two beat ticks running at once page each level exactly once."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from escalation.models import Clock, EscalationLevel, EscalationPolicy, Page
from escalation.services import incident_classify
from escalation.services.clocks import clocks_tick
from incidents.models import IncidentEvent
from tests.factories import IncidentFactory, ServiceFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def test_two_ticks_at_once_page_each_level_once(manager, responder):
    assert connection.vendor == "postgresql"
    service = ServiceFactory(slug="netz")
    policy = EscalationPolicy.objects.create(name="Netz", repeat=0)
    policy.services.add(service)
    level = EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=5)
    level.users.add(responder)
    with time_machine.travel(T0, tick=False):
        incidents = [
            incident_classify(
                incident=IncidentFactory(services=[service]),
                actor=manager,
                impact="high",
                urgency="high",
            )  # fmt: skip
            for _ in range(40)
        ]
    due = T0 + timedelta(minutes=5, seconds=1)
    barrier = threading.Barrier(2)
    fired: list[int] = []

    def tick():
        try:
            barrier.wait(timeout=10)
            fired.append(clocks_tick(now=due, limit=7))  # small batches: many claim rounds
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(fired) == 40  # each due clock fired once, shared between the two ticks
    pages = Counter(
        (p.incident_id, p.level_index, p.cycle) for p in Page.objects.filter(incident__in=incidents)
    )
    assert len(pages) == 80 and set(pages.values()) == {1}  # level 1 and level 2, once each
    level_events = Counter(
        e.incident_id
        for e in IncidentEvent.objects.filter(incident__in=incidents, kind="level_paged")
    )
    assert set(level_events.values()) == {2}
    assert not Clock.objects.filter(status="claimed").exists()
