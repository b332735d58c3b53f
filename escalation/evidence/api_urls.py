"""API routes of the evidence app (included under /api/v1/ in config/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "incidents/<int:pk>/dossier/",
        api.IncidentDossierView.as_view(),
        name="api_incident_dossier",
    ),
]
