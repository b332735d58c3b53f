from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("oncall/", views.oncall_now, name="oncall"),
    path("matrix/", views.communication_matrix, name="matrix"),
    path(
        "incidents/<int:pk>/communication/",
        views.incident_communication,
        name="incident_communication",
    ),
]
