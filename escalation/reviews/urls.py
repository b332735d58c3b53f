"""Console routes of reviews and actions (included under /console/)."""

from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("incidents/<int:pk>/review/", views.review_page, name="review"),
    path("incidents/<int:pk>/review.pdf", views.review_pdf, name="review_pdf"),
    path("incidents/<int:pk>/review/draft/", views.review_draft_view, name="draft"),
    path("incidents/<int:pk>/review/submit/", views.review_submit_view, name="submit"),
    path("incidents/<int:pk>/review/approve/", views.review_approve_view, name="approve"),
    path("incidents/<int:pk>/review/send-back/", views.review_send_back_view, name="send_back"),
    path("incidents/<int:pk>/review/actions/", views.action_add_view, name="action_add"),
    path("actions/", views.action_list, name="actions"),
    path("actions/<int:pk>/", views.action_detail, name="action"),
    path("actions/<int:pk>/complete/", views.action_complete_view, name="action_complete"),
    path("actions/<int:pk>/verdict/", views.action_verdict_view, name="action_verdict"),
    path("actions/<int:pk>/cancel/", views.action_cancel_view, name="action_cancel"),
]
