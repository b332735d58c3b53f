from django.urls import path

from . import views

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscriptions/<str:token>/confirm/", views.confirm, name="subscription_confirm"),
    path("subscriptions/<str:token>/", views.manage, name="subscription_manage"),
    path(
        "subscriptions/<str:token>/unsubscribe/", views.unsubscribe, name="subscription_unsubscribe"
    ),
]
