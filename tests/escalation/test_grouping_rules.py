"""Grouping rules per integration (issue 17): group by Events API v2 payload fields, a group
window, flapping alerts reopening their incident, through the ingest endpoint. Alertmanager's
group_labels are covered by test_alertmanager_grouping.py; its rule holds here too: a group's
incident is open exactly while one of its alerts fires."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from escalation.models import IncidentAlert, Integration
from escalation.narrative import actor_of
from escalation.services.clocks import clocks_tick
from escalation.services.integrations import integration_create
from incidents.models import OPEN_STATES, EventKind, Incident, State
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
_groups = itertools.count()


def events_v2(*, group_by=(), group_window=0, flap_window=0) -> Integration:
    integration = integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(), name="Zabbix"
    )
    integration.group_labels = list(group_by)
    integration.group_window = group_window
    integration.flap_window = flap_window
    integration.save()
    return integration


def send(integration: Integration, action: str, key: str, **payload) -> None:
    body = {"routing_key": integration.key, "event_action": action, "dedup_key": key}
    if action == "trigger":
        body["payload"] = {
            "summary": f"{key} down",
            "source": "db01",
            "severity": "critical",
            **payload,
        }
    response = APIClient().post("/api/v1/integrations/events/v2/enqueue", body, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["dedup_key"] == key  # the sender's key, whatever the group


def incidents_of(integration: Integration) -> list[Incident]:
    return list(Incident.objects.filter(dedup_scope=integration.pk).order_by("pk"))


def test_an_alert_storm_becomes_one_incident_per_group():
    zabbix = events_v2(group_by=["source", "component"])
    for n in range(15):
        send(zabbix, "trigger", f"disk-{n}", source=f"db0{n % 3}", component="disk")
    send(zabbix, "trigger", "cpu-1", source="db00", component="cpu")
    incidents = incidents_of(zabbix)
    assert len(incidents) == 4
    assert [i.alert_count for i in incidents] == [5, 5, 5, 1]
    first = incidents[0]
    assert first.title == "disk-0 down"  # the group's first alert names it
    assert sorted(first.alerts.values_list("fingerprint", flat=True)) == sorted(
        f"disk-{n}" for n in range(0, 15, 3)
    )
    assert first.alerts.get(fingerprint="disk-3").labels == {
        "summary": "disk-3 down",
        "source": "db00",
        "severity": "critical",
        "component": "disk",
    }


def test_a_custom_details_key_and_class_group_too():
    zabbix = events_v2(group_by=["class", "cluster"])
    send(zabbix, "trigger", "a", **{"class": "disk", "custom_details": {"cluster": "eu"}})
    send(zabbix, "trigger", "b", **{"class": "disk", "custom_details": {"cluster": "eu"}})
    send(zabbix, "trigger", "c", **{"class": "disk", "custom_details": {"cluster": "us"}})
    assert [i.alert_count for i in incidents_of(zabbix)] == [2, 1]


def test_the_group_resolves_with_its_last_alert_and_acts_by_any_alert_key():
    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "a")
    send(zabbix, "trigger", "b")
    send(zabbix, "trigger", "a")  # a repeat of a: counted, last seen moves
    [incident] = incidents_of(zabbix)
    assert incident.alert_count == 3
    send(zabbix, "acknowledge", "b")  # the alert's key finds the group's incident
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
    send(zabbix, "resolve", "a")
    incident.refresh_from_db()
    assert incident.state in OPEN_STATES  # b still fires
    send(zabbix, "resolve", "b")
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    assert incident.resolution == "Resolved by Zabbix: b"
    send(zabbix, "trigger", "a")  # after the group resolved (no flapping rule): a new incident
    assert len(incidents_of(zabbix)) == 2


def test_a_resolve_of_an_unknown_alert_key_touches_nothing():
    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "a")
    send(zabbix, "resolve", "zzz")
    assert incidents_of(zabbix)[0].state in OPEN_STATES


def test_the_group_window_boundary():
    """Alerts join the group's incident up to `group_window` minutes after it opened; one
    second later the group opens a new incident, and the old one still ends with its alerts."""
    zabbix = events_v2(group_by=["source"], group_window=10)
    with time_machine.travel(T0, tick=False):
        send(zabbix, "trigger", "a")
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        send(zabbix, "trigger", "b")  # exactly at the boundary: joins
    [first] = incidents_of(zabbix)
    assert first.alert_count == 2
    with time_machine.travel(T0 + timedelta(minutes=10, seconds=1), tick=False):
        send(zabbix, "trigger", "c")  # past it: a new incident for the group
        send(zabbix, "trigger", "a")  # a repeat of a stays with a's incident
    first, second = incidents_of(zabbix)
    assert first.alert_count == 3 and second.alert_count == 1
    assert first.dedup_key == f"{second.dedup_key}#{first.pk}"  # the group's key moved on
    assert list(second.alerts.values_list("fingerprint", flat=True)) == ["c"]
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        send(zabbix, "trigger", "d")  # within the new incident's window: joins it
        send(zabbix, "resolve", "a")
        send(zabbix, "resolve", "b")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == State.RESOLVED and second.state in OPEN_STATES
    assert second.alert_count == 2


def _escalated(integration: Integration) -> Incident:
    clocks_tick()  # the worker classifies it: a critical alert is P1, which escalates
    [incident] = [i for i in incidents_of(integration) if i.state in OPEN_STATES]
    assert incident.state == State.ESCALATED
    return incident


@pytest.mark.parametrize("group_by", [[], ["source"]], ids=["ungrouped", "grouped"])
def test_a_flapping_alert_reopens_its_incident_within_the_window(group_by):
    zabbix = events_v2(group_by=group_by, flap_window=5)
    with time_machine.travel(T0, tick=False):
        send(zabbix, "trigger", "a")
        incident = _escalated(zabbix)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        send(zabbix, "resolve", "a")
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):  # 5 min after: reopens
        send(zabbix, "trigger", "a")
    assert incidents_of(zabbix) == [incident]
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED and incident.resolved_at is None
    assert incident.alert_count == 2
    reopened = incident.events.get(kind=EventKind.REOPENED)
    assert reopened.data["reason"] == (
        "Flapping: alert a fired again 5 min after it resolved (Zabbix)."
    )
    if group_by:
        assert incident.alerts.get().resolved_at is None  # firing again
    with time_machine.travel(T0 + timedelta(minutes=7), tick=False):
        send(zabbix, "resolve", "a")
    with time_machine.travel(T0 + timedelta(minutes=12, seconds=1), tick=False):
        send(zabbix, "trigger", "a")  # 5 min and 1 s after: a new incident
    old, new = incidents_of(zabbix)
    assert old == incident and old.state == State.RESOLVED and new.state in OPEN_STATES


def test_flapping_does_not_reopen_an_incident_that_never_escalated():
    """Reopening escalates: an alert that never paged does not start paging by flapping."""
    zabbix = events_v2(flap_window=5)
    send(zabbix, "trigger", "a", severity="info")
    clocks_tick()
    send(zabbix, "resolve", "a")
    send(zabbix, "trigger", "a", severity="info")
    old, new = incidents_of(zabbix)
    assert old.state == State.RESOLVED and new.state in OPEN_STATES


def test_flapping_off_by_default():
    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "a")
    _escalated(zabbix)
    send(zabbix, "resolve", "a")
    send(zabbix, "trigger", "a")
    assert len(incidents_of(zabbix)) == 2


def test_a_more_severe_alert_joining_its_group_raises_the_incident_and_escalates():
    """A warning opens the group (P3, classified on arrival, nobody paged); a critical alert of
    the same group raises it to P1, which the rules escalate."""
    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "disk-85", severity="warning")
    [incident] = incidents_of(zabbix)
    assert (incident.state, incident.priority) == (State.CLASSIFIED, 3)
    send(zabbix, "trigger", "db-down", severity="critical")
    [incident] = incidents_of(zabbix)
    assert (incident.state, incident.priority, incident.alert_count) == (State.ESCALATED, 1, 2)
    raised = incident.events.get(kind=EventKind.RECLASSIFIED)
    assert raised.actor_label == "system (alert db-down: critical)"
    with translation.override("en"):
        assert actor_of(raised) == "the alert “db-down: critical”"
    with translation.override("de"):
        assert actor_of(raised) == "der Alarm „db-down: critical“"
    assert raised.data["previous"]["priority"] == 3 and raised.data["priority"] == 1
    escalated = incident.events.get(kind=EventKind.ESCALATED)
    assert escalated.seq > raised.seq and escalated.actor_label.startswith("system (rule: ")


def test_a_raise_that_fails_leaves_no_count_and_no_alert_behind(monkeypatch):
    """The raise comes before the count: the database failing at the raise answers 503 with
    nothing counted, and the sender's retry counts the alert once and raises the incident."""
    from django.db import OperationalError

    from escalation.services import integrations

    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "disk-85", severity="warning")
    real = integrations.incident_classify

    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(integrations, "incident_classify", database_gone)
    body = {
        "routing_key": zabbix.key,
        "event_action": "trigger",
        "dedup_key": "db-down",
        "payload": {"summary": "db-down down", "source": "db01", "severity": "critical"},
    }
    client = APIClient(raise_request_exception=False)
    response = client.post("/api/v1/integrations/events/v2/enqueue", body, format="json")
    assert response.status_code == 503 and response.headers["Retry-After"]
    [incident] = incidents_of(zabbix)
    assert (incident.alert_count, incident.priority) == (1, 3)
    assert list(incident.alerts.values_list("fingerprint", flat=True)) == ["disk-85"]
    monkeypatch.setattr(integrations, "incident_classify", real)
    send(zabbix, "trigger", "db-down", severity="critical")  # the retry
    [incident] = incidents_of(zabbix)
    assert (incident.alert_count, incident.priority, incident.state) == (2, 1, State.ESCALATED)


