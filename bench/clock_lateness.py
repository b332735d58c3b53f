"""Benchmark: how late do clocks fire, and how long does one beat tick take?

Seeds a PostgreSQL database with N open, escalated incidents, each with a running escalation (a
policy snapshot of two levels), and M pending clock rows: `--due` of them fall due spread over the
next `--window` seconds (next escalation level: real paging work), the rest lie in the future.
Then it starts the real thing — a Celery worker with beat (`celery -A config worker -B`) on Redis,
ticking every CLOCK_TICK_SECONDS — waits until every due clock has fired, and prints lateness
(fired_at - due_at) percentiles and the tick durations from the worker's log.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/em_bench REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/clock_lateness.py --incidents 10000 --clocks 50000 --due 10000

The database named in DATABASE_URL is dropped and recreated: never point it at real data.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def recreate_database(url: str) -> None:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def seed(n_incidents: int, n_clocks: int, n_due: int, window: float, lead: float) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group

    from escalation.models import Clock, EscalationRun
    from escalation.services.engine import policy_snapshot
    from incidents.models import Incident, State, User

    responder = User.objects.create(username="bench-responder", email="r@bench.example")
    manager = User.objects.create(username="bench-manager", email="m@bench.example")
    manager.groups.add(Group.objects.get(name="escalation_manager"))
    now = timezone.now()
    snapshot = policy_snapshot(None)
    snapshot["levels"].insert(
        0, {**snapshot["levels"][0], "users": [responder.pk], "manager_on_duty": False}
    )
    t = time.perf_counter()
    incidents = []
    for i in range(n_incidents):
        incident = Incident(
            title=f"Bench incident {i}",
            impact="high",
            urgency="high",
            priority=1,
            detected_at=now,
            escalated_at=now,
            paging_since=now,
        )
        incident.__dict__["state"] = State.ESCALATED  # seed data written directly, not a transition
        incidents.append(incident)
    Incident.objects.bulk_create(incidents, batch_size=2000)
    ids = list(Incident.objects.order_by("pk").values_list("pk", flat=True))
    EscalationRun.objects.bulk_create(
        [
            EscalationRun(incident_id=pk, policy_name="bench", snapshot=snapshot, started_at=now)
            for pk in ids
        ],
        batch_size=2000,
    )
    clocks = []
    start = now + timedelta(seconds=lead)
    for j in range(n_clocks):
        pk = ids[j % len(ids)]
        if j < n_due:
            due = start + timedelta(seconds=window * j / max(1, n_due))
            payload, kind = {"cycle": 0, "level": 0}, Clock.Kind.LEVEL_TIMEOUT
        else:
            due = now + timedelta(days=1, seconds=j)
            payload, kind = {"rule": 0, "audience": "customers", "seq": j}, Clock.Kind.UPDATE_DUE
        clocks.append(
            Clock(incident_id=pk, kind=kind, due_at=due, payload=payload, key=f"bench:{j}")
        )
    Clock.objects.bulk_create(clocks, batch_size=5000)
    print(
        f"seeded {n_incidents} incidents, {n_clocks} clocks ({n_due} due over {window:.0f} s, "
        f"first in {lead:.0f} s) in {time.perf_counter() - t:.1f} s",
        flush=True,
    )


def measure(n_due: int, timeout: float, log_path: Path) -> None:
    from escalation.models import Clock

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = Clock.objects.filter(
            key__startswith="bench:", kind="level_timeout", status="done"
        ).count()
        if done >= n_due:
            break
        time.sleep(2)
    rows = list(
        Clock.objects.filter(
            key__startswith="bench:", kind="level_timeout", status="done"
        ).values_list("due_at", "fired_at")
    )
    late = [(fired - due).total_seconds() for due, fired in rows]
    print(f"\nclocks fired: {len(late)} of {n_due}")
    if late:
        print(
            f"lateness after due_at (s): p50 {percentile(late, 50):.2f}  "
            f"p90 {percentile(late, 90):.2f}  p99 {percentile(late, 99):.2f}  "
            f"max {max(late):.2f}  mean {statistics.mean(late):.2f}"
        )
    ticks = [
        float(x)
        for x in re.findall(
            r"escalation\.tasks\.clock_tick\[[^\]]+\] succeeded in ([0-9.]+)s", log_path.read_text()
        )
    ]
    if ticks:
        busy = [t for t in ticks if t > 0.05]
        print(
            f"ticks: {len(ticks)}; duration (s) p50 {percentile(ticks, 50):.3f}  "
            f"p99 {percentile(ticks, 99):.3f}  max {max(ticks):.3f}; "
            f"ticks with work: {len(busy)}, p50 {percentile(busy or [0], 50):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--clocks", type=int, default=50_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=300.0, help="seconds the due clocks span")
    parser.add_argument("--lead", type=float, default=20.0, help="seconds before the first is due")
    parser.add_argument("--tick", type=float, default=1.0, help="CLOCK_TICK_SECONDS")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL.")
    recreate_database(url)
    seed(args.incidents, args.clocks, args.due, args.window, args.lead)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "worker.log"
        env = {
            **os.environ,
            "CLOCK_TICK_SECONDS": str(args.tick),
            "VAR_DIR": tmp,
            "CELERY_QUEUE": f"bench-{uuid.uuid4().hex}",
            "CELERY_HEARTBEAT_SECONDS": "3600",
        }
        with log_path.open("w") as log:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--beat",
                    "--loglevel=info",
                    "--concurrency=2",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            measure(args.due, args.lead + args.window + 600, log_path)
        finally:
            worker.terminate()
            worker.wait(timeout=60)


if __name__ == "__main__":
    main()
