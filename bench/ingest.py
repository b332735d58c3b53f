"""Benchmark: alert ingestion (Events API v2) and the incident list, on PostgreSQL + Redis under
gunicorn, with wrk as the load generator on the same machine.

1. Events: a realistic mix, 90 % repeats of open dedup keys and 10 % new keys (--repeat-share),
   POSTed by wrk (Lua script). A 202 means the event is on an incident (stored, deduplicated).
   Prints requests/s, latency percentiles, and checks the database afterwards: every accepted
   event is counted on an incident (alert_count), nothing lost. A new key opens an incident and
   classifies it (severity "warning": P3, no escalation) in the request.
2. Incident list: GET /api/v1/incidents/?page_size=50 with a bearer token over `--incidents` rows.

For each run, the cores each program used (CPU seconds / wall seconds; wrk itself is not counted:
it has exited before the second reading), and the web workers' memory after each run.

3. The floor: before the events run, a bare Django view (bench/bare_view.py) under as many gunicorn
   workers on the same cores, with the same wrk settings; the events run is stated as a ratio to
   its POSTs/s (issue 17's goal: 0.2x with the Celery worker classifying on the same cores).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/em_bench REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/ingest.py --workers 3 --seconds 20

The ingest mix alone, with the worker, as a ratio to the bare view (issue 17's figure):

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/ingest.py --seconds 20 --skip-list

The database in DATABASE_URL is dropped and recreated: never point it at real data.
"""

import argparse
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import httpx  # noqa: E402
from bare_view import bare_post_rate  # noqa: E402
from clock_lateness import recreate_database  # noqa: E402
from loadgen import free_port, wait_http, wrk  # noqa: E402

