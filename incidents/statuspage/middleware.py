"""Answer status page reads before the rest of the middleware stack.

Enabled in config/settings.py, right after SecurityMiddleware:

    "django.middleware.security.SecurityMiddleware",
    "incidents.statuspage.middleware.StatusPageMiddleware",
    ...

it answers a GET or HEAD of a status page URL from the stored bytes (views.artefact) without
sessions, authentication, the user's time zone, locale, CSRF, messages or axes: a public,
cookie-less page needs none of them, and then even a request with a stale session cookie touches
no database. Everything else passes through unchanged. bench/statuspage.py measures the app with
and without it.
"""

from django.conf import settings
from django.urls import reverse

from .views import ARTEFACTS, artefact


class StatusPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.paths: dict[str, str] | None = None

    def __call__(self, request):
        if self.paths is None:
            self.paths = {reverse(f"statuspage:{name}"): name for name in ARTEFACTS}
        name = self.paths.get(request.path_info)
        if name is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = artefact(request, name=name)
        # What XFrameOptionsMiddleware (later in the stack) would have added.
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response
