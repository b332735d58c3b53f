"""/api/v1/maintenances/: read for every role within scope, written by escalation managers."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation.api.serializers import StrictBoolean, Text
from escalation.api.views import ERRORS
from escalation.dashboard.selectors import viewer_role
from incidents.models import Service, ServiceGroup
from incidents.selectors import role_of

from .selectors import maintenances_for
from .services import maintenance_create, maintenance_delete, maintenance_update


class MaintenanceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = Text(max_length=200)
    body = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    services = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), many=True, required=False
    )
    groups = serializers.SlugRelatedField(
        slug_field="slug", queryset=ServiceGroup.objects.all(), many=True, required=False
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    silence = StrictBoolean(
        required=False,
        default=True,
        help_text="True: alerts on these services during the window page nobody.",
    )

    def validate(self, data):
        starts = data.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = data.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": [_("The end must be after the start.")]})
        if self.instance is None and not data.get("services") and not data.get("groups"):
            raise serializers.ValidationError(
                {"services": [_("Name at least one service or service group.")]}
            )
        return data


class CustomerMaintenanceSerializer(serializers.Serializer):
    """What a customer contact reads: no internal settings, only their organisation's services."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    services = serializers.SerializerMethodField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()

    def get_services(self, window) -> list[str]:
        own = self.context["own"]
        slugs = {s.slug for s in window.services.all() if s.pk in own}
        slugs |= {s.slug for g in window.groups.all() for s in g.services.all() if s.pk in own}
        return sorted(slugs)


def _require_manager(request) -> None:
    if viewer_role(request.user) != "manager":
        raise exceptions.PermissionDenied(_("Only escalation managers plan maintenance."))


def _read(request, windows, *, many: bool = True):
    """The audience's serializer: customers get their own (their services only)."""
    if role_of(request.user) == "customer":
        own = set(request.user.customer.services.values_list("pk", flat=True))
        data = CustomerMaintenanceSerializer(windows, many=many, context={"own": own})
        return data.data
    return MaintenanceSerializer(windows, many=many).data


@extend_schema(tags=["maintenance"])
class MaintenanceListView(APIView):
    @extend_schema(responses={200: MaintenanceSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response(_read(request, maintenances_for(request.user)))

    @extend_schema(request=MaintenanceSerializer, responses={201: MaintenanceSerializer, **ERRORS})
    def post(self, request):
        _require_manager(request)
        data = MaintenanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        window = maintenance_create(actor=request.user, **data.validated_data)
        return Response(MaintenanceSerializer(window).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["maintenance"])
class MaintenanceDetailView(APIView):
    def _window(self, request, pk):
        return get_object_or_404(maintenances_for(request.user), pk=pk)

    @extend_schema(responses={200: MaintenanceSerializer, **ERRORS})
    def get(self, request, pk: int):
        window = self._window(request, pk)
        return Response(_read(request, window, many=False))

    @extend_schema(request=MaintenanceSerializer, responses={200: MaintenanceSerializer, **ERRORS})
    def patch(self, request, pk: int):
        window = self._window(request, pk)
        _require_manager(request)
        data = MaintenanceSerializer(window, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        window = maintenance_update(window=window, actor=request.user, **data.validated_data)
        return Response(MaintenanceSerializer(window).data)

    @extend_schema(request=MaintenanceSerializer, responses={200: MaintenanceSerializer, **ERRORS})
    def put(self, request, pk: int):
        window = self._window(request, pk)
        _require_manager(request)
        data = MaintenanceSerializer(window, data=request.data)
        data.is_valid(raise_exception=True)
        fields = {"body": "", "groups": [], "services": [], "silence": True}
        window = maintenance_update(
            window=window, actor=request.user, **(fields | dict(data.validated_data))
        )
        return Response(MaintenanceSerializer(window).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, pk: int):
        window = self._window(request, pk)
        _require_manager(request)
        maintenance_delete(window=window, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
