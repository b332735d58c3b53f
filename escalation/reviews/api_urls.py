"""API routes of reviews and actions (included under /api/v1/ in config/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("incidents/<int:pk>/review/", api.ReviewView.as_view(), name="api_review"),
    path(
        "incidents/<int:pk>/review/submit/",
        api.ReviewSubmitView.as_view(),
        name="api_review_submit",
    ),
    path(
        "incidents/<int:pk>/review/approve/",
        api.ReviewApproveView.as_view(),
        name="api_review_approve",
    ),
    path(
        "incidents/<int:pk>/review/send-back/",
        api.ReviewSendBackView.as_view(),
        name="api_review_send_back",
    ),
    path("actions/", api.ActionListView.as_view(), name="api_actions"),
    path("actions/<int:pk>/", api.ActionDetailView.as_view(), name="api_action"),
    path(
        "actions/<int:pk>/complete/", api.ActionCompleteView.as_view(), name="api_action_complete"
    ),
    path("actions/<int:pk>/verdict/", api.ActionVerdictView.as_view(), name="api_action_verdict"),
    path("actions/<int:pk>/cancel/", api.ActionCancelView.as_view(), name="api_action_cancel"),
]
