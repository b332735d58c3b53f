"""Console routes of problems (included under /console/problems/)."""

from django.urls import path

from . import views

app_name = "problems"

urlpatterns = [
    path("", views.problem_list, name="list"),
    path("new/", views.problem_new, name="new"),
    path("<int:pk>/", views.problem_detail, name="detail"),
    path("<int:pk>/edit/", views.problem_edit, name="edit"),
    path("<int:pk>/link/", views.problem_link, name="link"),
    path("<int:pk>/unlink/", views.problem_unlink, name="unlink"),
    path("<int:pk>/do/<slug:action>/", views.problem_action, name="action"),
]
