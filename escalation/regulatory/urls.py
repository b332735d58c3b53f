"""Console routes of regulatory reporting (included under /console/reporting/)."""

from django.urls import path

from . import views

app_name = "regulatory"

urlpatterns = [
    path("", views.reporting_list, name="list"),
    path("incidents/<int:pk>/", views.incident_reporting, name="incident"),
    path("incidents/<int:pk>/aware/", views.awareness_change, name="aware"),
    path("incidents/<int:pk>/assess/<int:regime_pk>/", views.assessment_record, name="assess"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/submit/", views.report_submit_view, name="submit"),
    path("reports/<int:pk>/redraft/", views.report_redraft_view, name="redraft"),
    path("reports/<int:pk>/reference/", views.report_reference_view, name="reference"),
    path("reports/<int:pk>/pdf/", views.report_pdf, name="pdf"),
]
