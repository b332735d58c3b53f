"""The API's hot paths give what the generic ones would. Ingest: a repeated trigger is one
statement, the usual well-formed event skips DRF's serializer, and neither shortcut accepts or
counts anything the full path would not. Lists: times formatted as DRF formats them."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers as drf
from rest_framework.test import APIClient

from escalation.api.ingest import EventsV2Serializer, plain_event
from escalation.api.serializers import iso_datetime
from escalation.models import Integration
from escalation.services.integrations import count_repeat, integration_create
from incidents.models import Incident, IncidentEvent
from tests.factories import ServiceFactory, drive

URL = "/api/v1/integrations/events/v2/enqueue"


def trigger(key: str, dedup_key: str = "disk-1", **payload) -> dict:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {"summary": "Disk almost full", "source": "db01", "severity": "warning"}
        | payload,
    }


# --- plain_event agrees with the serializer -----------------------------------------------------

DELETE = object()
values = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", " ", " x", "x ", "ok", "a\x00b", "\ud800", "Störung", "x" * 70]),
    st.sampled_from(["trigger", "acknowledge", "resolve", "critical", "info", "fatal"]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.one_of(st.integers(), st.dictionaries(st.text(max_size=2), st.text())), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    st.just(DELETE),
)
TOP = ["routing_key", "event_action", "dedup_key", "payload", "links", "images", "client"]
PAYLOAD = ["summary", "source", "severity", "custom_details", "component", "group", "timestamp"]
BASES = [
    trigger("k" * 32),
    trigger("k" * 32, custom_details={"free": "12 %"}, component="disk", group="db"),
    {"routing_key": "k" * 32, "event_action": "resolve", "dedup_key": "db-1"},
    {**trigger("k" * 32), "links": [{"href": "https://x"}], "images": [], "client": "Zabbix"},
]


def mutated(base: dict, changes: list) -> dict:
    """A valid event with a few fields replaced by odd values or removed."""
    event = {**base, "payload": dict(base["payload"])} if "payload" in base else dict(base)
    for (top, field), value in changes:
        target = event["payload"] if field and isinstance(event.get("payload"), dict) else event
        name = field if target is not event else top
        if value is DELETE:
            target.pop(name, None)
        else:
            target[name] = value
    return event


events = st.builds(
    mutated,
    st.sampled_from(BASES),
    st.lists(
        st.tuples(st.tuples(st.sampled_from(TOP), st.sampled_from([None, *PAYLOAD])), values),
        max_size=2,
    ),
)


def as_plain_dicts(value):
    if isinstance(value, dict):
        return {k: as_plain_dicts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain_dicts(v) for v in value]
    return value


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_the_fast_check_never_accepts_what_the_serializer_refuses(event):
    fast = plain_event(event)
    serializer = EventsV2Serializer(data=event)
    valid = serializer.is_valid()
    if fast is not None:
        assert valid, serializer.errors
        assert fast == as_plain_dicts(serializer.validated_data)


@pytest.mark.parametrize(
    "event",
    [
        trigger("k" * 32),
        trigger("k" * 32, custom_details={"free": "12 %"}, component="disk", group="db"),
        {"routing_key": "k" * 32, "event_action": "acknowledge", "dedup_key": "db-1"},
        {**trigger("k" * 32, summary="Störung Zahlungen"), "links": [{"href": "https://x"}]},
    ],
)
def test_usual_events_take_the_fast_path(event):
    assert plain_event(event) is not None


# --- count_repeat -------------------------------------------------------------------------------


@pytest.fixture
def events_integration(db):
    return integration_create(
        kind=Integration.Kind.EVENTS_V2, service=ServiceFactory(slug="db"), name="Zabbix"
    )


def post(body):
    return APIClient().post(URL, body, format="json")


def test_a_repeat_is_one_statement(events_integration, django_assert_num_queries):
    assert post(trigger(events_integration.key)).status_code == 202  # opens the incident
    with django_assert_num_queries(1):
        response = post(trigger(events_integration.key))
    assert response.status_code == 202 and response.json()["dedup_key"] == "disk-1"
    assert Incident.objects.get(dedup_key="disk-1").alert_count == 2


def test_the_first_event_marks_the_integration_used(events_integration):
    post(trigger(events_integration.key))
    events_integration.refresh_from_db()
    assert events_integration.last_event_at is not None


def test_a_repeat_needs_an_active_integration_of_the_right_kind(events_integration):
    post(trigger(events_integration.key))
    other = integration_create(kind="alertmanager", service=ServiceFactory(), name="AM")
    # An Alertmanager key sent as a routing key counts nothing (dedup keys themselves are global).
    assert not count_repeat(key=other.key, kind="events_v2", dedup_key="disk-1")
    assert post(trigger(other.key)).json()["message"] == "Invalid routing key"
    Integration.objects.filter(pk=events_integration.pk).update(is_active=False)
    response = post(trigger(events_integration.key))
    assert response.status_code == 400 and response.json()["message"] == "Invalid routing key"
    assert Incident.objects.get(dedup_key="disk-1").alert_count == 1


def test_a_repeat_never_lands_on_a_closed_or_keyless_incident(events_integration, manager):
    post(trigger(events_integration.key))
    incident = Incident.objects.get(dedup_key="disk-1")
    drive(incident, "resolved", actor=manager)
    keyless = Incident.objects.create(title="Opened by hand")  # dedup_key ""
    assert not count_repeat(key=events_integration.key, kind="events_v2", dedup_key="")
    assert post(trigger(events_integration.key)).status_code == 202  # opens a second incident
    assert Incident.objects.filter(dedup_key="disk-1").count() == 2
    incident.refresh_from_db()
    keyless.refresh_from_db()
    assert incident.alert_count == 1 and keyless.alert_count == 0


def test_a_malformed_repeat_is_still_refused(events_integration):
    post(trigger(events_integration.key))
    response = post(trigger(events_integration.key, severity="fatal"))
    assert response.status_code == 400 and "severity" in response.json()["errors"][0]
    assert Incident.objects.get(dedup_key="disk-1").alert_count == 1


# --- list pages ---------------------------------------------------------------------------------


@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.just(dt.UTC),
    ),
    st.sampled_from(["Europe/Berlin", "UTC", "America/St_Johns", "Asia/Kathmandu", "Pacific/Apia"]),
)
def test_times_are_formatted_as_drf_formats_them(value, zone_name):
    zone = zoneinfo.ZoneInfo(zone_name)
    with timezone.override(zone):
        assert iso_datetime(value, zone) == drf.DateTimeField().to_representation(value)


def test_permissions_are_cached_until_someone_changes_them(manager):
    from django.contrib.auth.models import Permission
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import IncidentFactory

    incident = IncidentFactory()
    client = APIClient()
    from incidents.services import api_token_create

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=manager)[1]}")

    def actions() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"/api/v1/incidents/{incident.pk}/").json()
        asked = any("auth_permission" in query["sql"] for query in queries.captured_queries)
        return body["allowed_actions"], asked

    everything = ["acknowledge", "classify", "resolve"]
    shared = isinstance(caches["default"], RedisCache)  # else nothing is kept (one per process)
    assert actions() == (everything, True)
    assert actions() == (everything, not shared)  # from the cache
    group = manager.groups.get()
    group.permissions.remove(Permission.objects.get(codename="classify_incident"))
    assert actions() == (["acknowledge", "resolve"], True)  # the change counts at once
    group.permissions.add(Permission.objects.get(codename="classify_incident"))
    assert actions() == (everything, True)
    manager.groups.clear()  # no role any more: no access at all
    assert client.get(f"/api/v1/incidents/{incident.pk}/").status_code == 403


# --- store first, classify right after ------------------------------------------------------------


def test_a_new_alert_is_stored_first_and_classified_by_the_next_tick(events_integration):
    from escalation.models import Clock
    from escalation.services.clocks import clocks_tick

    post(trigger(events_integration.key, severity="critical"))
    incident = Incident.objects.get(dedup_key="disk-1")
    assert (incident.state, incident.priority, incident.alert_count) == ("detected", None, 1)
    clock = Clock.objects.get(incident=incident, kind=Clock.Kind.CLASSIFY)
    assert clock.payload == {"impact": "high", "urgency": "high"}
    assert clocks_tick() == 1
    incident.refresh_from_db()
    assert incident.priority == 1 and incident.state == "escalated"
    assert incident.events.filter(kind="classified", actor__isnull=True).exists()


def test_a_classification_by_hand_before_the_tick_stands(events_integration, manager):
    from escalation.services import incident_classify
    from escalation.services.clocks import clocks_tick

    post(trigger(events_integration.key, severity="critical"))
    incident = Incident.objects.get(dedup_key="disk-1")
    incident_classify(incident=incident, actor=manager, impact="low", urgency="low")
    clocks_tick()
    incident.refresh_from_db()
    assert incident.priority == 5 and incident.state == "classified"


def test_a_storm_is_classified_with_one_read_of_the_rules_per_tick(events_integration):
    """The priority matrix, the escalation rules and the outbound webhooks are read once per
    tick, not per new incident; each incident still gets its own classification."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from escalation.services.clocks import clocks_tick

    for n in range(5):
        post(trigger(events_integration.key, dedup_key=f"storm-{n}", severity="critical"))
    with CaptureQueriesContext(connection) as queries:
        assert clocks_tick() == 5
    for table in ("prioritymatrixentry", "escalationrule", "eventwebhook"):
        reads = [q for q in queries.captured_queries if f'FROM "escalation_{table}"' in q["sql"]]
        assert len(reads) == 1, (table, len(reads))
    assert set(Incident.objects.values_list("state", "priority")) == {("escalated", 1)}
    assert IncidentEvent.objects.filter(kind="escalation_decided").count() == 5


