"""The public status page (anonymous, cacheable): pages, feeds and Statuspage-shaped JSON."""

from django.urls import path

from . import views

app_name = "statuspage"

urlpatterns = [
    path(url, views.artefact, {"name": name}, name=name) for name, url in views.URLS.items()
]
