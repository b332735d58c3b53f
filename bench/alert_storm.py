"""Benchmark: an alert storm of new critical alerts (issue 17), from the 202 to the first page.

On PostgreSQL + Redis: gunicorn (3 workers), a Celery worker for each queue (default, pages,
clocks; 1 process each: --pages-concurrency, --clocks-concurrency) and beat, all on the machine's
cores with the load generator. Every alert is a new Events API v2 trigger (severity critical: P1,
which the default rules escalate, so the manager on duty is paged by email, sent to an SMTP sink
in this process). The alerts come from `--hosts` sources; with `--group-by source` the integration's
grouping rules put each source's alerts into one incident. A fresh database: no customers,
subscribers or executives, so the outbox holds little besides the pages.

Prints: how long the storm took to be accepted (all 202s), how many incidents it left, and per
incident the time from the 202 of its first alert to its first page handed to the transport
(Notification.sent_at of its "page" message: the SMTP server has taken it), p50, p99 and max,
and what else the outbox sent meanwhile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/em_bench REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/alert_storm.py --alerts 1000 --group-by source

(without --group-by: one incident per alert, as without grouping rules). The database in
DATABASE_URL is dropped and recreated: never point it at real data.
"""

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import httpx  # noqa: E402
from clock_lateness import recreate_database  # noqa: E402
from loadgen import free_port, wait_http  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def smtp_sink() -> tuple[int, list]:
    """An SMTP server on 127.0.0.1 that takes every message (and counts them)."""
    from aiosmtpd.controller import Controller

    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            received.append(time.time())
            return "250 OK"

    port = free_port()
    Controller(Handler(), hostname="127.0.0.1", port=port).start()
    return port, received


def setup(group_by: list[str]) -> str:
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # nor per SMTP command
    from escalation.services.integrations import integration_create
    from incidents.models import Service, User

    manager = User.objects.create(username="bench-manager", email="manager@bench.example")
    manager.groups.add(Group.objects.get(name="escalation_manager"))  # on duty: paged
    service = Service.objects.create(name="Kundenportal", slug="portal")
    integration = integration_create(kind="events_v2", service=service, name="storm")
    integration.group_labels = group_by
    integration.save()
    return integration.key


def wait_healthy(url: str, timeout: float = 240) -> None:
    """Until /healthz answers 200: the database answers and the workers' and beat's heartbeats
    are fresh (on a busy machine Celery takes seconds to start; pages must not wait on that)."""
    wait_http(url)
    deadline = time.monotonic() + timeout
    while httpx.get(url, timeout=30, trust_env=False).status_code != 200:
        if time.monotonic() > deadline:
            print(f"warning: {url} still unhealthy after {timeout:.0f} s; measuring anyway")
            return
        time.sleep(1)


def storm(base: str, key: str, alerts: int, hosts: int, threads: int) -> dict[str, float]:
    """POST the alerts from `threads` threads; the wall time of each one's 202, by dedup key."""
    accepted: dict[str, float] = {}
    lock = threading.Lock()
    local = threading.local()

    def send(i: int) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=60, trust_env=False)
        dedup_key = f"storm-{i}-{uuid.uuid4().hex[:8]}"
        body = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {
                "summary": f"Checkout failing on web{i % hosts:02d}",
                "source": f"web{i % hosts:02d}",
                "component": "checkout",
                "severity": "critical",
            },
        }
        response = local.client.post("/api/v1/integrations/events/v2/enqueue", json=body)
        if response.status_code == 202:
            with lock:
                accepted[dedup_key] = time.time()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, range(alerts)))
    return accepted


