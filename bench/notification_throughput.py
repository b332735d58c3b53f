"""Benchmark: notifications through the outbox and Celery on Redis to a local webhook sink.

Writes N webhook notifications (in transactions of --batch, as real state changes would), each
handed to Celery after commit; real Celery workers claim, sign and POST them to an HTTP sink on
127.0.0.1, which records when each delivery id arrived. Prints messages per second (first commit
to last receipt) and commit -> receipt latency percentiles.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/em_bench REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/notification_throughput.py --messages 10000

The database in DATABASE_URL is dropped and recreated: never point it at real data.
"""

import argparse
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from clock_lateness import percentile, recreate_database  # noqa: E402

received: dict[str, float] = {}
rejected: list[str] = []
# The workers sign with this (they get it through the environment); the sink verifies with it.
SECRET = os.environ.setdefault("WEBHOOK_SECRET", f"whsec-bench-{uuid.uuid4().hex}")


def verified(headers, body: bytes) -> bool:
    """The signature over the body as received (README: Receiving webhooks), before the id."""
    signed = headers.get("X-Escalation-Timestamp", "").encode() + b"." + body
    expected = "v1=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Escalation-Signature", ""))


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if len(body) != length or not verified(self.headers, body):
            rejected.append(self.headers.get("X-Escalation-Delivery", ""))
            self.send_response(401)
        else:  # only a verified message counts, and only its first arrival
            received.setdefault(self.headers["X-Escalation-Delivery"], time.time())
            self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL.")
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from notifications.models import Notification
    from notifications.services import notification_enqueue

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = ThreadingHTTPServer(("127.0.0.1", port), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()

    queue = f"bench-{uuid.uuid4().hex}"
    os.environ["CELERY_QUEUE"] = queue  # the producer (this process) sends to the same queue
    from config.celery import app

    app.conf.task_default_queue = queue
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "VAR_DIR": tmp, "CELERY_QUEUE": queue}
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--loglevel=warning",
                    "--pool=threads",
                    f"--concurrency={args.concurrency}",
                    "-n",
                    f"bench{i}@%h",
                    "--without-mingle",
                    "--without-gossip",
                    "--prefetch-multiplier=8",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(args.workers)
        ]
        time.sleep(6)  # let the workers connect
        committed: dict[str, float] = {}
        start = time.time()
        for offset in range(0, args.messages, args.batch):
            with transaction.atomic():
                rows = []
                for i in range(offset, min(args.messages, offset + args.batch)):
                    n, _ = notification_enqueue(
                        dedup_key=f"bench:{i}",
                        channel="webhook",
                        address=f"http://127.0.0.1:{port}/hook",
                        template="page",
                        context={"incident_id": i, "title": f"Bench {i}"},
                    )
                    rows.append(str(n.delivery_id))
            now = time.time()
            committed.update(dict.fromkeys(rows, now))
        enqueue_seconds = time.time() - start
        deadline = time.time() + 600
        while len(received) < args.messages and time.time() < deadline:
            time.sleep(0.5)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    latencies = [received[k] - committed[k] for k in committed if k in received]
    last = max(received.values()) if received else start
    sent = Notification.objects.filter(status="sent").count()
    print(
        json.dumps(
            {
                "messages": args.messages,
                "received": len(received),
                "rows_sent": sent,
                "rejected_by_sink": len(rejected),
                "workers": args.workers,
                "threads_each": args.concurrency,
            }
        )
    )
    print(f"enqueue (write + commit + hand-off): {args.messages / enqueue_seconds:.0f} msg/s")
    print(f"throughput first commit -> last receipt: {len(received) / (last - start):.0f} msg/s")
    if latencies:
        print(
            f"commit -> receipt latency (s): p50 {percentile(latencies, 50):.3f}  "
            f"p99 {percentile(latencies, 99):.3f}  max {max(latencies):.3f}"
        )
    sink.shutdown()


if __name__ == "__main__":
    main()
