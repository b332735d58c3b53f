"""Alert ingestion endpoints, compatible with PagerDuty's Events API v2 and Alertmanager's webhook:
monitoring only changes a URL. The integration key is the credential (routing key or URL part)."""

import json
import uuid

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Integration
from ..services.integrations import (
    alertmanager_events,
    count_repeat,
    event_ingest,
    events_v2_event,
)
from .parsers import SafeJSONParser
from .serializers import Text

SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")


class _PayloadSerializer(serializers.Serializer):
    summary = Text(max_length=1024)
    source = Text(max_length=255)
    severity = serializers.ChoiceField(choices=SEVERITIES)
    custom_details = serializers.JSONField(required=False, allow_null=True)
    component = serializers.CharField(required=False, allow_blank=True)
    group = serializers.CharField(required=False, allow_blank=True)
    timestamp = serializers.CharField(required=False, allow_blank=True)


# "class" is a keyword: declared after the class body (PagerDuty's payload.class, e.g. "disk").
_PayloadSerializer._declared_fields["class"] = serializers.CharField(
    required=False, allow_blank=True
)


class EventsV2Serializer(serializers.Serializer):
    routing_key = Text(max_length=64)
    event_action = serializers.ChoiceField(choices=ACTIONS)
    dedup_key = serializers.CharField(max_length=255, required=False, allow_blank=True)
    payload = _PayloadSerializer(required=False)
    links = serializers.ListField(child=serializers.DictField(), required=False)
    images = serializers.ListField(child=serializers.DictField(), required=False)
    client = serializers.CharField(required=False, allow_blank=True)
    client_url = serializers.CharField(required=False, allow_blank=True)

    def validate(self, data):
        if data["event_action"] == "trigger" and "payload" not in data:
            raise serializers.ValidationError({"payload": ["payload is required for trigger"]})
        if data["event_action"] != "trigger" and not data.get("dedup_key"):
            raise serializers.ValidationError({"dedup_key": ["dedup_key is required"]})
        return data


def _plain_text(value, *, max_length: int, blank: bool = False) -> bool:
    """A string DRF's CharField takes as it is: nothing to trim, no NUL, no lone surrogate."""
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        return False
    if value != value.strip() or (not value and not blank):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate, which DRF refuses
        return False
    return True


_PAYLOAD_TEXTS = {"summary": 1024, "source": 255}
_PAYLOAD_OPTIONAL = ("component", "group", "class", "timestamp")


def plain_event(data: dict) -> dict | None:
    """The usual well-formed event, checked without EventsV2Serializer (which costs more than the
    rest of the request: DRF deep-copies every field of it and of the payload per request).
    Returns exactly the serializer's validated data, or None for anything it does not decide at a
    glance (a missing or mistyped field, text to trim, an unknown key's absence is fine): those go
    through the serializer, which accepts them or explains. It never accepts what the serializer
    refuses (a hypothesis property in tests/escalation/test_api_fast_paths.py)."""
    action = data.get("event_action")
    if action not in ACTIONS or not _plain_text(data.get("routing_key"), max_length=64):
        return None
    out = {"routing_key": data["routing_key"], "event_action": action}
    for name, max_length in (("dedup_key", 255), ("client", 2**31), ("client_url", 2**31)):
        if name in data:
            if not _plain_text(data[name], max_length=max_length, blank=True):
                return None
            out[name] = data[name]
    if action != "trigger" and not out.get("dedup_key"):
        return None
    if "payload" in data:
        payload = data["payload"]
        if not isinstance(payload, dict) or payload.get("severity") not in SEVERITIES:
            return None
        if not all(_plain_text(payload.get(k), max_length=n) for k, n in _PAYLOAD_TEXTS.items()):
            return None
        checked = {"summary": payload["summary"], "source": payload["source"]}
        checked["severity"] = payload["severity"]
        if "custom_details" in payload:
            checked["custom_details"] = payload["custom_details"]
        for name in _PAYLOAD_OPTIONAL:
            if name in payload:
                if not _plain_text(payload[name], max_length=2**31, blank=True):
                    return None
                checked[name] = payload[name]
        out["payload"] = checked
    elif action == "trigger":
        return None
    for name in ("links", "images"):
        if name in data:
            items = data[name]
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                return None
            out[name] = items
    return out