def wait_for_pages(
    incident_ids: list[int], timeout: float
) -> tuple[dict[int, float], dict[int, float]]:
    """Until every incident's first page has been handed to the transport (or the timeout): when
    each incident's first page was sent, and when it was written to the outbox."""
    from django.db.models import Min

    from notifications.models import Notification

    subjects = {f"incident:{pk}": pk for pk in incident_ids}
    deadline = time.monotonic() + timeout
    while True:
        rows = (
            Notification.objects.filter(template="page", sent_at__isnull=False)
            .values("subject")
            .annotate(first=Min("sent_at"), written=Min("created_at"))
        )
        rows = [r for r in rows if r["subject"] in subjects]
        if len(rows) == len(incident_ids) or time.monotonic() > deadline:
            sent = {subjects[r["subject"]]: r["first"].timestamp() for r in rows}
            written = {subjects[r["subject"]]: r["written"].timestamp() for r in rows}
            return sent, written
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20, help="distinct sources of the alerts")
    parser.add_argument(
        "--group-by", default="", help="grouping rule: payload fields, comma-separated"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=16, help="concurrent senders")
    parser.add_argument(
        "--pages-concurrency",
        type=int,
        default=1,
        help="processes of the pages queue's worker (it sends pages, and nothing else holds it)",
    )
    parser.add_argument(
        "--clocks-concurrency",
        type=int,
        default=1,
        help="processes of the clocks queue's worker (the clock tick that classifies and "
        "escalates the new incidents)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for pages")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL.")
    recreate_database(url)
    smtp_port, received = smtp_sink()
    key = setup([f for f in args.group_by.split(",") if f])
    from django.db.models import Count

    from escalation.models import IncidentAlert
    from incidents.models import Incident
    from notifications.models import Notification

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "API_RATE": "100000000/min",
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": tmp,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "CELERY_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
            "CELERY_PAGES_QUEUE": f"bench-pages-{uuid.uuid4().hex[:8]}",
            "CELERY_CLOCKS_QUEUE": f"bench-clocks-{uuid.uuid4().hex[:8]}",
        }
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        quiet = {
            "cwd": ROOT,
            "env": env,
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
        }
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi:application",
                 "-b", f"127.0.0.1:{port}", "-w", str(args.workers), "--log-level", "warning"],
                **quiet,
            ),
            subprocess.Popen(
                [*celery, "worker", "-Q", env["CELERY_QUEUE"], "-n", "default@%h",
                 "--concurrency=1", "--without-mingle", "--without-gossip", "--loglevel=warning"],
                **quiet,
            ),
            subprocess.Popen(
                [*celery, "worker", "-Q", env["CELERY_PAGES_QUEUE"], "-n", "pages@%h",
                 f"--concurrency={args.pages_concurrency}", "--without-mingle", "--without-gossip",
                 "--loglevel=warning"],
                **quiet,
            ),
            subprocess.Popen(
                [*celery, "worker", "-Q", env["CELERY_CLOCKS_QUEUE"], "-n", "clocks@%h",
                 f"--concurrency={args.clocks_concurrency}", "--without-mingle",
                 "--without-gossip", "--loglevel=warning"],
                **quiet,
            ),
            subprocess.Popen(
                [*celery, "beat", "--loglevel=warning", "--schedule", f"{tmp}/beat"], **quiet
            ),
        ]  # fmt: skip
        try:
            wait_healthy(f"http://127.0.0.1:{port}/healthz")
            began = time.time()
            accepted = storm(f"http://127.0.0.1:{port}", key, args.alerts, args.hosts, args.threads)
            took = time.time() - began
            incidents = list(Incident.objects.filter(dedup_scope__gt=0))
            ids = [i.pk for i in incidents]
            if args.group_by:  # an incident's first alert: the earliest 202 of its alerts
                by_incident: dict[int, float] = {}
                for pk, fingerprint in IncidentAlert.objects.values_list(
                    "incident_id", "fingerprint"
                ):
                    if fingerprint in accepted:
                        by_incident[pk] = min(by_incident.get(pk, 1e12), accepted[fingerprint])
            else:
                by_incident = {i.pk: accepted[i.dedup_key] for i in incidents}
            pages, written = wait_for_pages(ids, args.timeout)
            paged = [pk for pk in ids if pk in pages and pk in by_incident]
            waits = [pages[pk] - by_incident[pk] for pk in paged]
            print(
                f"storm: {len(accepted)} of {args.alerts} alerts accepted (202) in {took:.1f} s "
                f"({len(accepted) / took:.0f}/s, {args.threads} senders, {args.workers} gunicorn "
                f"workers); grouping rule: {args.group_by or 'none'} over {args.hosts} sources"
            )
            states = Incident.objects.values("state").annotate(n=Count("pk"))
            print(
                f"incidents left: {len(incidents)} ("
                + ", ".join(f"{s['n']} {s['state']}" for s in states)
                + f"); alerts counted on them: {sum(i.alert_count for i in incidents)}"
            )
            if waits:
                print(
                    f"202 of an incident's first alert -> its first page handed to the transport"
                    f" ({len(waits)} of {len(ids)} incidents paged): p50 "
                    f"{percentile(waits, 50):.2f} s, p99 {percentile(waits, 99):.2f} s, max "
                    f"{max(waits):.2f} s, mean {statistics.mean(waits):.2f} s"
                )
                escalating = [written[pk] - by_incident[pk] for pk in paged]
                outbox = [pages[pk] - written[pk] for pk in paged]
                print(
                    f"of which 202 -> page written to the outbox (classified, escalated): p50 "
                    f"{percentile(escalating, 50):.2f} s, p99 {percentile(escalating, 99):.2f} s; "
                    f"outbox -> handed to the transport: p50 {percentile(outbox, 50):.2f} s, "
                    f"p99 {percentile(outbox, 99):.2f} s"
                )
            else:
                print(f"no incident was paged within {args.timeout:.0f} s")
            other = Notification.objects.exclude(template="page").count()
            print(
                f"outbox: {Notification.objects.filter(template='page').count()} pages, "
                f"{other} other messages; the SMTP sink received {len(received)}"
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:  # a worker deep in a long clock tick
                    process.kill()
                    process.wait(timeout=60)


if __name__ == "__main__":
    main()
