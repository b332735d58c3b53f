"""Handing work to the broker without ever failing the caller for it.

Everything that goes to Celery after a commit is already recorded in the database (outbox rows,
clock rows, the status page's pending note): the broker message is only a latency hint, and the
beat sweep and tick pick up whatever was not handed over. So a broker that is down must not turn
a committed change into an error answer (a sender that gets 500 retries, and an alert is counted
twice). `publish` sends with one quick retry (CELERY_TASK_PUBLISH_RETRY_POLICY: a pooled
connection to a restarted Redis fails once) and a short connect timeout; after a failure it
stops trying for PAUSE_SECONDS in this process, so an outage costs a request nothing instead of
a connection attempt per message. `enqueue` and `enqueue_after_commit` log and swallow failures.
"""

import logging
import time

from django.db import transaction

logger = logging.getLogger(__name__)

# After a failed send, this process sends nothing for this long (the sweep covers the gap).
PAUSE_SECONDS = 5.0


class BrokerUnavailable(Exception):
    pass


class _State:
    paused_until = 0.0  # time.monotonic() until which sends are skipped
    failures = 0  # sends that failed or were skipped, since the process started (for /metrics)


state = _State()


def reset() -> None:
    """Forget an earlier failure (tests; a new broker URL)."""
    state.paused_until = 0.0


def publish(
    task: str, *, args=(), kwargs=None, countdown: float | None = None, queue: str | None = None
) -> None:
    """Send task `task` (its name) now, to `queue` or where CELERY_TASK_ROUTES sends it; raises
    BrokerUnavailable if the broker cannot take it."""
    if time.monotonic() < state.paused_until:
        state.failures += 1
        raise BrokerUnavailable("the broker failed moments ago; not trying again yet")
    from celery import current_app as app  # config.celery's app (config/__init__.py loads it)

    try:
        options = {"args": list(args)} if args else {}
        if kwargs:
            options["kwargs"] = kwargs
        if countdown is not None:
            options["countdown"] = countdown
        if queue is not None:
            options["queue"] = queue
        app.send_task(task, **options)  # retries as CELERY_TASK_PUBLISH_RETRY_POLICY says
    except Exception as exc:  # kombu/redis/OS errors of every kind: the caller carries on
        state.failures += 1
        state.paused_until = time.monotonic() + PAUSE_SECONDS
        raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc


def enqueue(task, *args, queue: str | None = None, **kwargs) -> bool:
    """Send a Celery task (the task object or its name) with these arguments (to `queue`, else
    where the routes send it); whether it was handed over. Never raises: a failure is logged, and
    the sweep or tick does the work later."""
    name = task if isinstance(task, str) else task.name
    try:
        publish(name, args=args, kwargs=kwargs, queue=queue)
    except BrokerUnavailable as exc:
        logger.warning("broker unavailable, %s left for the sweep: %s", name, exc)
        return False
    return True


def enqueue_after_commit(task, *args, **kwargs) -> None:
    """`enqueue` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
