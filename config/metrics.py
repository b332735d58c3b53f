"""/metrics in Prometheus' text format, and /healthz.

Two kinds of figures:

- Counted in the web process as requests pass (RequestMetricsMiddleware, first in MIDDLEWARE):
  requests and their latency per surface (api, ingest, console, status, portal, dashboard, ops,
  other) and accepted ingest requests (events). With several web processes (gunicorn workers),
  set PROMETHEUS_MULTIPROC_DIR to an empty folder per container (docker-compose.yml does): the
  processes then share their counts through files there (prometheus-client's multiprocess
  mode) and any of them answers a scrape with the sum. Without it each process counts alone,
  which is exact for one process (`make run`) and a sample otherwise.
- Read from the database at scrape time (DatabaseCollector, four indexed queries): outbox backlog
  per status, the age of the oldest pending message (and of the oldest waiting for a retry), dead
  messages, clock lateness (the oldest
  due clock not fired yet), pages, and the age of the worker's and beat's heartbeats. They are the
  same whichever process answers, and need no worker to export anything.

/metrics answers a bearer token (METRICS_TOKEN) or a client address in METRICS_ALLOW_NETWORKS
(default: loopback only); anybody else gets 404.
"""

import hmac
import ipaddress
import math
import os
import time
from functools import cache

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Max, Min
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROCESS_DIR:  # must exist before prometheus_client writes its first value
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)