def _pd_invalid(errors: list[str], message: str = "Event object is invalid") -> Response:
    return Response(
        {"status": "invalid event", "message": message, "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


class _Ingest(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes = [SafeJSONParser]
    ingest = True


@extend_schema(
    tags=["ingest"],
    request=EventsV2Serializer,
    responses={
        202: inline_serializer(
            "EventAccepted",
            {
                "status": serializers.CharField(),
                "message": serializers.CharField(),
                "dedup_key": serializers.CharField(),
            },
        ),
        400: inline_serializer(
            "EventInvalid",
            {
                "status": serializers.CharField(),
                "message": serializers.CharField(),
                "errors": serializers.ListField(),
            },
        ),
    },
    summary="Events API v2 (PagerDuty-compatible) enqueue",
)
class EventsV2View(_Ingest):
    def handle_exception(self, exc):
        """Even a body that is not JSON gets PagerDuty's error shape."""
        if isinstance(exc, exceptions.APIException) and exc.status_code in (400, 415):
            return _pd_invalid([str(exc.detail)])
        return super().handle_exception(exc)

    def post(self, request):
        if not isinstance(request.data, dict):
            return _pd_invalid(["The body must be a JSON object."])
        v = plain_event(request.data)
        if v is None:
            data = EventsV2Serializer(data=request.data)
            if not data.is_valid():
                return _pd_invalid(
                    [
                        f"{field}: {'; '.join(str(e) for e in errs)}"
                        for field, errs in _flat(data.errors).items()
                    ]
                )
            v = data.validated_data
        dedup_key = v.get("dedup_key") or ""
        tried = v["event_action"] == "trigger" and bool(dedup_key)
        # RepeatedEventMiddleware may have tried already (a plain event): no second UPDATE.
        if (
            tried
            and not getattr(request, "not_a_repeat", False)
            and count_repeat(
                key=v["routing_key"], kind=Integration.Kind.EVENTS_V2, dedup_key=dedup_key
            )
        ):
            return _accepted(dedup_key)  # a repeat, counted on its open incident
        integration = (
            Integration.objects.filter(
                key=v["routing_key"], kind=Integration.Kind.EVENTS_V2, is_active=True
            )
            .select_related("service")
            .first()
        )
        if integration is None:
            return _pd_invalid(
                ["routing_key: unknown or inactive integration key"], "Invalid routing key"
            )
        if not dedup_key:  # PagerDuty generates one for a trigger without a key
            dedup_key = uuid.uuid4().hex
        event_ingest(
            integration=integration,
            known_new=tried,
            event=events_v2_event(integration, action=v["event_action"], dedup_key=dedup_key, v=v),
        )
        return _accepted(dedup_key)


def _accepted(dedup_key: str) -> Response:
    return Response(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key},
        status=status.HTTP_202_ACCEPTED,
    )


def accepted_body(dedup_key: str) -> bytes:
    """The 202's body as DRF's JSONRenderer writes it (for RepeatedEventMiddleware)."""
    return json.dumps(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _flat(errors, prefix="") -> dict:
    flat = {}
    for field, value in errors.items():
        name = f"{prefix}{field}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value if isinstance(value, list) else [value]
    return flat


class AlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=("firing", "resolved"))
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True))
    annotations = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )
    fingerprint = serializers.CharField(required=False, allow_blank=True)
    generatorURL = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    startsAt = serializers.CharField(required=False)  # noqa: N815
    endsAt = serializers.CharField(required=False)  # noqa: N815


class AlertmanagerSerializer(serializers.Serializer):
    version = serializers.CharField(required=False)
    status = serializers.CharField(required=False)
    alerts = AlertSerializer(many=True)


@extend_schema(
    tags=["ingest"],
    request=AlertmanagerSerializer,
    responses={
        200: inline_serializer(
            "AlertsAccepted",
            {"status": serializers.CharField(), "incidents": serializers.ListField()},
        ),
        400: OpenApiResponse(description="invalid payload"),
        404: OpenApiResponse(description="unknown integration key"),
    },
    summary="Prometheus Alertmanager webhook (version 4)",
)
class AlertmanagerView(_Ingest):
    """The key is the last part of the URL, or (URL without it) Alertmanager's
    `http_config.authorization: {credentials: KEY}`, sent as `Authorization: Bearer KEY`."""

    def post(self, request, key: str = ""):
        if not key:
            scheme, _space, credentials = request.headers.get("Authorization", "").partition(" ")
            key = credentials.strip() if scheme.lower() == "bearer" else ""
        key = "" if "\x00" in key else key  # PostgreSQL refuses a NUL in a string: no such key
        integration = (
            Integration.objects.filter(key=key, kind=Integration.Kind.ALERTMANAGER, is_active=True)
            .select_related("service")
            .first()
        )
        if integration is None:
            return Response(
                {"code": "not_found", "detail": _("Unknown integration key."), "errors": {}},
                status=status.HTTP_404_NOT_FOUND,
            )
        data = AlertmanagerSerializer(data=request.data if isinstance(request.data, dict) else {})
        if not data.is_valid():
            return Response(
                {
                    "code": "invalid",
                    "detail": _("Not an Alertmanager webhook payload."),
                    "errors": _flat(data.errors),
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        touched = []
        for event in alertmanager_events(integration, data.validated_data):
            incident = event_ingest(integration=integration, event=event)
            if incident is not None:
                touched.append(
                    {"id": incident.pk, "dedup_key": event.dedup_key, "action": event.action}
                )
        return Response({"status": "success", "incidents": touched})


class AlertmanagerBearerView(AlertmanagerView):
    @extend_schema(
        tags=["ingest"],
        operation_id="alertmanager_webhook_bearer",
        summary="Prometheus Alertmanager webhook, key as `Authorization: Bearer KEY`",
    )
    def post(self, request):
        return super().post(request)
