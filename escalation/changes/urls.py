"""API routes of change events (included under /api/v1/ in config/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "integrations/events/v2/change/enqueue",
        api.ChangeEnqueueView.as_view(),
        name="api_change_events",
    ),
    path("incidents/<int:pk>/changes/", api.IncidentChangesView.as_view(), name="api_changes"),
]
