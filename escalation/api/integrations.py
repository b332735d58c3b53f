"""/api/v1/integrations/: the monitoring integrations and their grouping rules. The team reads
them (never the integration key: it is the sender's credential); escalation managers change the
grouping rules (group by, group window, flapping window, resolve with the alert)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.selectors import role_of

from ..dashboard.selectors import viewer_role
from ..models import Integration
from ..selectors import integrations_for_team
from ..services.integrations import integration_rules_set
from .serializers import StrictBoolean, StrictChar
from .views import ERRORS


class IntegrationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Integration.Kind.choices, read_only=True)
    service = serializers.CharField(source="service.slug", read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    last_event_at = serializers.DateTimeField(read_only=True, allow_null=True)
    group_labels = serializers.ListField(
        child=StrictChar(min_length=1, max_length=Integration.MAX_LABEL_LENGTH),
        max_length=Integration.MAX_GROUP_LABELS,
        required=False,
        help_text=(
            "Group by: alerts with equal values of these Alertmanager labels or Events API v2 "
            'payload fields ("source", "severity", "component", "group", "class", "summary" or '
            'a key of "custom_details") share one incident. []: one incident per alert.'
        ),
    )
    group_window = serializers.IntegerField(
        min_value=0,
        max_value=Integration.MAX_WINDOW_MINUTES,
        required=False,
        help_text="Minutes after its incident opened that an alert still joins it; 0: while open.",
    )
    flap_window = serializers.IntegerField(
        min_value=0,
        max_value=Integration.MAX_WINDOW_MINUTES,
        required=False,
        help_text="Minutes after it resolved that a firing alert reopens its escalated incident; "
        "0: off.",
    )
    resolve_on_resolved = StrictBoolean(
        required=False, help_text="Resolve the incident when its last alert resolves."
    )

    def validate_group_labels(self, labels):
        if len(set(labels)) != len(labels):
            raise serializers.ValidationError(_("Each name at most once."))
        return labels


def _readable(request):
    """Integrations are the team's configuration: executives and customers are refused."""
    if role_of(request.user) != "staff":
        raise exceptions.PermissionDenied(_("Integrations are the team's configuration."))
    return integrations_for_team()


@extend_schema(tags=["integrations"])
class IntegrationListView(APIView):
    @extend_schema(responses={200: IntegrationSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response(IntegrationSerializer(_readable(request), many=True).data)


@extend_schema(tags=["integrations"])
class IntegrationDetailView(APIView):
    @extend_schema(responses={200: IntegrationSerializer, **ERRORS})
    def get(self, request, pk: int):
        return Response(IntegrationSerializer(get_object_or_404(_readable(request), pk=pk)).data)

    @extend_schema(
        request=IntegrationSerializer,
        responses={200: IntegrationSerializer, **ERRORS},
        description="Change the grouping rules (every field optional).",
    )
    def patch(self, request, pk: int):
        integration = get_object_or_404(_readable(request), pk=pk)
        if viewer_role(request.user) != "manager":
            raise exceptions.PermissionDenied(_("Only escalation managers change grouping rules."))
        data = IntegrationSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        integration = integration_rules_set(
            integration=integration, actor=request.user, **data.validated_data
        )
        return Response(IntegrationSerializer(integration).data)
