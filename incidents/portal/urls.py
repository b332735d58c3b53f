from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/notice/", views.notice_text, name="notice"),
    path("incidents/<int:pk>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path(
        "subscriptions/<int:pk>/deactivate/",
        views.subscription_deactivate,
        name="subscription_deactivate",
    ),
]
