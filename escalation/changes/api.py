"""The Change Events API (PagerDuty-compatible: pdpyras' ChangeEventsAPISession and
`send_change_event` only change the base URL) and the recent changes of an incident."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation.api.ingest import _flat, _Ingest, _pd_invalid
from escalation.api.serializers import Text
from escalation.api.views import ERRORS
from escalation.models import Integration
from incidents.selectors import incident_list_for, role_of

from .selectors import changes_for_incident
from .services import change_event_record


class _ChangePayloadSerializer(serializers.Serializer):
    summary = Text(max_length=1024)
    source = serializers.CharField(max_length=255, required=False, allow_blank=True)
    timestamp = serializers.CharField(max_length=64, required=False, allow_blank=True)
    custom_details = serializers.JSONField(required=False, allow_null=True)

    def validate_timestamp(self, value: str):
        if not value:
            return None
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise serializers.ValidationError(_("An ISO 8601 date and time."))
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.UTC)
        return parsed


class _LinkSerializer(serializers.Serializer):
    href = Text(max_length=2000)
    text = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ChangeEventSerializer(serializers.Serializer):
    routing_key = Text(max_length=64)
    payload = _ChangePayloadSerializer()
    links = serializers.ListField(child=_LinkSerializer(), required=False, max_length=20)


@extend_schema(
    tags=["ingest"],
    request=ChangeEventSerializer,
    responses={
        202: inline_serializer(
            "ChangeEventAccepted",
            {
                "status": serializers.CharField(),
                "message": serializers.CharField(),
                "id": serializers.CharField(),
            },
        ),
        400: inline_serializer(
            "ChangeEventInvalid",
            {
                "status": serializers.CharField(),
                "message": serializers.CharField(),
                "errors": serializers.ListField(child=serializers.CharField()),
            },
        ),
    },
    summary="Change Events API (PagerDuty-compatible) enqueue",
)
class ChangeEnqueueView(_Ingest):
    """A change (deploy, configuration change) on the service of the routing key's integration."""

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.APIException) and exc.status_code in (400, 415):
            return _pd_invalid([str(exc.detail)])
        return super().handle_exception(exc)

    def post(self, request):
        if not isinstance(request.data, dict):
            return _pd_invalid(["The body must be a JSON object."])
        data = ChangeEventSerializer(data=request.data)
        if not data.is_valid():
            return _pd_invalid(
                [
                    f"{field}: {'; '.join(str(e) for e in errs)}"
                    for field, errs in _flat(data.errors).items()
                ]
            )
        v = data.validated_data
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
        payload = v["payload"]
        change = change_event_record(
            integration=integration,
            summary=payload["summary"],
            source=payload.get("source") or "",
            occurred_at=payload.get("timestamp"),
            custom_details=payload.get("custom_details"),
            links=[dict(link) for link in v.get("links", [])],
        )
        return Response(
            {"status": "success", "message": "Change event processed", "id": str(change.pk)},
            status=status.HTTP_202_ACCEPTED,
        )


class ChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.CharField(source="service.slug")
    summary = serializers.CharField()
    source = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    custom_details = serializers.JSONField()
    links = serializers.JSONField()


@extend_schema(tags=["incidents"], responses={200: ChangeSerializer(many=True), **ERRORS})
class IncidentChangesView(APIView):
    """Recent changes on the incident's services ("what changed?"): from 24 hours before it was
    detected until it was resolved, newest first. The team's and executives' view only."""

    def get(self, request, pk: int):
        if role_of(request.user) not in ("staff", "executive"):
            raise exceptions.NotFound()
        incident = get_object_or_404(incident_list_for(request.user), pk=pk)
        return Response(ChangeSerializer(changes_for_incident(incident), many=True).data)