def test_an_alert_that_pages_nobody_is_classified_in_its_request(events_integration):
    """A warning (P3, no rule escalates it) is classified before the 202, with one read of the
    matrix and the rules for both questions (does it page? which priority?); no clock."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from escalation.models import Clock

    with CaptureQueriesContext(connection) as queries:
        post(trigger(events_integration.key))
    incident = Incident.objects.get(dedup_key="disk-1")
    assert (incident.state, incident.priority, incident.escalation_required) == (
        "classified",
        3,
        False,
    )
    assert not Clock.objects.filter(incident=incident, kind=Clock.Kind.CLASSIFY).exists()
    kinds = list(incident.events.order_by("seq").values_list("kind", "actor"))
    assert kinds == [("created", None), ("classified", None), ("escalation_decided", None)]
    for table in ("prioritymatrixentry", "escalationrule", "eventwebhook"):
        reads = [q for q in queries.captured_queries if f'FROM "escalation_{table}"' in q["sql"]]
        assert len(reads) == 1, (table, len(reads))
    for table in ("service", "customer"):  # the escalation decision's reads, once
        ids = f'SELECT "incidents_{table}"."id" AS "pk" FROM "incidents_{table}" INNER JOIN'
        assert sum(q["sql"].startswith(ids) for q in queries.captured_queries) == 1, table


def test_with_automatic_escalation_off_a_critical_alert_is_classified_in_its_request(
    events_integration, settings
):
    """With automatic escalation off, a critical alert pages nobody by itself: classified in
    the request (escalation required, left to a person)."""
    settings.ESCALATION_AUTO_ESCALATE = False
    post(trigger(events_integration.key, severity="critical"))
    incident = Incident.objects.get(dedup_key="disk-1")
    assert (incident.state, incident.priority, incident.escalation_required) == (
        "classified",
        1,
        True,
    )


def test_an_alert_whose_severity_maps_to_no_cell_is_stored_and_left_to_the_worker(
    events_integration, caplog
):
    """A severity map edited wrongly (a level the matrix does not know) refuses no alert: it is
    stored, and the worker says why it cannot classify it."""
    from escalation.models import Clock
    from escalation.services.clocks import clocks_tick

    events_integration.severity_map = {"warning": ["enormous", "medium"]}
    events_integration.save(update_fields=["severity_map"])
    assert post(trigger(events_integration.key)).status_code == 202
    incident = Incident.objects.get(dedup_key="disk-1")
    assert incident.state == "detected"
    assert Clock.objects.filter(incident=incident, kind=Clock.Kind.CLASSIFY).exists()
    clocks_tick()
    incident.refresh_from_db()
    assert incident.state == "detected"
    assert "could not classify" in caplog.text


def test_settings_read_once_holds_only_within_its_block(db):
    """A change to the priority matrix is seen by the next batch (and by any read outside one)."""
    from escalation import selectors
    from escalation.models import PriorityMatrixEntry

    cell = PriorityMatrixEntry.objects.get(impact="low", urgency="low")
    with selectors.settings_read_once():
        before = selectors.priority_matrix()
        assert before[("low", "low")] == 5
        cell.priority = 4
        cell.save()
        assert selectors.priority_matrix() is before  # the batch's one read
    assert selectors.priority_matrix()[("low", "low")] == 4
    with selectors.settings_read_once():
        assert selectors.priority_matrix()[("low", "low")] == 4


def test_the_commit_queues_one_tick_for_a_burst(
    events_integration, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The tick that classifies is queued when the incident commits (coalesced: one per process
    covers the next fifth of a second); the broker only receives it, so a recorder stands in."""
    from config.celery import app
    from incidents import coalesce

    settings.CLOCK_TICK_KICK = True
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    now = [500.0]
    monkeypatch.setattr(coalesce.time, "monotonic", lambda: now[0])
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            post(trigger(events_integration.key, dedup_key=f"new-{n}", severity="critical"))
    assert sent == [("escalation.tasks.clock_tick", {"countdown": 0.2})]
    now[0] += 0.2
    with django_capture_on_commit_callbacks(execute=True):
        post(trigger(events_integration.key, dedup_key="later", severity="critical"))
    assert len(sent) == 2


