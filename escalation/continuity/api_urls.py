"""API routes of business continuity (included under /api/v1/ in config/urls.py, before the
core's routes: its workaround action extends the core's at the same URL)."""

from django.urls import path

from . import api

urlpatterns = [
    path("processes/", api.ProcessListView.as_view(), name="api_processes"),
    path("processes/<int:pk>/", api.ProcessDetailView.as_view(), name="api_process"),
    path("runbooks/", api.RunbookListView.as_view(), name="api_runbooks"),
    path("runbooks/<int:pk>/", api.RunbookDetailView.as_view(), name="api_runbook"),
    path(
        "incidents/<int:pk>/continuity/",
        api.IncidentContinuityView.as_view(),
        name="api_incident_continuity",
    ),
    path(
        "incidents/<int:pk>/workaround/",
        api.IncidentWorkaroundView.as_view(),
        name="api_incident_workaround",
    ),
]
