"""Writes of change events."""

from datetime import datetime

from django.utils import timezone

from escalation.models import Integration

from .models import ChangeEvent


def change_event_record(
    *,
    integration: Integration,
    summary: str,
    source: str = "",
    occurred_at: datetime | None = None,
    custom_details=None,
    links: list | None = None,
) -> ChangeEvent:
    """Store one change on the integration's service (one INSERT, no transaction needed)."""
    now = timezone.now()
    return ChangeEvent.objects.create(
        service=integration.service,
        integration=integration,
        summary=summary,
        source=source,
        occurred_at=occurred_at or now,
        custom_details=custom_details,
        links=links or [],
        received_at=now,
    )
