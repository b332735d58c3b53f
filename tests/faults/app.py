"""The application side of the fault-injection suite, run as its own process against the suite's
own PostgreSQL and Redis (DATABASE_URL, REDIS_URL):

    python tests/faults/app.py seed RECEIVER_URL WAVE   # people, policy, integration, token,
                                                       # WAVE escalated incidents; prints JSON
    python tests/faults/app.py writer                  # reads commands from stdin (below)

The writer is the part of the product that writes messages: each command runs in transactions as
real changes do (outbox rows, handed to Celery after commit). A command that fails (the database
or the broker is away) is retried until it succeeds, as a sender retries a failed request; dedup
keys make a retry harmless. It answers every command with one line, `done <command>`.

    batch START COUNT URL   # COUNT webhooks load:START.. to URL, 100 per transaction
    canary NAME URL         # one webhook to URL/NAME
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402

from notifications.services import notification_enqueue  # noqa: E402

PER_TRANSACTION = 100


def seed(receiver_url: str, wave: int) -> None:
    from escalation import roles
    from escalation.models import ContactMethod, EscalationLevel, EscalationPolicy, NotificationRule
    from escalation.services import incident_classify
    from escalation.services.integrations import integration_create
    from incidents.models import Service, User
    from incidents.services import api_token_create, incident_create

    people = {}
    for username, role in (("mara", roles.ESCALATION_MANAGER), ("rolf", roles.RESPONDER)):
        user = User.objects.create_user(username=username, password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        method = ContactMethod.objects.create(
            user=user,
            channel="webhook",
            address=f"{receiver_url}/page/{username}",
            secret=os.environ["WEBHOOK_SECRET"],  # the receiver's secret (each has its own)
        )
        NotificationRule.objects.create(user=user, contact_method=method, delay_minutes=0)
        people[username] = user
    service = Service.objects.create(name="Faults", slug="faults")
    policy = EscalationPolicy.objects.create(name="Faults", repeat=0)
    policy.services.add(service)
    EscalationLevel.objects.create(policy=policy, position=0, timeout_minutes=1).users.add(
        people["rolf"]
    )
    EscalationLevel.objects.create(policy=policy, position=1, timeout_minutes=60).users.add(
        people["mara"]
    )
    integration = integration_create(kind="events_v2", service=service, name="faults")
    _, token = api_token_create(user=people["mara"], scope="write", name="faults")
    incidents = []
    for i in range(wave + 1):
        incident = incident_create(actor=None, title=f"Wave {i}", services=[service])
        incident_classify(incident=incident, actor=people["mara"], impact="high", urgency="high")
        incidents.append(incident.pk)
    print(json.dumps({"token": token, "key": integration.key, "ack": incidents[0],
                      "wave": incidents[1:]}))  # fmt: skip


def _retry(write, *args) -> None:
    while True:
        try:
            write(*args)
            return
        except Exception as exc:  # the database or the broker is away: try again, as a sender would
            print(f"retry: {type(exc).__name__}: {str(exc)[:120]}", file=sys.stderr, flush=True)
            connection.close()
            time.sleep(0.5)
        finally:
            close_old_connections()


def _webhooks(keys: list[str], url: str) -> None:
    with transaction.atomic():
        for key in keys:
            notification_enqueue(
                dedup_key=key,
                channel="webhook",
                address=url,
                template="page",
                context={"title": key},
            )


def writer() -> None:
    for line in sys.stdin:
        command, *args = line.split()
        if command == "batch":
            start, count, url = int(args[0]), int(args[1]), args[2]
            keys = [f"load:{i}" for i in range(start, start + count)]
            for offset in range(0, count, PER_TRANSACTION):
                _retry(_webhooks, keys[offset : offset + PER_TRANSACTION], url)
        elif command == "canary":
            name, url = args
            _retry(_webhooks, [f"canary:{name}"], f"{url}/{name}")
        print("done", line.strip(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "writer":
        writer()