from prometheus_client import (  # noqa: E402 (after the folder exists)
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

REQUESTS = Counter(
    "escalation_http_requests",
    "HTTP requests answered, by surface and status code.",
    ["surface", "status"],
)
LATENCY = Histogram(
    "escalation_http_request_duration_seconds",
    "Time from the request reaching the app to the answer, by surface.",
    ["surface"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS = Counter(
    "escalation_events_ingested",
    "Alert ingest requests accepted (2xx): one Events API v2 event, or one Alertmanager group.",
    ["integration"],
)

# Longest prefix first.
SURFACES = (
    ("/api/v1/integrations/", "ingest"),
    ("/api/", "api"),
    ("/console/", "console"),
    ("/admin/", "console"),
    ("/accounts/", "console"),
    ("/ack/", "console"),
    ("/oncall/", "console"),
    ("/status/", "status"),
    ("/portal/", "portal"),
    ("/dashboard/", "dashboard"),
    ("/metrics", "ops"),
    ("/healthz", "ops"),
)


def surface_of(path: str) -> str:
    for prefix, surface in SURFACES:
        if path.startswith(prefix):
            return surface
    return "other"


class RequestMetricsMiddleware:
    """Counts every answer (also the status page's and the repeated-event short cut's, which
    are answered further down before the rest of the stack) and times it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        surface = surface_of(request.path_info)
        LATENCY.labels(surface).observe(time.perf_counter() - started)
        REQUESTS.labels(surface, str(response.status_code)).inc()
        if surface == "ingest" and 200 <= response.status_code < 300:
            kind = "alertmanager" if "alertmanager" in request.path_info else "events_v2"
            EVENTS.labels(kind).inc()
        return response


class DatabaseCollector:
    """Figures read from the database when Prometheus scrapes (not per request)."""

    def describe(self):
        return []  # names vary with the data; nothing to check at registration (no queries)

    def collect(self):
        up = GaugeMetricFamily(
            "escalation_database_up", "Whether the database answered this scrape (1) or not (0)."
        )
        try:
            families = list(self._from_database(timezone.now()))
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _from_database(self, now):
        from escalation.models import Clock, Page
        from incidents.heartbeats import heartbeat_ages
        from notifications.models import Notification

        status = Notification.Status
        backlog = GaugeMetricFamily(
            "escalation_outbox_messages",
            "Outbox messages not (yet) delivered, by status (dead: given up, counts all time).",
            labels=["status"],
        )
        waiting = [status.PENDING, status.FAILED, status.SENDING]
        rows = {
            row["status"]: row
            for row in Notification.objects.filter(status__in=[*waiting, status.DEAD])
            .values("status")
            .annotate(n=Count("id"), oldest=Min("created_at"))
            .order_by()
        }
        for name in (*waiting, status.DEAD):
            backlog.add_metric([name], rows.get(name, {}).get("n", 0))
        yield backlog

        def age(*names) -> float:
            oldest = [rows[name]["oldest"] for name in names if name in rows]
            return (now - min(oldest)).total_seconds() if oldest else 0

        # Pending or being sent: the delivery machinery (workers, broker) should take it within
        # seconds. Failed: waiting for a retry, usually a receiver that is down (backoff up to
        # NOTIFICATION_BACKOFF_MAX_SECONDS), which is the recipient's problem more than ours.
        yield GaugeMetricFamily(
            "escalation_outbox_oldest_pending_age_seconds",
            "Age of the oldest message not sent yet and not waiting for a retry (0: none).",
            value=age(status.PENDING, status.SENDING),
        )
        yield GaugeMetricFamily(
            "escalation_outbox_oldest_failed_age_seconds",
            "Age of the oldest message waiting for a retry after a failed attempt (0: none).",
            value=age(status.FAILED),
        )

        due = Clock.objects.filter(status=Clock.Status.PENDING, due_at__lte=now).aggregate(
            n=Count("id"), oldest=Min("due_at")
        )
        yield GaugeMetricFamily(
            "escalation_clock_lateness_seconds",
            "How late the oldest due clock is (escalation level, ladder step, update due, SLA);"
            " 0 when the tick keeps up.",
            value=(now - due["oldest"]).total_seconds() if due["oldest"] else 0,
        )
        yield GaugeMetricFamily(
            "escalation_clocks_overdue", "Clocks due and not fired yet.", value=due["n"]
        )

        # Pages are only ever added: the highest id counts them with one index lookup.
        pages = Page.objects.aggregate(last=Max("id"))["last"] or 0
        yield _counter("escalation_pages", "People paged (one per person and level).", pages)

        ages = GaugeMetricFamily(
            "escalation_heartbeat_age_seconds",
            "Seconds since the Celery worker ran / beat sent the heartbeat (+Inf: never).",
            labels=["process"],
        )
        for name, age in heartbeat_ages(now).items():
            ages.add_metric([name], math.inf if age is None else age)
        yield ages


def _counter(name: str, documentation: str, value: float):
    from prometheus_client.core import CounterMetricFamily

    return CounterMetricFamily(name, documentation, value=value)


@cache
def _registry() -> CollectorRegistry:
    if MULTIPROCESS_DIR:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # the counts of every process
    else:
        registry = REGISTRY  # this process's counts, and its CPU and memory
    registry.register(DatabaseCollector())
    return registry


@cache
def _networks():
    return [ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOW_NETWORKS]


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks())


@require_safe
def metrics(request):
    if not allowed(request):
        raise Http404  # as if there were nothing here
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


@require_safe
def healthz(request):
    """For load balancers, docker health checks and monitoring: 200 when the database answers
    and the worker and beat heartbeats are fresh (HEARTBEAT_STALE_SECONDS; 0 = not checked),
    else 503 naming what is wrong."""
    from incidents.heartbeats import heartbeat_ages

    body: dict = {"status": "ok", "database": "ok"}
    try:
        ages = heartbeat_ages()
    except DatabaseError:
        body.update(status="unavailable", database="unreachable")
        response = JsonResponse(body, status=503)
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
        return response
    stale_after = settings.HEARTBEAT_STALE_SECONDS
    for name, age in ages.items():
        body[f"{name}_heartbeat_age_seconds"] = None if age is None else round(age, 1)
        if stale_after and (age is None or age > stale_after):
            body["status"] = "unavailable"
            body.setdefault("stale", []).append(name)
    response = JsonResponse(body, status=200 if body["status"] == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response
