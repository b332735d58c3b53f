"""The Celery app and every beat schedule (each with the reason for its period)."""

import os

from celery import Celery
from celery.signals import beat_init, before_task_publish, worker_ready
from django.conf import settings

from . import safefs  # noqa: F401 (registers the embedded default's safefs:// transport)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("escalation_manager")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _ensure_queue_folder(sender, **kwargs):
    # The file-system broker (config/safefs.py) needs its folders before the first message.
    if sender.conf.broker_url.startswith(("safefs://", "filesystem://")):
        settings.CELERY_QUEUE_DIR.mkdir(parents=True, exist_ok=True)
        for folder in ("processed", "control"):
            (settings.CELERY_QUEUE_DIR.parent / folder).mkdir(parents=True, exist_ok=True)


@before_task_publish.connect
def _beat_heartbeat(sender=None, **kwargs):
    # Beat (the only sender of the heartbeat task) records when it sent it: with the worker's
    # record of running it, /healthz tells a dead scheduler from a dead worker.
    if sender == "incidents.tasks.heartbeat":
        from incidents.heartbeats import heartbeat_note

        heartbeat_note("beat")


@beat_init.connect
def _beat_started(sender=None, **kwargs):
    # A first heartbeat at start: beat sends the heartbeat task only a period later.
    from incidents.heartbeats import heartbeat_note

    heartbeat_note("beat")


@worker_ready.connect
def _worker_started(sender=None, **kwargs):
    from incidents.heartbeats import heartbeat_note

    consumed = (
        set(sender.app.amqp.queues.consume_from or sender.app.amqp.queues) if sender else set()
    )
    if not consumed or settings.CELERY_TASK_DEFAULT_QUEUE in consumed:
        heartbeat_note("worker")
    if not consumed or settings.CELERY_PAGES_QUEUE in consumed:
        heartbeat_note("worker-pages")
    if not consumed or settings.CELERY_CLOCKS_QUEUE in consumed:
        heartbeat_note("worker-clocks")


app.conf.beat_schedule = {
    # A liveness signal: the worker logs it and stores the time, so an operator (and the
    # health check) sees that beat and worker are both running. A minute is frequent enough to
    # notice a dead scheduler long before any clock (those tick every few seconds) matters.
    "heartbeat": {
        "task": "incidents.tasks.heartbeat",
        "schedule": settings.CELERY_HEARTBEAT_SECONDS,
        "options": {"queue": settings.CELERY_TASK_DEFAULT_QUEUE},
    },
    # The same for the pages queue's worker: a dead pages worker means nobody is paged.
    "heartbeat-pages": {
        "task": "incidents.tasks.heartbeat",
        "schedule": settings.CELERY_HEARTBEAT_SECONDS,
        "args": ("worker-pages",),
        "options": {"queue": settings.CELERY_PAGES_QUEUE},
    },
    # And for the clocks queue's worker: a dead one means nobody is classified or escalated.
    "heartbeat-clocks": {
        "task": "incidents.tasks.heartbeat",
        "schedule": settings.CELERY_HEARTBEAT_SECONDS,
        "args": ("worker-clocks",),
        "options": {"queue": settings.CELERY_CLOCKS_QUEUE},
    },
    # The clocks: classifying new incidents, next escalation level, ladder steps, updates due (on
    # the clocks queue: CELERY_TASK_ROUTES). The database rows are the truth; this tick only looks
    # for what is due. Every 2 s keeps a clock's lateness within about
    # 2 s (the benchmark in bench/clock_lateness.py measures it) at a cost of one indexed query.
    "clock-tick": {"task": "escalation.tasks.clock_tick", "schedule": settings.CLOCK_TICK_SECONDS},
    # The outbox sweep: retries that are due, messages whose hand-off to the broker was lost, and
    # messages of workers that died mid-send. 15 s bounds the extra delay such a loss costs.
    "notification-sweep": {
        "task": "notifications.tasks.sweep",
        "schedule": settings.NOTIFICATION_SWEEP_SECONDS,
    },
    # Executives get one digest of every open escalation instead of asking the team; its period is
    # the product setting EXECUTIVE_DIGEST_MINUTES (the task's dedup key makes a repeat harmless).
    "executive-digest": {
        "task": "escalation.tasks.executive_digest",
        "schedule": max(60, settings.EXECUTIVE_DIGEST_MINUTES * 60),
    },
    # Re-verify every incident's hash chain; an auditor wants tampering noticed within the day,
    # and an hour keeps the cost (one pass over the timeline table) negligible.
    "verify-timelines": {"task": "incidents.tasks.timeline_verify_all", "schedule": 3600.0},
    # On-call schedules imported from a calendar URL: their shifts change; an hour is what
    # calendar clients refresh at too.
    "schedule-imports-refresh": {
        "task": "escalation.tasks.schedule_imports_refresh",
        "schedule": 3600.0,
    },
    # The public status page is rendered on every customer-visible change; this re-render moves
    # what time alone changes (today's uptime bar, "for 2 hours", a new day) and repairs a render
    # that failed after a commit. Five minutes is finer than a day's bar needs and costs one
    # render (a handful of queries) per period.
    "status-page-render": {"task": "incidents.tasks.status_page_render", "schedule": 300.0},
    # Maintenance notices (72 h and 1 h before, at the start, at the end) are rows with a due
    # time; a minute is punctual enough for an announcement and costs one indexed query.
    "maintenance-notices": {
        "task": "escalation.maintenance.tasks.maintenance_notices_tick",
        "schedule": 60.0,
    },
    # Regulatory report reminders (50 %, 80 % of each period, on breach) are rows with a due time;
    # the shortest period is 4 hours, so a minute's lateness is negligible, for one indexed query.
    "regulatory-reminders": {
        "task": "escalation.regulatory.tasks.regulatory_tick",
        "schedule": 60.0,
    },
    # Corrective actions' reminders, overdue notices and effectiveness checks fall due on days
    # (at 09:00); a quarter of an hour is punctual enough and costs one indexed query.
    "capa-actions": {"task": "escalation.reviews.tasks.capa_tick", "schedule": 900.0},
}