def test_a_less_severe_or_equal_alert_leaves_the_groups_classification_alone():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "db-down", severity="critical")
    clocks_tick()
    send(zabbix, "trigger", "disk-85", severity="warning")
    with CaptureQueriesContext(connection) as queries:  # as severe as its incident
        send(zabbix, "trigger", "db-slow", severity="critical")
    assert not any("prioritymatrixentry" in q["sql"] for q in queries.captured_queries)
    [incident] = incidents_of(zabbix)
    assert (incident.priority, incident.alert_count) == (1, 3)
    assert not incident.events.filter(kind=EventKind.RECLASSIFIED).exists()


def test_an_incident_still_to_be_classified_is_left_to_its_clock():
    """The critical alert that opened the group waits for the worker; a warning joining it
    meanwhile must not classify it first (the clock would then leave it at P3)."""
    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "db-down", severity="critical")
    send(zabbix, "trigger", "disk-85", severity="warning")
    [incident] = incidents_of(zabbix)
    assert incident.state == State.DETECTED
    clocks_tick()
    incident.refresh_from_db()
    assert (incident.state, incident.priority) == (State.ESCALATED, 1)


def test_a_group_raised_by_hand_is_not_lowered_and_a_resolved_one_not_raised():
    from escalation.services import incident_classify, incident_resolve

    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "disk-85", severity="info")
    [incident] = incidents_of(zabbix)
    incident_classify(incident=incident, actor=None, impact="high", urgency="medium")
    send(zabbix, "trigger", "disk-90", severity="warning")
    incident.refresh_from_db()
    assert incident.priority == 2 and incident.events.filter(kind="reclassified").count() == 1
    incident_resolve(incident=incident, actor=None, resolution="disk cleaned")
    send(zabbix, "trigger", "db-down", severity="critical")  # a new incident of the group
    assert [(i.state, i.priority) for i in incidents_of(zabbix)] == [
        (State.RESOLVED, 2),
        (State.DETECTED, None),
    ]


