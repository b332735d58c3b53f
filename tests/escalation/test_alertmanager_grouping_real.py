"""A grouping rule against a real Prometheus Alertmanager (the machinery of
test_alertmanager_real.py): Alertmanager notifies per instance (its own group_by), the integration
groups by alertname, so three instances make one incident with three alerts, which resolves only
when the last of them has resolved."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from escalation.models import IncidentAlert
from incidents.models import OPEN_STATES, Incident, State
from tests.escalation.test_alertmanager_real import (  # noqa: F401 (fixtures)
    TIMEOUT,
    _rfc3339,
    alertmanagers,
    serialized_db,
)
from tests.factories import ServiceFactory


def config(webhook_url: str) -> str:
    return f"""\
route:
  receiver: escalation-webhook
  group_by: ['alertname', 'instance']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: escalation-webhook
    webhook_configs:
      - url: {json.dumps(webhook_url)}
        send_resolved: true
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_alertmanager_alerts_of_a_group_share_an_incident(
    live_server,
    alertmanagers,  # noqa: F811 (the fixture imported above)
    serialized_db,  # noqa: F811
):
    from escalation.services.integrations import integration_create

    service = ServiceFactory(slug="lager")
    webhook = integration_create(kind="alertmanager", service=service, name="Alertmanager")
    webhook.group_labels = ["alertname"]
    webhook.save()
    am = alertmanagers(config(f"{live_server.url}/api/v1/integrations/alertmanager/{webhook.key}/"))
    starts_at = datetime.now(UTC)

    def alert(instance: str, ends_at: datetime) -> dict:
        return {
            "labels": {"alertname": "DiskFull", "instance": instance, "severity": "warning"},
            "annotations": {"summary": f"Disk full on {instance}"},
            "startsAt": _rfc3339(starts_at),
            "endsAt": _rfc3339(ends_at),
        }

    def state() -> tuple[list[str], list[tuple[str, bool]]]:
        with serialized_db:
            incidents = [i.state for i in Incident.objects.order_by("pk")]
            alerts = [
                (a.labels["instance"], a.resolved_at is None)
                for a in IncidentAlert.objects.order_by("labels__instance")
            ]
        return incidents, alerts

    def wait_for(expected) -> None:
        deadline = time.monotonic() + TIMEOUT
        while state() != expected:
            if time.monotonic() > deadline:
                raise AssertionError(f"{state()} != {expected}\n{am.diagnostics()}")
            time.sleep(0.1)

    later = starts_at + timedelta(hours=1)
    am.post_alerts([alert(i, later) for i in ("a", "b", "c")])
    classified = str(State.CLASSIFIED)  # a warning pages nobody: classified on arrival
    wait_for(([classified], [("a", True), ("b", True), ("c", True)]))

    am.post_alerts([alert("a", datetime.now(UTC))])  # a resolves, b and c fire
    wait_for(([classified], [("a", False), ("b", True), ("c", True)]))
    [incident] = Incident.objects.all()
    assert incident.state in OPEN_STATES

    now = datetime.now(UTC)
    am.post_alerts([alert("b", now), alert("c", now)])
    wait_for(([str(State.RESOLVED)], [("a", False), ("b", False), ("c", False)]))
