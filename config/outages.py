"""When the database or the broker cannot be reached: 503 with Retry-After, never a bare 500.

Senders such as Alertmanager and PagerDuty clients retry a 503 that says when (Retry-After); a
500 tells them nothing, and a person sees a stack-trace page in the middle of an incident. Every
surface answers the same way: the API and alert ingestion with the API's one JSON error shape
(code "service_unavailable"), everything else with a calm HTML page in the user's language
(templates/503.html, rendered without the database). The status page is served from its stored
files before any of this can happen (incidents/statuspage/middleware.py), so it keeps showing its
last copy.

`outage_response` is used by the DRF exception handler (escalation/api/errors.py) and by the
project's handler500 (config/urls.py), which Django calls for any exception a view or a middleware
did not handle, so an outage is recognised wherever it surfaces (a session saved after the view,
a repeat counted before the middleware stack).
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext

logger = logging.getLogger(__name__)


def _outage_types() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as BrokerError
    from redis import exceptions as redis_errors

    from config.broker import BrokerUnavailable

    return (
        OperationalError,  # database: refused, gone away, locked (SQLite), statement cancelled
        InterfaceError,  # database: a connection that was closed under us
        BrokerError,
        BrokerUnavailable,
        redis_errors.ConnectionError,
        redis_errors.TimeoutError,
    )


def is_outage(exc: BaseException | None) -> bool:
    """Whether `exc` (or an exception it was raised from) says a dependency is unreachable."""
    types = _outage_types()
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, types):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _api(request) -> bool:
    return request.path_info.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def outage_response(request, exc: BaseException) -> HttpResponse:
    """The 503 for this request's surface, with Retry-After."""
    seconds = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    logger.error("outage: answering 503 to %s %s: %r", request.method, request.path_info, exc)
    if _api(request):
        response = JsonResponse(
            {
                "code": "service_unavailable",
                "detail": gettext(
                    "The service is briefly unavailable. Please try again in a few seconds."
                ),
                "errors": {},
            },
            status=503,
        )
    else:
        # Without the request: no context processor may ask the database for the user.
        context = {"retry_after": seconds, "reload": request.method in ("GET", "HEAD")}
        body = render_to_string("503.html", context)
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = seconds
    response["Cache-Control"] = "no-store"
    return response
