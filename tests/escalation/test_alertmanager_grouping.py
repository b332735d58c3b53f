"""Alertmanager grouping (`Integration.group_labels`) and `resolve_on_resolved`, through the
webhook endpoint: alerts with equal values of the group labels share one incident, which resolves
only when every one of its alerts has resolved (issue 17: resolving one of two firing alerts
resolved the incident, and the next notification opened a second one with the same key)."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from escalation.models import IncidentAlert, Integration
from escalation.services.integrations import integration_create
from incidents.models import OPEN_STATES, Incident, State
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

_names = itertools.count()


def alertmanager(*, group_labels=(), resolve_on_resolved=True) -> Integration:
    service = ServiceFactory()
    integration = integration_create(kind=Integration.Kind.ALERTMANAGER, service=service, name="")
    integration.group_labels = list(group_labels)
    integration.resolve_on_resolved = resolve_on_resolved
    integration.save()
    return integration


def alert(instance: str, status: str = "firing", alertname: str = "DiskFull", **labels) -> dict:
    return {
        "status": status,
        "labels": {"alertname": alertname, "instance": instance, "severity": "warning", **labels},
        "annotations": {"summary": f"{alertname} on {instance}"},
        "fingerprint": f"fp-{alertname}-{instance}",
    }


def notify(integration: Integration, *alerts: dict) -> dict:
    """One webhook notification, as Alertmanager sends it for a group."""
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    response = APIClient().post(
        f"/api/v1/integrations/alertmanager/{integration.key}/",
        {"version": "4", "status": status, "alerts": list(alerts)},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def incidents_of(integration: Integration):
    return Incident.objects.filter(services=integration.service).order_by("pk")


def test_a_group_resolves_only_with_its_last_alert():
    am = alertmanager(group_labels=["alertname"])
    notify(am, alert("a"), alert("b"))
    [incident] = incidents_of(am)
    assert incident.alert_count == 2
    assert {a.fingerprint: a.resolved_at for a in incident.alerts.all()} == {
        "fp-DiskFull-a": None,
        "fp-DiskFull-b": None,
    }

    # Alertmanager's next notification of the group: a resolved, b still firing.
    notify(am, alert("a", "resolved"), alert("b"))
    [incident] = incidents_of(am)
    assert incident.state in OPEN_STATES
    resolved = {a.fingerprint for a in incident.alerts.filter(resolved_at__isnull=False)}
    assert resolved == {"fp-DiskFull-a"}

    notify(am, alert("b"))  # b keeps firing: still the same incident, no second one
    assert list(incidents_of(am)) == [incident]

    notify(am, alert("a", "resolved"), alert("b", "resolved"))
    [incident] = incidents_of(am)
    assert incident.state == State.RESOLVED
    assert incident.resolution == f"Resolved by {am.name}: DiskFull on b"  # the last alert
    assert not incident.alerts.filter(resolved_at__isnull=True).exists()


def test_each_alert_keeps_its_labels_and_when_it_was_seen():
    am = alertmanager(group_labels=["alertname"])
    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        notify(am, alert("a"), alert("b"))
    opened = incidents_of(am).get()
    assert (opened.detected_at, opened.last_alert_at) == (t0, t0)
    with time_machine.travel(t0 + timedelta(minutes=5), tick=False):
        notify(am, alert("a", "resolved"), alert("b", zone="eu-1"))
    incident = incidents_of(am).get()
    assert incident.last_alert_at == t0 + timedelta(minutes=5)
    a, b = incident.alerts.order_by("fingerprint")
    assert (a.first_seen_at, a.last_seen_at, a.resolved_at) == (
        t0,
        t0 + timedelta(minutes=5),
        t0 + timedelta(minutes=5),
    )
    assert (b.first_seen_at, b.last_seen_at, b.resolved_at) == (t0, t0 + timedelta(minutes=5), None)
    assert a.labels == {"alertname": "DiskFull", "instance": "a", "severity": "warning"}
    assert b.labels["zone"] == "eu-1"  # the newest labels


def test_the_integration_shows_its_last_event():
    am = alertmanager()
    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        notify(am, alert("a"))  # one new alert: no repeat, which would set it too
    am.refresh_from_db()
    assert am.last_event_at == t0


def test_a_resolved_alert_that_fires_again_holds_the_incident_open():
    am = alertmanager(group_labels=["alertname"])
    notify(am, alert("a"), alert("b"))
    notify(am, alert("a", "resolved"), alert("b"))
    notify(am, alert("a"), alert("b", "resolved"))  # a is back, b has resolved
    [incident] = incidents_of(am)
    assert incident.state in OPEN_STATES
    assert [a.fingerprint for a in incident.alerts.filter(resolved_at__isnull=True)] == [
        "fp-DiskFull-a"
    ]
    notify(am, alert("a", "resolved"))
    assert incidents_of(am).get().state == State.RESOLVED


def test_a_resolve_after_the_group_resolved_touches_nothing():
    am = alertmanager(group_labels=["alertname"])
    notify(am, alert("a"))
    first = notify(am, alert("a", "resolved"))
    assert [i["action"] for i in first["incidents"]] == ["resolve"]
    assert notify(am, alert("a", "resolved"))["incidents"] == []  # a repeat: nothing open
    notify(am, alert("a"))  # fires again: a new incident, the old one stays resolved
    old, new = incidents_of(am)
    assert (old.state, new.state in OPEN_STATES) == (State.RESOLVED, True)
    assert new.dedup_key == old.dedup_key


def test_a_firing_alert_counts_even_when_listed_after_a_resolved_one():
    """Order in a notification does not matter: b, first seen beside a's resolve, holds."""
    am = alertmanager(group_labels=["alertname"])
    notify(am, alert("a"))
    notify(am, alert("a", "resolved"), alert("b"))
    [incident] = incidents_of(am)
    assert incident.state in OPEN_STATES


