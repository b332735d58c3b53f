"""Console routes of the evidence app (included under /console/ in config/urls.py)."""

from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("incidents/<int:pk>/dossier.pdf", views.dossier_pdf, name="dossier_pdf"),
    path("handbook/", views.handbook_html, name="handbook"),
    path("handbook.pdf", views.handbook_pdf, name="handbook_pdf"),
    path("handbook/changes/", views.handbook_changes, name="handbook_changes"),
]
