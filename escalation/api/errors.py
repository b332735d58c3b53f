"""One JSON shape for every API error: {"code": "...", "detail": "...", "errors": {field: [...]}}.

Domain errors (ApplicationError) keep their status (409 for an illegal transition, naming the
current state and the allowed transitions); DRF's errors keep theirs; an oversized body is 413; a
throttled client gets 429 with Retry-After and RateLimit-* headers; an unreachable database or
broker 503 with Retry-After (config/outages.py).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.outages import is_outage, outage_response
from incidents.exceptions import ApplicationError


def _messages(errs) -> list[str]:
    """Plain messages from DRF's nested detail (a list field's errors come keyed by position:
    `{0: ["..."]}`); the position is kept as a prefix when there is one."""
    if isinstance(errs, dict):
        return [
            f"{key}: {message}" if isinstance(key, int) and len(errs) > 1 else message
            for key, value in errs.items()
            for message in _messages(value)
        ]
    if isinstance(errs, list):
        return [message for value in errs for message in _messages(value)]
    return [str(errs)]


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        return {field: _messages(errs) for field, errs in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _messages(detail)}
    return {}


def api_exception_handler(exc, context):
    if is_outage(exc):  # the database or broker is unreachable: 503 with Retry-After
        return outage_response(context["request"], exc)
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": exc.message, "errors": {}}
        body.update(exc.extra)
        return Response(body, status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "code": "payload_too_large",
                "detail": _("The request body is too large."),
                "errors": {},
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "invalid",
            "detail": _("The input is not valid."),
            "errors": _flatten(exc.detail),
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "code": code if isinstance(code, str) else "error",
            "detail": str(detail),
            "errors": {},
        }
    if isinstance(exc, exceptions.Throttled):  # RateLimit-* come from the throttle (view.headers)
        response["Retry-After"] = str(int(exc.wait or 1))
    response.data = body
    return response
