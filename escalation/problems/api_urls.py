"""API routes of problems (included under /api/v1/ in config/urls.py)."""

from django.urls import path, re_path

from . import api

urlpatterns = [
    path("problems/", api.ProblemListView.as_view(), name="api_problems"),
    path("problems/<int:pk>/", api.ProblemDetailView.as_view(), name="api_problem"),
    path("problems/<int:pk>/link/", api.ProblemLinkView.as_view(), name="api_problem_link"),
    path("problems/<int:pk>/unlink/", api.ProblemUnlinkView.as_view(), name="api_problem_unlink"),
    re_path(
        r"^problems/(?P<pk>[0-9]+)/(?P<action>investigate|known_error|resolve|close|reopen)/$",
        api.ProblemTransitionView.as_view(),
        name="api_problem_transition",
    ),
    path(
        "incidents/<int:pk>/known-errors/",
        api.IncidentKnownErrorsView.as_view(),
        name="api_incident_known_errors",
    ),
]
