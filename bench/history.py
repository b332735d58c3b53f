"""Benchmark: pages over 1,000,000 historical incidents in PostgreSQL, under gunicorn.

Fills the database with `--incidents` incidents spread over the last three years (every state,
priorities P1-P5, each on one of 40 services and one of 20 customers, the open ones recent), with
SQL `generate_series` (a minute, not hours), then times requests against a live gunicorn one at a
time (so the figure is the server's time per request plus loopback): the executive dashboard (7, 30
and 90 days, and its live partial), the incident list of the API (first page, a filtered page, the
next page by cursor), the console board, the customer portal and the SLA exposure of a customer.
Also times one render of the public status page over the same data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/em_history \\
    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/history.py --incidents 1000000

The database in DATABASE_URL is dropped and recreated: never point it at real data.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import httpx  # noqa: E402
from clock_lateness import recreate_database  # noqa: E402
from loadgen import free_port  # noqa: E402

PASSWORD = "bench-password-2026"  # noqa: S105 (throwaway benchmark users)

FILL_SQL = """
INSERT INTO incidents_incident (
    title, description, impact, urgency, priority, state, source, dedup_key, alert_count,
    escalation_rule, escalation_reason, workaround, resolution, review,
    detected_at, classified_at, acknowledged_at, escalated_at, workaround_at, resolved_at,
    closed_at, updated_at, timeline_length, timeline_head, escalation_required
)
SELECT
    'Störung ' || g || ': Dienst ' || (g % 40) || ' gestört',
    'Historische Störung für den Benchmark',
    'medium', 'medium', 1 + (g % 5),
    CASE WHEN g > {n} - {open}
         THEN (ARRAY['detected','classified','escalated','workaround'])[1 + g % 4]
         WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END,
    'manual', '', 0, '', '', '', 'erledigt', 'Review',
    t, t + interval '2 minutes',
    t + ((5 + g % 30) || ' minutes')::interval,
    CASE WHEN g % 5 < 2 THEN t + interval '3 minutes' END,
    t + ((30 + g % 90) || ' minutes')::interval,
    CASE WHEN g > {n} - {open} THEN NULL ELSE t + ((60 + g % 600) || ' minutes')::interval END,
    CASE WHEN g > {n} - {open} OR g % 10 = 0 THEN NULL
         ELSE t + ((700 + g % 600) || ' minutes')::interval END,
    t, 0, '', g % 5 < 2
FROM (
    SELECT g, now() - (({n} - g) * (interval '3 years' / {n})) AS t
    FROM generate_series(1, {n}) AS g
) AS s
"""


def fill(n: int, open_count: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from incidents.models import Customer, Incident, Service, User

    customers = [Customer.objects.create(name=f"Kunde {i}", slug=f"kunde-{i}") for i in range(20)]
    services = [Service.objects.create(name=f"Dienst {i}", slug=f"dienst-{i}") for i in range(40)]
    for index, service in enumerate(services):
        service.customers.add(customers[index % 20])
    for username, group in [
        ("manager", "escalation_manager"),
        ("executive", "executive"),
    ]:
        user = User.objects.create_user(username=username, password=PASSWORD)
        user.groups.add(Group.objects.get(name=group))
    contact = User.objects.create_user(username="contact", password=PASSWORD, customer=customers[0])
    contact.groups.add(Group.objects.get(name="customer_contact"))
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL.replace("{n}", str(n)).replace("{open}", str(open_count)))
        first = Incident.objects.order_by("pk").values_list("pk", flat=True).first()
        cursor.execute(
            "INSERT INTO incidents_incident_services (incident_id, service_id) "
            "SELECT id, %s + (id %% 40) FROM incidents_incident",
            [services[0].pk],
        )
        cursor.execute(
            "INSERT INTO incidents_incident_customers (incident_id, customer_id) "
            "SELECT id, %s + (id %% 20) FROM incidents_incident",
            [customers[0].pk],
        )
        cursor.execute("ANALYZE")
    print(
        f"filled {n} incidents ({open_count} open) in {time.monotonic() - started:.0f} s; "
        f"first id {first}"
    )


def login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
    )
    assert response.status_code == 302, (username, response.status_code)
    return client


def timed(client: httpx.Client, url: str, rounds: int) -> tuple[float, float, float, int]:
    client.get(url)  # warm up (connection, caches of the worker)
    times, status = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1], status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=60, help="how many of them are open")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL.")
    recreate_database(url)
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    logging.getLogger("httpx").setLevel(logging.WARNING)

    call_command("migrate", verbosity=0)
    fill(args.incidents, args.open)
    from incidents.models import Customer

    customer_id = Customer.objects.get(slug="kunde-0").pk
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        env = {**os.environ, "VAR_DIR": tmp, "STATUS_PAGE_DIR": f"{tmp}/status"}
        subprocess.run(
            [sys.executable, "manage.py", "render_status_page"], cwd=ROOT, env=env, check=True
        )
        took = time.perf_counter() - started
        print(f"status page render (whole process, incl. start-up): {took:.2f} s")
        env.update({"DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "API_RATE": "100000000/min"})
        with serve(env) as base:
            executive = login(base, "executive")
            manager = login(base, "manager")
            contact = login(base, "contact")
            first_page = manager.get("/api/v1/incidents/?page_size=50").json()
            cursor = first_page.get("next") or ""
            print(
                f"server time per request over {args.incidents} incidents ({args.rounds} rounds):"
            )
            measure(
                [
                    (executive, "/dashboard/?days=7"),
                    (executive, "/dashboard/?days=30"),
                    (executive, "/dashboard/?days=90"),
                    (executive, "/dashboard/live/"),
                    (manager, "/api/v1/incidents/?page_size=50"),
                    (manager, "/api/v1/incidents/?page_size=50&state=closed&priority=1"),
                    (manager, cursor.replace(base, "") if cursor else "/api/v1/incidents/"),
                    (manager, "/console/"),
                    (manager, f"/api/v1/customers/{customer_id}/exposure/"),
                    (contact, "/portal/"),
                ],
                args.rounds,
            )
        # The same dashboard with its KPI cache off: every request aggregates the window.
        with serve({**env, "DASHBOARD_KPI_SECONDS": "0"}) as base:
            executive = login(base, "executive")
            print("dashboard without the KPI cache (DASHBOARD_KPI_SECONDS=0):")
            measure(
                [(executive, f"/dashboard/?days={days}") for days in (7, 30, 90)]
                + [(executive, "/dashboard/live/?days=90")],
                args.rounds,
            )


def measure(cases, rounds: int) -> None:
    for client, path in cases:
        p50, p95, worst, status = timed(client, path, rounds)
        shown = path if len(path) < 70 else path[:67] + "..."
        print(
            f"  {shown:<70} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {worst:7.1f} ms  ({status})"
        )


@contextmanager
def serve(env: dict):
    """gunicorn with two workers on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["-b", f"127.0.0.1:{port}", "-w", "2", "--log-level", "warning"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(4)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