def test_a_grouped_repeat_costs_a_bounded_number_of_queries(django_assert_max_num_queries):
    zabbix = events_v2(group_by=["source"])
    send(zabbix, "trigger", "a")
    send(zabbix, "trigger", "b")
    with django_assert_max_num_queries(8):
        send(zabbix, "trigger", "b")
    assert IncidentAlert.objects.filter(incident__dedup_scope=zabbix.pk).count() == 2


# Alerts of one group; each step fires or resolves one of them, a few minutes apart.
steps = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["trigger", "resolve"]),
        st.integers(min_value=0, max_value=4),  # minutes since the last step
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=20, deadline=None)
@given(steps=steps)
def test_a_group_is_open_exactly_while_one_of_its_alerts_fires(steps):
    """For every sequence of fire and resolve events of a group's alerts, with a group window:
    the group has an open incident exactly while one of its alerts fires, every open incident
    holds a firing alert, and each firing alert is held by exactly one open incident."""
    zabbix = events_v2(group_by=["source"], group_window=6, flap_window=3)
    source = f"host{next(_groups)}"
    firing: set[str] = set()
    now = T0
    for alert, action, minutes in steps:
        now += timedelta(minutes=minutes)
        with time_machine.travel(now, tick=False):
            send(zabbix, action, alert, source=source)
        (firing.add if action == "trigger" else firing.discard)(alert)
        open_ = [i for i in incidents_of(zabbix) if i.state in OPEN_STATES]
        held = [
            list(i.alerts.filter(resolved_at__isnull=True).values_list("fingerprint", flat=True))
            for i in open_
        ]
        assert all(held), "an open incident without a firing alert"
        assert sorted(itertools.chain(*held)) == sorted(firing)


