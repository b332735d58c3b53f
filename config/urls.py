import sys

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import page_not_found, server_error
from django.views.generic import RedirectView

from config import metrics
from config.outages import is_outage, outage_response
from escalation import views as escalation_views
from incidents.portal import views as portal_views

admin.site.site_header = _("Escalation Manager")
admin.site.site_title = _("Escalation Manager")
admin.site.index_title = _("Incidents, classification and configuration")


def _api_or_html(default):
    """API paths answer errors in the API's JSON shape; everything else gets the HTML page. A
    database or broker outage is a 503 with Retry-After (config/outages.py)."""

    def handler(request, *args, **kwargs):
        if default is server_error:
            exc = sys.exc_info()[1]  # Django calls handler500 inside its `except` block
            if is_outage(exc):
                return outage_response(request, exc)
        if request.path.startswith("/api/"):
            status = 404 if default is page_not_found else 500
            detail = gettext("Not found.") if status == 404 else gettext("Server error.")
            code = "not_found" if status == 404 else "server_error"
            return JsonResponse({"code": code, "detail": detail, "errors": {}}, status=status)
        return default(request, *args, **kwargs)

    return handler


handler404 = _api_or_html(page_not_found)
handler500 = _api_or_html(server_error)

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("accounts/login/", portal_views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_reset/",
        portal_views.PasswordResetView.as_view(),
        name="password_reset",
    ),  # throttled
    path("accounts/profile/", escalation_views.profile, name="profile"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", metrics.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("console/", include("escalation.urls")),
    path("ack/<str:token>/", escalation_views.ack_link, name="ack_link"),
    path("oncall/<int:pk>/<str:token>.ics", escalation_views.schedule_ical, name="schedule_ical"),
    path(
        "oncall/people/<int:pk>/<str:token>.ics", escalation_views.person_ical, name="person_ical"
    ),
    # before the core API: its workaround action extends the core's at the same URL
    path("api/v1/", include("escalation.continuity.api_urls")),
    path("api/v1/", include("escalation.api.urls")),
    path("api/v1/", include("escalation.changes.urls")),
    path("api/v1/", include("escalation.maintenance.api_urls")),
    path("api/v1/", include("escalation.problems.api_urls")),
    path("console/maintenance/", include("escalation.maintenance.urls")),
    path("console/problems/", include("escalation.problems.urls")),
    path("api/v1/", include("escalation.evidence.api_urls")),
    path("console/", include("escalation.evidence.urls")),
    path("api/v1/", include("escalation.regulatory.api_urls")),
    path("console/reporting/", include("escalation.regulatory.urls")),
    path("console/continuity/", include("escalation.continuity.urls")),
    path("api/v1/", include("escalation.reviews.api_urls")),
    path("console/", include("escalation.reviews.urls")),
    path("portal/", include("incidents.portal.urls")),
    path("dashboard/", include("escalation.dashboard.urls")),
    path("status/", include("incidents.statuspage.urls")),
    path("", include("notifications.urls")),
]
