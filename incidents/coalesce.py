"""One queued Celery task covers every commit made before it starts.

Under an alert storm every web process commits many changes a second, and each wants the same
follow-up task (render the status page, fire the clocks just scheduled). A task sent with
`countdown=delay` starts no earlier than `delay` seconds later (the broker holds it), so it sees
every commit made until then: commits in that time need no task of their own. A margin of a
quarter of the delay covers a worker whose clock runs slightly ahead.
"""

import time


class Coalesced:
    instances: list["Coalesced"] = []  # tests reset them between tests

    def __init__(self, task: str, delay: float):
        self.task = task
        self.delay = delay
        self.until = 0.0  # time.monotonic() up to which a task sent earlier covers a commit
        Coalesced.instances.append(self)

    def send(self) -> bool:
        """Send the task unless one sent earlier covers now; whether it sent. Raises
        config.broker.BrokerUnavailable (the caller decides what to do without the broker)."""
        now = time.monotonic()
        if now < self.until:
            return False
        from config.broker import publish

        publish(self.task, countdown=self.delay)
        self.until = now + self.delay * 0.75
        return True
