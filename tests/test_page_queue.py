"""No volume of subscriber webhooks can delay a page (issue 15, High 1): real Celery workers, one
per queue as `make run` and docker-compose.yml start them, and a tarpit on 127.0.0.1 that holds
every webhook for HOLD seconds. While the default worker's every slot hangs in the tarpit, a P1
page (from a real classification) reaches the SMTP server within seconds, long before any tarpit
request is answered. With pages on the default queue (NOTIFICATION_PAGE_TEMPLATES=none) the page
does not arrive within HOLD seconds (the issue measured 0.6 s -> 30 s before the pages queue).

Embedded default only (SQLite file, file-system broker, own VAR_DIR): the queue choice does not
depend on the broker, and the routing itself is tested on every backend in
tests/notifications/test_queues.py."""

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.servers import SMTPRecorder, free_port

ROOT = Path(__file__).resolve().parent.parent
HOLD = 40.0  # seconds the tarpit holds each request
SUBSCRIBER_MESSAGES = 8  # one task each: more than the default worker's two slots

SETUP = """
from django.db import transaction
from notifications.services import notification_enqueue
for n in range({count}):
    with transaction.atomic():  # one hand-off (one task) per message
        notification_enqueue(
            dedup_key=f"subscriber:{{n}}", channel="webhook", address="{url}",
            template="customer_update", context={{"title": "Wartung"}},
            signing_secret="whsec_tarpit",
        )
"""

PAGE = """
import time
from django.contrib.auth.models import Group
from django.db import transaction
from escalation import roles
from escalation.services import incident_classify
from tests.factories import IncidentFactory, UserFactory
manager = UserFactory(username="mara.manager", email="mara@example.org", is_staff=True)
manager.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
with transaction.atomic():
    incident_classify(
        incident=IncidentFactory(title="Kundenportal down"), actor=manager,
        impact="high", urgency="high",
    )
print("committed", time.time())
"""


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated SQLite database folder: each test starts its workers on a copy of it."""
    var = tmp_path_factory.mktemp("migrated")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(var))
    out = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return var


def copy_database(migrated: Path, var: Path) -> None:
    var.mkdir(parents=True)
    for path in migrated.glob("db.sqlite3*"):  # with its WAL, if one is left
        shutil.copyfile(path, var / path.name)


class Tarpit:
    def __init__(self):
        self.started: list[float] = []
        self.answered: list[float] = []
        tarpit = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                tarpit.started.append(time.time())
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(HOLD)
                self.send_response(200)
                self.end_headers()
                tarpit.answered.append(time.time())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="the embedded default runs in the SQLite pass"
)
def test_a_p1_page_leaves_while_subscriber_webhooks_hang_in_a_tarpit(tmp_path, migrated):
    tarpit = Tarpit()
    smtp = SMTPRecorder()
    arrivals: list[float] = []
    original = smtp.handle_DATA

    async def handle_data(server, session, envelope):
        arrivals.append(time.time())
        return await original(server, session, envelope)

    smtp.handle_DATA = handle_data
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    controller.start()

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1", WEBHOOK_TIMEOUT_SECONDS=str(HOLD + 30),
        EMAIL_BACKEND="notifications.mail.EmailBackend",
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(controller.port),
        OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8",  # the tarpit is on loopback
    )  # fmt: skip

    def manage(*args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout

    copy_database(migrated, tmp_path / "var")
    logs, workers = [], []
    for name, queue, concurrency in (("default", "celery", 2), ("pages", "pages", 1)):
        log = (tmp_path / f"{name}.log").open("w")
        logs.append(log)
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    queue,
                    "-n",
                    f"{name}@%h",
                    f"--concurrency={concurrency}",
                    "--loglevel=info",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    try:
        manage("shell", "-c", SETUP.format(count=SUBSCRIBER_MESSAGES, url=tarpit.url))
        deadline = time.monotonic() + 60
        while len(tarpit.started) < 2:  # both slots of the default worker are held
            assert time.monotonic() < deadline, (tmp_path / "default.log").read_text()[-3000:]
            time.sleep(0.2)

        committed = float(manage("shell", "-c", PAGE).split("committed")[-1])
        deadline = time.monotonic() + HOLD
        while not arrivals and time.monotonic() < deadline:
            time.sleep(0.1)
        assert arrivals, (tmp_path / "pages.log").read_text()[-3000:]
        [page] = smtp.messages
        assert "Kundenportal down" in page["Subject"]
        assert arrivals[0] - committed < 15  # its normal time: a poll, a render, an SMTP dialogue
        assert tarpit.answered == []  # ... while every subscriber webhook still hangs
        assert len(tarpit.started) == 2  # the default worker is still stuck on the first two
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        for log in logs:
            log.close()
        controller.stop()
        tarpit.server.shutdown()


BACKLOG = 60  # new P1 incidents waiting to be classified, each escalated and paged in turn

STORM = """
from django.contrib.auth.models import Group
from django.db import transaction
from escalation import roles
from escalation.services import incident_open
from tests.factories import UserFactory
manager = UserFactory(username="mara.manager", email="mara@example.org", is_staff=True)
manager.groups.add(Group.objects.get(name=roles.ESCALATION_MANAGER))
with transaction.atomic():  # as an alert storm's ingest leaves them: a classify clock each, due
    for n in range({count}):
        incident_open(
            actor=None, title=f"Storm {{n:03d}}", source="api", impact="high", urgency="high",
            classify_later=True,
        )
