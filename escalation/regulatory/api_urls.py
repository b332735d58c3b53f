"""API routes of regulatory reporting (included under /api/v1/ in config/urls.py)."""

from django.urls import path

from . import api

P = "incidents/<int:pk>/reporting/"
R = P + "reports/<int:report_pk>/"

urlpatterns = [
    path(P, api.ReportingView.as_view(), name="api_incident_reporting"),
    path(P + "assess/", api.AssessView.as_view(), name="api_reporting_assess"),
    path(P + "aware/", api.AwareView.as_view(), name="api_reporting_aware"),
    path(R + "draft/", api.DraftView.as_view(), name="api_reporting_draft"),
    path(R + "submit/", api.SubmitView.as_view(), name="api_reporting_submit"),
    path(R + "reference/", api.ReferenceView.as_view(), name="api_reporting_reference"),
]
