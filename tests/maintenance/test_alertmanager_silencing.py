"""A real Prometheus Alertmanager (both integrations: webhook and Events v2) against the live
server during a silencing maintenance window: its critical alert opens and classifies incidents
but pages nobody; when the window ends, the incidents still open are escalated, and a new alert
pages at once."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from escalation.maintenance.notices import notices_fire
from escalation.maintenance.services import maintenance_create, maintenance_update
from escalation.models import Page
from escalation.services.clocks import clocks_tick
from escalation.services.integrations import integration_create
from incidents.models import Incident, IncidentEvent
from tests.escalation.test_alertmanager_real import (  # noqa: F401 (fixtures)
    TIMEOUT,
    _rfc3339,
    alertmanager_config,
    alertmanagers,
    serialized_db,
)
from tests.factories import ServiceFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_alertmanager_alert_in_a_silenced_window_pages_nobody_until_it_ends(
    live_server,
    alertmanagers,  # noqa: F811
    serialized_db,  # noqa: F811
    manager,
):
    service = ServiceFactory(name="Kundenportal", slug="kundenportal")
    webhook = integration_create(kind="alertmanager", service=service, name="Alertmanager")
    events = integration_create(kind="events_v2", service=service, name="AM (Events v2)")
    now = datetime.now(UTC)
    window = maintenance_create(
        actor=manager, title="Datenbank-Upgrade", services=[service],
        starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=1), silence=True,
    )  # fmt: skip
    config = alertmanager_config(
        base_url=live_server.url, webhook_key=webhook.key, routing_key=events.key
    )
    # Alertmanager's PagerDuty receiver says "error" unless told: pass the alert's severity on.
    config = config.replace(
        "        routing_key:", "        severity: critical\n        routing_key:"
    )
    am = alertmanagers(config)

    def alert(name: str) -> dict:
        return {
            "labels": {"alertname": name, "severity": "critical", "service": service.slug},
            "annotations": {"summary": f"{name}: Kundenportal nicht erreichbar"},
            "startsAt": _rfc3339(datetime.now(UTC)),
        }

    def classified(name: str) -> list[Incident]:
        """Wait for the incidents of both integrations, then classify them as the worker does."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            with serialized_db:
                found = list(Incident.objects.filter(title__contains=name))
            if len(found) == 2:
                break
            time.sleep(0.1)
        assert len(found) == 2, f"expected 2 incidents for {name}: {found}\n{am.diagnostics()}"
        with serialized_db:
            clocks_tick()
            return list(Incident.objects.filter(title__contains=name).order_by("pk"))

    am.post_alerts([alert("DbDown")])
    during = classified("DbDown")
    with serialized_db:
        assert [i.state for i in during] == ["classified", "classified"]
        assert [i.priority for i in during] == [1, 1]
        assert not Page.objects.exists()
        assert IncidentEvent.objects.filter(kind="escalation_silenced").count() == 2

        # The window ends (moved to end now): its end notice releases what it held back.
        ended = datetime.now(UTC) - timedelta(seconds=1)
        maintenance_update(window=window, actor=manager, ends_at=ended)
        notices_fire()
        assert {i.state for i in Incident.objects.filter(pk__in=[i.pk for i in during])} == {
            "escalated"
        }
        assert Page.objects.filter(incident__in=during, user=manager).count() == 2

    am.post_alerts([alert("CacheDown")])
    after = classified("CacheDown")
    with serialized_db:
        assert [i.state for i in after] == ["escalated", "escalated"]
        assert Page.objects.filter(incident__in=after, user=manager).count() == 2
