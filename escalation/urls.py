from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.board, name="board"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/action/<str:action>/", views.incident_action, name="incident_action"),
    path("incidents/<int:pk>/update/", views.incident_update, name="incident_update"),
    path("oncall/", views.oncall_now, name="oncall"),
    path("matrix/", views.communication_matrix, name="matrix"),
    path("matrix/new/", views.matrix_edit, name="matrix_new"),
    path("matrix/<int:pk>/", views.matrix_edit, name="matrix_edit"),
    path("matrix/<int:pk>/delete/", views.matrix_delete, name="matrix_delete"),
    path(
        "incidents/<int:pk>/communication/",
        views.incident_communication,
        name="incident_communication",
    ),
]
