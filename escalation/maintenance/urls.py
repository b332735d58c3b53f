"""Console routes of maintenance windows (included under /console/maintenance/)."""

from django.urls import path

from . import views

app_name = "maintenance"

urlpatterns = [
    path("", views.maintenance_list, name="list"),
    path("new/", views.maintenance_edit, name="new"),
    path("<int:pk>/", views.maintenance_edit, name="edit"),
    path("<int:pk>/delete/", views.maintenance_delete_view, name="delete"),
]
