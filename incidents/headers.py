"""Security headers on every answer, and no caching of what a signed-in person sees.

- Content-Security-Policy (settings.CONTENT_SECURITY_POLICY): scripts from this site only, so an
  injected <script> or on*-attribute does not run even if escaping ever failed; the templates
  keep their scripts in static files (console/site.js).
- Permissions-Policy (settings.PERMISSIONS_POLICY): no camera, microphone, location, ...
- Cache-Control "private, no-store" on every answer to a signed-in person (a session or an API
  token), unless the view said the answer is public (the status page: the same bytes for
  everybody). A shared cache or the browser's back button never keeps someone's incident.
"""

from django.conf import settings
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if self._personal(request) and "public" not in response.get("Cache-Control", ""):
            patch_cache_control(response, private=True, no_store=True)
        return response

    @staticmethod
    def _personal(request) -> bool:
        user = getattr(request, "user", None)  # absent where the status page answered early
        return bool(
            "HTTP_AUTHORIZATION" in request.META or (user is not None and user.is_authenticated)
        )
