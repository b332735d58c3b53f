"""API routes of maintenance windows (included under /api/v1/ in config/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("maintenances/", api.MaintenanceListView.as_view(), name="api_maintenances"),
    path("maintenances/<int:pk>/", api.MaintenanceDetailView.as_view(), name="api_maintenance"),
]
