"""Console routes of business continuity (included under /console/continuity/)."""

from django.urls import path

from . import views

app_name = "continuity"

urlpatterns = [
    path("processes/", views.process_list, name="processes"),
    path("processes/new/", views.process_edit, name="process_new"),
    path("processes/<int:pk>/", views.process_detail, name="process"),
    path("processes/<int:pk>/edit/", views.process_edit, name="process_edit"),
    path("runbooks/", views.runbook_list, name="runbooks"),
    path("runbooks/new/", views.runbook_edit, name="runbook_new"),
    path("runbooks/<int:pk>/", views.runbook_detail, name="runbook"),
    path("runbooks/<int:pk>/edit/", views.runbook_edit, name="runbook_edit"),
    path("incidents/<int:pk>/workaround/", views.incident_workaround, name="workaround"),
    path("incidents/<int:pk>/concession/", views.incident_concession, name="concession"),
    path("incidents/<int:pk>/level/", views.incident_level, name="level"),
]
