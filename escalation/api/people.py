"""People on an incident through the API: who commands it, who holds the other roles, who was
paged, and who the next levels will page; change the commander, hand a role, pull in a responder
(the same services as the console's "People" section)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import User
from incidents.selectors import role_of

from ..models import IncidentRole
from ..selectors import incident_people, incidents_readable_by, staff_people, upcoming_levels
from ..services.people import (
    incident_commander_change,
    incident_responder_pull_in,
    incident_role_assign,
    incident_role_end,
)
from .views import ERRORS, _writable


class PeoplePerson(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(source="display_name")


class PeopleRole(serializers.Serializer):
    role = serializers.ChoiceField(choices=IncidentRole.Role.choices)
    user = PeoplePerson()
    assigned_at = serializers.DateTimeField()


class PeoplePaged(serializers.Serializer):
    user = PeoplePerson()
    level = serializers.IntegerField(help_text="The escalation level (1 = first) paged at.")
    paged_at = serializers.DateTimeField(source="created_at")


class PeopleUpcoming(serializers.Serializer):
    level = serializers.IntegerField()
    at = serializers.DateTimeField(help_text="When this level pages if nobody acknowledges.")
    people = PeoplePerson(many=True, help_text="Empty: the escalation managers on duty.")


class PeopleSerializer(serializers.Serializer):
    commander = PeoplePerson(allow_null=True)
    roles = PeopleRole(many=True)
    paged = PeoplePaged(many=True, help_text="Everybody paged, each once (their first page).")
    upcoming = PeopleUpcoming(
        many=True, help_text="The levels still to come; empty once acknowledged."
    )


class _UserField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=User.objects.all(), **kwargs)

    def get_queryset(self):
        return staff_people()


class CommanderInput(serializers.Serializer):
    user = _UserField(help_text="Username of an active escalation manager or responder.")


class RoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=IncidentRole.Role.choices)
    user = _UserField(allow_null=True, help_text="Username; null: nobody holds the role any more.")


class PullInInput(serializers.Serializer):
    user = _UserField(help_text="Username of the responder to page now.")


def _body(incident) -> dict:
    people = incident_people(incident)
    return PeopleSerializer(
        {
            "commander": people["commander"],
            "roles": people["roles"],
            "paged": [
                {"user": p.user, "level": p.level_index + 1, "created_at": p.created_at}
                for p in people["paged"]
            ],
            "upcoming": upcoming_levels(incident, timezone.now()),
        }
    ).data


def _answer(request, pk: int) -> Response:
    return Response(_body(get_object_or_404(incidents_readable_by(request.user), pk=pk)))


@extend_schema(tags=["incidents"])
class IncidentPeopleView(APIView):
    @extend_schema(responses={200: PeopleSerializer, **ERRORS}, operation_id="incident_people")
    def get(self, request, pk: int):
        if role_of(request.user) not in ("staff", "executive"):
            raise exceptions.NotFound()
        return _answer(request, pk)


def _post(request, pk: int, input_class, act) -> Response:
    incident = _writable(request, pk)
    data = input_class(data=request.data)
    data.is_valid(raise_exception=True)
    act(incident, data.validated_data)
    incident.refresh_from_db()
    # The answer shows the result even to a commander who just handed the incident on (and so
    # may no longer reach it).
    return Response(_body(incident))


@extend_schema(tags=["incident actions"])
class CommanderView(APIView):
    @extend_schema(
        request=CommanderInput,
        responses={200: PeopleSerializer, **ERRORS},
        operation_id="incident_commander_change",
    )
    def post(self, request, pk: int):
        return _post(
            request,
            pk,
            CommanderInput,
            lambda incident, v: incident_commander_change(
                incident=incident, actor=request.user, user=v["user"]
            ),
        )


@extend_schema(tags=["incident actions"])
class RoleView(APIView):
    @extend_schema(
        request=RoleInput,
        responses={200: PeopleSerializer, **ERRORS},
        operation_id="incident_role_assign",
    )
    def post(self, request, pk: int):
        def act(incident, v):
            if v["user"] is None:
                incident_role_end(incident=incident, actor=request.user, role=v["role"])
            else:
                incident_role_assign(
                    incident=incident, actor=request.user, role=v["role"], user=v["user"]
                )

        return _post(request, pk, RoleInput, act)


@extend_schema(tags=["incident actions"])
class PullInView(APIView):
    @extend_schema(
        request=PullInInput,
        responses={200: PeopleSerializer, **ERRORS},
        operation_id="incident_responder_pull_in",
    )
    def post(self, request, pk: int):
        return _post(
            request,
            pk,
            PullInInput,
            lambda incident, v: incident_responder_pull_in(
                incident=incident, actor=request.user, user=v["user"]
            ),
        )