# --- RepeatedEventMiddleware ----------------------------------------------------------------------

SHORT_CUT = "escalation.api.middleware.RepeatedEventMiddleware"


def test_the_short_cut_answers_a_repeat_as_the_view_does(events_integration, settings):
    post(trigger(events_integration.key))
    assert SHORT_CUT in settings.MIDDLEWARE
    fast = post(trigger(events_integration.key))
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != SHORT_CUT]
    full = post(trigger(events_integration.key))
    assert fast.status_code == full.status_code == 202
    assert fast.content == full.content and fast["Content-Type"] == full["Content-Type"]
    assert fast["Allow"] == full["Allow"]
    assert Incident.objects.get(dedup_key="disk-1").alert_count == 3


@pytest.mark.parametrize(
    "body",
    [
        b'{"routing_key": "KEY", "event_action": "trigger", "dedup_key": "disk-1", '
        b'"payload": {"summary": "x", "source": "y", "severity": "info", '
        b'"custom_details": {"load": NaN}}}',
        b'{"routing_key": "KEY", "event_action": "trigger", "dedup_key": "disk-1"}',
        b"\xff\xfe{}",
        b"[1, 2]",
    ],
)
def test_what_the_short_cut_does_not_take_the_view_refuses(events_integration, body):
    post(trigger(events_integration.key))
    response = APIClient().post(
        URL, body.replace(b"KEY", events_integration.key.encode()), content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["status"] == "invalid event"
    assert Incident.objects.get(dedup_key="disk-1").alert_count == 1


def test_a_repeat_the_short_cut_leaves_to_the_view_is_counted_once(events_integration):
    post(trigger(events_integration.key))
    untrimmed = trigger(events_integration.key, summary=" Disk almost full ")  # not plain
    assert post(untrimmed).status_code == 202
    assert Incident.objects.get(dedup_key="disk-1").alert_count == 2


def test_a_kept_token_stops_at_once_when_revoked_or_its_user_leaves(manager):
    from incidents.services import api_token_create, api_token_revoke

    token, key = api_token_create(user=manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/services/").status_code == 200
    assert client.get("/api/v1/services/").status_code == 200  # from the cache with Redis
    api_token_revoke(token=token)
    assert client.get("/api/v1/services/").status_code == 401

    _, key = api_token_create(user=manager)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/services/").status_code == 200
    manager.is_active = False
    manager.save()
    assert client.get("/api/v1/services/").status_code == 401


def test_a_token_is_kept_only_in_a_shared_cache(manager, django_assert_num_queries):
    """With Redis the second request reads no token row; without a shared cache (the embedded
    default, one cache per process) every request does."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from incidents.services import api_token_create

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=manager)[1]}")
    client.get("/api/v1/services/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/services/").status_code == 200
    read_token = any("incidents_apitoken" in q["sql"] for q in queries.captured_queries)
    assert read_token is not isinstance(caches["default"], RedisCache)


@pytest.mark.postgres  # the PostgreSQL runs are the ones with Redis (REDIS_URL)
def test_the_shared_cache_reuses_one_redis_client_per_connection_pool():
    """config.cache: Django would build a new redis.Redis for every call; ours keeps one, and
    it still reads and writes."""
    from django.core.cache import caches

    from config.cache import RedisCache
    from tests.conftest import require

    backend = caches["default"]
    require(isinstance(backend, RedisCache), "REDIS_URL is not set: no shared cache")
    client = backend._cache.get_client(write=True)
    assert backend._cache.get_client(write=True) is client
    backend.set("fast-path-probe", {"n": 1}, 30)
    assert backend.get_many(["fast-path-probe"]) == {"fast-path-probe": {"n": 1}}
    assert backend._cache.get_client() is client


def test_a_loaded_incident_remembers_its_state_for_concurrent_transitions(db):
    """Incident.state_fields (django-fsm's scan replaced by the one field) still guards saves."""
    from django_fsm import ConcurrentTransition

    incident = Incident.objects.create(title="Printer")
    assert [field.name for field in incident.state_fields] == ["state"]
    stale = Incident.objects.get(pk=incident.pk)
    Incident.objects.filter(pk=incident.pk).update(state="classified")
    stale.title = "Printer on fire"
    with pytest.raises(ConcurrentTransition):
        stale.save()
