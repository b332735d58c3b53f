"""REST API of the escalation process (thin: selectors in, serializers out)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import roles, selectors
from .views import ERRORS


class IsEscalationStaff(permissions.BasePermission):
    """Escalation managers and responders; executives and customer contacts are refused."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (
                user.is_superuser
                or user.groups.filter(name__in=[roles.ESCALATION_MANAGER, roles.RESPONDER]).exists()
            )
        )


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField()
    name = serializers.CharField(source="display_name")


class NextSerializer(PersonSerializer):
    start = serializers.DateTimeField()


class OnCallSerializer(serializers.Serializer):
    schedule = serializers.SerializerMethodField()
    now = PersonSerializer(allow_null=True)
    next = serializers.SerializerMethodField()

    def get_schedule(self, row) -> dict:
        return {"id": row["schedule"].pk, "name": row["schedule"].name}

    def get_next(self, row) -> dict | None:
        if not row["next"] or not row["next_user"]:
            return None
        person = PersonSerializer(row["next_user"]).data
        return {**person, "start": row["next"].start.isoformat()}


class OnCallView(APIView):
    permission_classes = [IsEscalationStaff]

    @extend_schema(
        responses={200: OnCallSerializer(many=True), **ERRORS},
        summary="Who is on call now, and next",
    )
    def get(self, request):
        rows = selectors.on_call_overview(timezone.now())
        return Response(OnCallSerializer(rows, many=True).data)
