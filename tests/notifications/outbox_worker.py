"""A delivery worker as its own process, for tests/notifications/test_crash_recovery.py.

    python tests/notifications/outbox_worker.py seed COUNT URL   # queue COUNT webhooks, print ids
    python tests/notifications/outbox_worker.py deliver ID...    # run deliver_batch on the ids
    python tests/notifications/outbox_worker.py recover SECONDS  # sweep and deliver until all sent

The database comes from DATABASE_URL (a throwaway one the test made and migrated). `deliver` runs
exactly what a Celery worker runs for a batch (the task's body), so killing this process with
SIGKILL is a worker killed mid-batch.
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

from django.db import transaction  # noqa: E402

from notifications.models import Notification  # noqa: E402
from notifications.services import HAND_OFF_BATCH, notification_enqueue, notifications_sweep  # noqa: E402
from notifications.tasks import deliver_batch  # noqa: E402


def seed(count: int, url: str) -> None:
    with transaction.atomic():
        ids = [
            notification_enqueue(
                dedup_key=f"crash:{i}",
                channel="webhook",
                address=url,
                template="page",
                context={"title": f"Crash test {i}"},
            )[0].pk
            for i in range(count)
        ]
    print(json.dumps(ids))


def recover(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    open_states = ["pending", "sending", "failed"]
    while Notification.objects.filter(status__in=open_states).exists():
        if time.monotonic() > deadline:
            sys.exit("not all delivered in time")
        ids = notifications_sweep()
        for start in range(0, len(ids), HAND_OFF_BATCH):
            deliver_batch(ids[start : start + HAND_OFF_BATCH])
        time.sleep(0.2)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "seed":
        seed(int(args[0]), args[1])
    elif command == "deliver":
        deliver_batch([int(pk) for pk in args])
    elif command == "recover":
        recover(float(args[0]))