"""


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="the embedded default runs in the SQLite pass"
)
def test_pages_leave_while_the_clock_tick_still_works_through_a_storm(tmp_path, migrated):
    """Issue 17: the clock tick that classifies and escalates an alert storm's incidents ran on
    the pages queue and held its worker until every due clock was done, so no page left before
    the whole storm was classified. On a queue of its own (the clocks worker, one process, as
    `make run` starts it), the first page reaches the SMTP server while the storm still waits to
    be classified, and in the end every incident's page arrives, once."""
    smtp = SMTPRecorder()
    db = tmp_path / "var" / "db.sqlite3"
    backlog_at_first_page: list[dict] = []
    original = smtp.handle_DATA

    async def handle_data(server, session, envelope):
        if not backlog_at_first_page:  # what the clock tick had still to do at that moment
            with sqlite3.connect(db, timeout=10) as conn:
                counts = conn.execute(
                    "SELECT status, COUNT(*) FROM escalation_clock WHERE kind = 'classify' "
                    "GROUP BY status"
                ).fetchall()
            backlog_at_first_page.append(dict(counts))
        return await original(server, session, envelope)

    smtp.handle_DATA = handle_data
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1", EMAIL_BACKEND="notifications.mail.EmailBackend",
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(controller.port),
    )  # fmt: skip

    def manage(*args: str) -> None:
        out = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr

    copy_database(migrated, tmp_path / "var")
    logs, workers = {}, []
    for name, queue in (("pages", "pages"), ("clocks", "clocks")):
        logs[name] = tmp_path / f"{name}.log"
        argv = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
            "-n", f"{name}@%h", "--concurrency=1", "--loglevel=info",
            "--without-mingle", "--without-gossip",
        ]  # fmt: skip
        with logs[name].open("w") as log:
            workers.append(
                subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
    try:
        deadline = time.monotonic() + 90
        while not all(" ready." in log.read_text() for log in logs.values()):
            assert time.monotonic() < deadline, logs["clocks"].read_text()[-3000:]
            time.sleep(0.2)

        manage("shell", "-c", STORM.format(count=BACKLOG))  # commits, then kicks the tick
        deadline = time.monotonic() + 240
        while len(smtp.messages) < BACKLOG and time.monotonic() < deadline:
            time.sleep(0.2)

        [backlog] = backlog_at_first_page
        # The first page left while the tick was still classifying the storm (on the pages
        # queue, the tick held the only process until every clock was done: nothing waited).
        assert backlog.get("pending", 0) + backlog.get("claimed", 0) > 0, backlog
        # ... and nothing was lost or sent twice: one page per incident, every clock done.
        subjects = sorted(message["Subject"] for message in smtp.messages)
        assert len(subjects) == BACKLOG, logs["pages"].read_text()[-3000:]
        assert len({s for s in subjects if "Storm" in s}) == BACKLOG, subjects[:3]
        with sqlite3.connect(db, timeout=10) as conn:
            assert conn.execute(
                "SELECT status, COUNT(*) FROM escalation_clock WHERE kind = 'classify' "
                "GROUP BY status"
            ).fetchall() == [("done", BACKLOG)]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        controller.stop()
