from django.urls import path

from . import integration_views, oncall_views, people_views, report_views, views

app_name = "console"

urlpatterns = [
    path("", views.board, name="board"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/action/<str:action>/", views.incident_action, name="incident_action"),
    path("incidents/<int:pk>/update/", views.incident_update, name="incident_update"),
    path("incidents/<int:pk>/publish/", views.public_publish, name="public_publish"),
    path("incidents/<int:pk>/public-update/", views.public_update, name="public_update"),
    path("incidents/<int:pk>/sla/pause/", views.sla_pause_view, name="sla_pause"),
    path("incidents/<int:pk>/sla/resume/", views.sla_resume_view, name="sla_resume"),
    path(
        "incidents/<int:pk>/people/commander/",
        people_views.commander_change,
        name="people_commander",
    ),
    path("incidents/<int:pk>/people/role/", people_views.role_assign, name="people_role"),
    path(
        "incidents/<int:pk>/people/pull-in/",
        people_views.responder_pull_in,
        name="people_pull_in",
    ),
    path("oncall/", views.oncall_now, name="oncall"),
    path("oncall/<int:pk>/", oncall_views.schedule_detail, name="oncall_schedule"),
    path("oncall/<int:pk>/override/", oncall_views.override_create, name="oncall_override"),
    path("oncall/<int:pk>/import/", oncall_views.calendar_import, name="oncall_import"),
    path(
        "oncall/<int:pk>/override/<int:override_pk>/delete/",
        oncall_views.override_delete,
        name="oncall_override_delete",
    ),
    path("matrix/", views.communication_matrix, name="matrix"),
    path("matrix/new/", views.matrix_edit, name="matrix_new"),
    path("matrix/<int:pk>/", views.matrix_edit, name="matrix_edit"),
    path("matrix/<int:pk>/delete/", views.matrix_delete, name="matrix_delete"),
    path("integrations/", integration_views.integration_list, name="integrations"),
    path("integrations/<int:pk>/", integration_views.integration_edit, name="integration_edit"),
    path("questions/", views.questions, name="questions"),
    path("questions/<int:pk>/answer/", views.question_answer, name="question_answer"),
    path(
        "incidents/<int:pk>/communication/",
        views.incident_communication,
        name="incident_communication",
    ),
    *report_views.urlpatterns,  # SLA reports: /console/reports/...
]