EVENTS_LUA = """
local keys = %(open_keys)d
local counter = 0
request = function()
  counter = counter + 1
  local key
  if math.random() < %(repeat_share)s then
    key = "open-" .. math.random(1, keys)
  else
    key = "new-" .. tostring(wrk.thread) .. "-" .. counter .. "-" .. math.random(1, 1000000000)
  end
  local body = '{"routing_key":"%(routing_key)s","event_action":"trigger","dedup_key":"' .. key ..
    '","payload":{"summary":"Disk almost full on ' .. key ..
    '","source":"db01","severity":"warning"}}'
  return wrk.format("POST", "/api/v1/integrations/events/v2/enqueue",
                    {["Content-Type"] = "application/json"}, body)
end
"""


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) of every process on the machine, summed by command name."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if name.startswith("python") or "gunicorn" in name or "celery" in name:
            try:
                argv = stat.with_name("cmdline").read_bytes()
            except OSError:
                continue
            name = "celery" if b"celery" in argv else "gunicorn" if b"gunicorn" in argv else name
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def cpu_share(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """Where the CPU went during a run: cores used per command (of os.cpu_count())."""
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    top = sorted(used.items(), key=lambda item: -item[1])[:4]
    return ", ".join(f"{name} {value / seconds:.2f}" for name, value in top if value > 0)


def classified(clock_model) -> int:
    return clock_model.objects.filter(kind=clock_model.Kind.CLASSIFY, status="done").count()


def drain(clock_model, limit: float = 600) -> float:
    """Wait until no classification is pending (firing the clocks here when no worker does);
    returns the seconds waited."""
    from escalation.services.clocks import clocks_tick

    pending = clock_model.objects.filter(
        kind=clock_model.Kind.CLASSIFY, status__in=["pending", "claimed"]
    )
    start = time.monotonic()
    while pending.exists() and time.monotonic() - start < limit:
        if os.environ.get("_BENCH_NO_WORKER"):
            clocks_tick()
        else:
            time.sleep(0.2)
    return time.monotonic() - start


def rss_mb(pid: int) -> list[float]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    sizes = []
    for child in children.split():
        status = Path(f"/proc/{child}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--open-keys", type=int, default=500)
    parser.add_argument(
        "--repeat-share", type=float, default=0.9, help="share of events that repeat an open key"
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="no Celery worker during the events run: the web processes alone (new incidents "
        "are then classified after the run, timed in this process)",
    )
    parser.add_argument("--incidents", type=int, default=20_000, help="rows for the list test")
    parser.add_argument("--skip-list", action="store_true", help="no incident list run")
    parser.add_argument(
        "--bare-seconds", type=int, default=0, help="bare view run (default: --seconds; 0 skips)"
    )
    args = parser.parse_args()
    args.bare_seconds = args.bare_seconds or args.seconds
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL.")
    recreate_database(url)
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db.models import Sum

    call_command("migrate", verbosity=0)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    from escalation.models import Clock
    from escalation.services.integrations import integration_create
    from incidents.models import Incident, Service, User

    if args.no_worker:
        os.environ["_BENCH_NO_WORKER"] = "1"
    from incidents.services import api_token_create

    service = Service.objects.create(name="Datenbanken", slug="db")
    integration = integration_create(kind="events_v2", service=service, name="bench")
    # Severity "warning" -> P3: classified on arrival; no escalation (paging is not what we time).
    manager = User.objects.create(username="bench", email="b@bench.example")
    manager.groups.add(Group.objects.get(name="escalation_manager"))
    _, token = api_token_create(user=manager, scope="read")
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_RATE": "100000000/min",
        "LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryDirectory() as tmp:
        env["VAR_DIR"] = tmp
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz")
            # Open the repeat keys first (as monitoring would have), then measure the mix.
            for i in range(1, args.open_keys + 1):
                httpx.post(
                    f"{base}/api/v1/integrations/events/v2/enqueue",
                    timeout=60,
                    json={
                        "routing_key": integration.key,
                        "event_action": "trigger",
                        "dedup_key": f"open-{i}",
                        "payload": {
                            "summary": f"open {i}",
                            "source": "db01",
                            "severity": "warning",
                        },
                    },
                )
            worker = None
            if not args.no_worker:  # classifies the new incidents (a clock due at once)
                worker = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "config", "worker",
                     "--loglevel=warning", "--concurrency=2", "--without-mingle",
                     "--without-gossip"],
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(6)
            drain(Clock)  # the open keys' own classification, before measuring
            bare = bare_post_rate(
                workers=args.workers, seconds=args.bare_seconds, connections=args.connections
            )
            print(
                f"bare Django view ({args.workers} gunicorn workers, same wrk settings): "
                f"{bare['rps']:.0f} POSTs/s, p99 {bare['p99_ms']:.1f} ms"
            )
            before = Incident.objects.aggregate(n=Sum("alert_count"))["n"] or 0
            classified_before = classified(Clock)
            incidents_before = Incident.objects.count()
            cpu_before = cpu_seconds()
            events = wrk(
                base,
                args.seconds,
                args.connections,
                script=EVENTS_LUA
                % {
                    "open_keys": args.open_keys,
                    "routing_key": integration.key,
                    "repeat_share": args.repeat_share,
                },
            )
            cpu_events = cpu_share(cpu_before, cpu_seconds(), events["seconds"])
            memory_events = rss_mb(server.pid)
            after = Incident.objects.aggregate(n=Sum("alert_count"))["n"] or 0
            stored = after - before
            accepted = events["requests"] - events["non_2xx"]
            print(
                f"events: {events['rps']:.0f} requests/s accepted ({accepted} in "
                f"{events['seconds']:.1f} s, {events['non_2xx']} non-2xx, "
                f"{events['socket_errors']} socket errors); p50 {events['p50_ms']:.1f} ms, "
                f"p99 {events['p99_ms']:.1f} ms"
            )
            print(
                f"stored: {stored} events on incidents ({stored / events['seconds']:.0f}/s);"
                f" incidents now {Incident.objects.count()}"
                # wrk counts the answers within its duration; requests in flight at its end are
                # stored too, so stored >= accepted when nothing is lost.
                f" ({'every accepted event stored' if stored >= accepted else 'LOST EVENTS'})"
            )
            print(
                f"ratio to the bare view: {stored / events['seconds'] / bare['rps']:.2f}x "
                f"({stored / events['seconds']:.0f} events/s stored / {bare['rps']:.0f} POSTs/s)"
            )
            print(f"  cores busy during the events run: {cpu_events}")
            during = classified(Clock) - classified_before
            waited = drain(Clock)
            opened = Incident.objects.count() - incidents_before
            by_clock = classified(Clock) - classified_before
            print(
                f"classification of the {opened} new incidents: {opened - by_clock} in their "
                f"request (they page nobody), {by_clock} by a clock "
                f"({'Celery worker, 2 processes' if worker else 'afterwards, in this process'}):"
                f" {during} during the run, the last {waited:.1f} s after it ended"
            )
            if worker:
                worker.terminate()
                worker.wait(timeout=30)
            if args.skip_list:
                return
            # The list: fill the table up to --incidents rows, then GET pages of 50.
            missing = args.incidents - Incident.objects.count()
            if missing > 0:
                from django.utils import timezone

                Incident.objects.bulk_create(
                    [
                        Incident(title=f"History {i}", detected_at=timezone.now())
                        for i in range(missing)
                    ],
                    batch_size=5000,
                )
            cpu_before = cpu_seconds()
            listing = wrk(
                f"{base}/api/v1/incidents/?page_size=50",
                args.seconds,
                args.connections,
                header=f"Authorization: Bearer {token}",
            )
            print(
                f"incident list (50 per page, {Incident.objects.count()} incidents): "
                f"{listing['rps']:.0f} pages/s, p50 {listing['p50_ms']:.1f} ms, "
                f"p99 {listing['p99_ms']:.1f} ms, {listing['non_2xx']} non-2xx"
            )
            print(
                "  cores busy during the list run: "
                + cpu_share(cpu_before, cpu_seconds(), listing["seconds"])
            )
            memory_list = rss_mb(server.pid)
            print(
                "web worker memory (RSS, MB): after the events run "
                f"{', '.join(f'{m:.0f}' for m in memory_events)}; after the list run "
                f"{', '.join(f'{m:.0f}' for m in memory_list)}"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