def test_group_labels_decide_which_alerts_share_an_incident():
    am = alertmanager(group_labels=["alertname", "cluster"])
    notify(
        am,
        alert("a", cluster="eu"),
        alert("b", cluster="eu"),  # same alertname and cluster as a: a's incident
        alert("c", cluster="us"),  # another cluster: its own incident
        alert("d", alertname="CpuHigh", cluster="eu"),  # another alertname: its own
    )
    incidents = list(incidents_of(am))
    assert len(incidents) == 3
    fingerprints = [sorted(i.alerts.values_list("fingerprint", flat=True)) for i in incidents]
    assert fingerprints == [
        ["fp-DiskFull-a", "fp-DiskFull-b"],
        ["fp-DiskFull-c"],
        ["fp-CpuHigh-d"],
    ]


def test_without_group_labels_each_alert_is_its_own_incident():
    am = alertmanager()
    notify(am, alert("a"), alert("b"))
    a, b = incidents_of(am)
    assert (a.dedup_key, b.dedup_key) == ("am:fp-DiskFull-a", "am:fp-DiskFull-b")
    notify(am, alert("a", "resolved"), alert("b"))
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.state == State.RESOLVED and b.state in OPEN_STATES


def test_resolve_on_resolved_off_leaves_the_incident_to_people():
    am = alertmanager(group_labels=["alertname"], resolve_on_resolved=False)
    notify(am, alert("a"), alert("b"))
    notify(am, alert("a", "resolved"), alert("b", "resolved"))
    [incident] = incidents_of(am)
    assert incident.state in OPEN_STATES  # every alert resolved, but nobody said so
    assert not incident.alerts.filter(resolved_at__isnull=True).exists()  # still recorded
    notify(am, alert("a"))  # fires again: the same open incident, counted
    assert list(incidents_of(am)) == [incident]
    assert incidents_of(am).get().alert_count == 3


def test_resolve_on_resolved_off_for_a_single_alert_too():
    am = alertmanager(resolve_on_resolved=False)
    notify(am, alert("a"))
    notify(am, alert("a", "resolved"))
    assert incidents_of(am).get().state in OPEN_STATES


def test_an_overlong_fingerprint_is_no_error():
    am = alertmanager(group_labels=["alertname"])
    body = notify(am, {**alert("a"), "fingerprint": "f" * 500})
    assert len(body["incidents"]) == 1
    assert len(IncidentAlert.objects.get().fingerprint) == 64


# A group of three alerts; each notification says which of them fire and which have resolved.
instances = st.sampled_from(["a", "b", "c"])
notification = st.dictionaries(instances, st.sampled_from(["firing", "resolved"]), min_size=1)


@settings(max_examples=40)
@given(notifications=st.lists(notification, min_size=1, max_size=6))
def test_a_group_is_open_exactly_while_one_of_its_alerts_fires(notifications):
    """For every sequence of notifications: the group has an open incident exactly when one of
    its alerts fires now, at most one at a time, and a new incident only after the last one
    resolved."""
    am = alertmanager(group_labels=["alertname"])
    name = f"Group{next(_names)}"  # each example a group of its own (examples share a database)
    firing: set[str] = set()
    opened = 0
    for statuses in notifications:
        was_open = bool(firing)
        notify(am, *(alert(i, s, alertname=name) for i, s in sorted(statuses.items())))
        for instance, status in statuses.items():
            (firing.add if status == "firing" else firing.discard)(instance)
        opened += bool(firing) and not was_open
        incidents = list(incidents_of(am))
        assert sum(i.state in OPEN_STATES for i in incidents) == (1 if firing else 0)
        assert len(incidents) == opened


def test_an_alert_of_a_group_goes_on_counting_there_after_the_rules_are_removed():
    """Grouping rules removed while a group's incident is open: its alerts go on counting on it
    (and resolve it with the last one) instead of each opening an incident of its own; alerts it
    does not hold open their own, as without rules."""
    am = alertmanager(group_labels=["alertname"])
    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        notify(am, alert("a"), alert("b"))
    [group] = incidents_of(am)
    am.group_labels = []
    am.save()
    later = t0 + timedelta(minutes=4)
    with time_machine.travel(later, tick=False):
        notify(am, alert("a", zone="eu-1"), alert("c"))
    group_now, c = incidents_of(am)
    assert group_now == group and c.dedup_key == "am:fp-DiskFull-c"
    group.refresh_from_db()
    assert (group.alert_count, group.last_alert_at) == (3, later)
    a = group.alerts.get(fingerprint="fp-DiskFull-a")
    assert (a.first_seen_at, a.last_seen_at, a.resolved_at, a.labels["zone"]) == (
        t0, later, None, "eu-1",
    )  # fmt: skip
    notify(am, alert("a", "resolved"), alert("b", "resolved"))
    group.refresh_from_db()
    assert group.state == State.RESOLVED


def test_without_group_labels_each_alert_keeps_when_it_was_seen():
    """Without grouping rules too, the incident's alert is recorded and follows its repeats."""
    am = alertmanager()
    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        notify(am, alert("a"))
    with time_machine.travel(t0 + timedelta(minutes=3), tick=False):
        notify(am, alert("a", zone="eu-1"))  # a repeat: counted on the open incident
    [incident] = incidents_of(am)
    [a] = incident.alerts.all()
    assert (incident.alert_count, a.fingerprint) == (2, "fp-DiskFull-a")
    assert (a.first_seen_at, a.last_seen_at, a.resolved_at) == (t0, t0 + timedelta(minutes=3), None)
    assert a.labels["zone"] == "eu-1"