@pytest.mark.parametrize(
    "labels",
    ["alertname", {"alertname": 1}, ["alertname", ""], ["a", 5], ["a", "a"],
     [f"l{n}" for n in range(11)], ["x" * 101], ["alert\x00name"]],
)  # fmt: skip
def test_grouping_rules_that_the_ingest_could_not_read_are_refused(labels, admin_client):
    """A bare string would group by its letters: the admin refuses it with the field's error,
    in German and English, and keeps the rules it had."""
    from django.core.exceptions import ValidationError

    zabbix = events_v2(group_by=["source"])
    zabbix.group_labels = labels
    with pytest.raises(ValidationError) as refused:
        zabbix.full_clean()
    assert "group_labels" in refused.value.message_dict
    zabbix.refresh_from_db()
    url = f"/admin/escalation/integration/{zabbix.pk}/change/"
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "routable_services"}
    data |= {"group_labels": __import__("json").dumps(labels), "service": zabbix.service_id}
    for lang, text in (("en", "label or field names"), ("de", "Label- oder Feldnamen")):
        answer = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE=lang)
        assert answer.status_code == 200 and text in answer.content.decode()
    zabbix.refresh_from_db()
    assert zabbix.group_labels == ["source"]


def test_grouping_rules_as_a_list_of_names_are_fine():
    zabbix = events_v2(group_by=["source", "component"])
    zabbix.full_clean()
    zabbix.group_labels = []
    zabbix.full_clean()


@pytest.mark.parametrize("field", ["group_window", "flap_window"])
def test_the_admin_refuses_a_window_longer_than_a_week(field, admin_client):
    from django.core.exceptions import ValidationError

    zabbix = events_v2(group_by=["source"])
    setattr(zabbix, field, Integration.MAX_WINDOW_MINUTES)
    zabbix.full_clean()  # a week is fine
    setattr(zabbix, field, Integration.MAX_WINDOW_MINUTES + 1)
    with pytest.raises(ValidationError) as refused:
        zabbix.full_clean()
    assert list(refused.value.message_dict) == [field]
    url = f"/admin/escalation/integration/{zabbix.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "routable_services"}
    data |= {"group_labels": '["source"]', "service": zabbix.service_id, field: "10081"}
    for lang, text in (("en", "At most 10080 minutes"), ("de", "Höchstens 10080 Minuten")):
        answer = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE=lang)
        assert answer.status_code == 200 and text in answer.content.decode()
    zabbix.refresh_from_db()
    assert getattr(zabbix, field) == 0
