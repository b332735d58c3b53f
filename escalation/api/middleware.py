"""The alert-storm short cut: count a repeated Events API v2 trigger before the middleware stack.

Enabled in config/settings.py, early (after StatusPageMiddleware). Nine of ten events in a storm
repeat the dedup key of an open incident; for those, sessions, authentication, locale, CSRF,
messages, axes and DRF decide nothing (the routing key is the credential, and count_repeat
checks it in the same statement that counts the event). So a POST to the Events API v2 URL whose
body is a plain JSON object that `plain_event` accepts as a trigger is counted here and answered
with the view's own 202. Anything else (not JSON, not plain, not a trigger, a new key, an
unknown routing key) goes on unchanged to EventsV2View, which answers it the full way; the
request remembers that its key is not a repeat, so the view does not try again.
"""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.urls import reverse
from django.utils import translation

from ..models import Integration
from ..services.integrations import count_repeat
from .ingest import accepted_body, plain_event


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")  # as DRF's JSONParser refuses NaN and Infinity


class RepeatedEventMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.path: str | None = None

    def __call__(self, request):
        if self.path is None:
            self.path = reverse("api_events_v2")
        if request.path_info == self.path and request.method == "POST":
            response = self._repeat(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _repeat(self, request) -> HttpResponse | None:
        if request.content_type != "application/json":
            return None
        if request.content_params.get("charset", "utf-8").lower() != "utf-8":
            return None
        try:
            data = json.loads(request.body.decode(), parse_constant=_no_constants)
        except (ValueError, RecursionError, RequestDataTooBig):  # the view explains (400, 413)
            return None
        event = plain_event(data) if isinstance(data, dict) else None
        if event is None or event["event_action"] != "trigger" or not event.get("dedup_key"):
            return None
        key = event["dedup_key"]
        if not count_repeat(
            key=event["routing_key"], kind=Integration.Kind.EVENTS_V2, dedup_key=key
        ):
            request.not_a_repeat = True
            return None
        response = HttpResponse(accepted_body(key), content_type="application/json", status=202)
        # What DRF and the middleware further down would have added (but Vary: an answer to a
        # POST is not cached).
        response.headers["Allow"] = "POST, OPTIONS"
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response


class ApiLanguageMiddleware:
    """The API (and its schema) speaks English unless the client asks for another language we
    ship in Accept-Language: ops tools expect English, whatever the site's default (German) or
    a browser session's language cookie. Enabled in config/settings.py right after
    LocaleMiddleware, which it overrides for /api/ paths only."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/api/"

    def __call__(self, request):
        if request.path_info.startswith(self.prefix):
            language = _accepted_language(request.headers.get("Accept-Language", ""))
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def _accepted_language(header: str) -> str:
    """The first language of the header we ship (by quality), else English."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    supported = {code for code, _name in settings.LANGUAGES}
    for code, _quality in parse_accept_lang_header(header[:255]):
        if code == "*":
            break
        try:
            variant = translation.get_supported_language_variant(code)
        except LookupError:
            continue
        if variant in supported:
            return variant
    return "en"
