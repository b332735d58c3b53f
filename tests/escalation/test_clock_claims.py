"""Clock claims are short leases: a tick killed mid-way strands at most one group of clocks, for
at most CLOCK_CLAIM_TIMEOUT_SECONDS, and a long tick keeps its claims alive while it works."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import Clock
from escalation.services import clocks
from escalation.services.clocks import CLAIM_GROUP, clocks_tick
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no `except Exception` catches it."""


def _clocks(n: int, now) -> list[Clock]:
    incident = IncidentFactory()
    return [
        Clock.objects.create(incident=incident, kind="test", due_at=now, key=f"test:{i}")
        for i in range(n)
    ]


def test_a_tick_killed_mid_way_strands_one_group_for_the_claim_timeout(settings, monkeypatch):
    assert settings.CLOCK_CLAIM_TIMEOUT_SECONDS <= 30  # was 120 s: pages 2 minutes late
    now = timezone.now()
    _clocks(3 * CLAIM_GROUP, now)
    fired = []

    def dies_on_the_fifth(incident, clock, at):
        if len(fired) == 4:
            raise WorkerKilled
        fired.append(clock.pk)

    monkeypatch.setitem(clocks._HANDLERS, "test", dies_on_the_fifth)
    with pytest.raises(WorkerKilled):
        clocks_tick(now=now)
    claimed = Clock.objects.filter(status=Clock.Status.CLAIMED).count()
    assert claimed == CLAIM_GROUP - 4  # the rest of its group; the others were never claimed
    assert Clock.objects.filter(status=Clock.Status.PENDING).count() == 2 * CLAIM_GROUP

    monkeypatch.setitem(clocks._HANDLERS, "test", lambda incident, clock, at: fired.append(1))
    clocks_tick(now=now + timedelta(seconds=1))  # the next tick: the stranded claims still wait
    assert Clock.objects.filter(status=Clock.Status.CLAIMED).count() == claimed
    late = now + timedelta(seconds=settings.CLOCK_CLAIM_TIMEOUT_SECONDS + 1)
    assert clocks_tick(now=late) == claimed  # ... and fire once their claim has run out
    assert not Clock.objects.exclude(status=Clock.Status.DONE).exists()


def test_a_long_tick_renews_the_claims_it_holds(settings, monkeypatch):
    settings.CLOCK_CLAIM_TIMEOUT_SECONDS = 1
    now = timezone.now()
    _clocks(6, now)
    started = time.monotonic()
    stale_seen = []

    def slow(incident, clock, at):
        time.sleep(0.4)  # six of these outlast the claim timeout
        # What a second tick starting now would release as abandoned:
        elapsed = timedelta(seconds=time.monotonic() - started)
        cutoff = now + elapsed - timedelta(seconds=settings.CLOCK_CLAIM_TIMEOUT_SECONDS)
        stale = Clock.objects.filter(status=Clock.Status.CLAIMED, claimed_at__lt=cutoff)
        stale_seen.append(stale.exclude(pk=clock.pk).count())

    monkeypatch.setitem(clocks._HANDLERS, "test", slow)
    assert clocks_tick(now=now) == 6
    assert time.monotonic() - started > settings.CLOCK_CLAIM_TIMEOUT_SECONDS
    assert stale_seen == [0] * 6
