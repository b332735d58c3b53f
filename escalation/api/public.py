"""API v1 for public incidents (the public face of a disruption): list and publish, read, link
more incidents, post public updates. Writes as other incident writes (escalation managers;
responders on incidents they work on; executives and customers never); customer tokens read
their organisation's public incidents through incidents.presentation."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Service
from incidents.presentation import redactor_for
from incidents.selectors import public_incidents_for, role_of

from ..selectors import console_incidents_for
from ..services.public import (
    public_incident_link,
    public_incident_publish,
    public_incident_update_post,
)
from . import serializers as s
from .views import ERRORS, TRANSITION_ERRORS, Idempotent


def _output(request, face) -> dict:
    if role_of(request.user) == "customer":
        context = {"request": request, "redact": redactor_for(request.user.customer_id)}
        return s.CustomerPublicIncidentSerializer(face, context=context).data
    return s.PublicIncidentSerializer(face).data


def _incidents(request, ids: list[int]) -> list:
    """The incidents named, each one the caller works on (as other incident writes); an id
    that is not is a 400 naming it."""
    found = {i.pk: i for i in console_incidents_for(request.user).filter(pk__in=ids)}
    missing = sorted(set(ids) - set(found))
    if missing:
        raise exceptions.ValidationError(
            {"incidents": [_("Unknown incident: %(id)s.") % {"id": pk} for pk in missing[:20]]}
        )
    return [found[pk] for pk in sorted(set(ids))]


class PublicIncidentPagination(CursorPagination):
    page_size = 50
    ordering = "-id"


@extend_schema(tags=["public incidents"])
class PublicIncidentListView(Idempotent, generics.ListAPIView):
    pagination_class = PublicIncidentPagination

    def get_queryset(self):
        return public_incidents_for(self.request.user)

    def get_serializer_class(self):
        if role_of(self.request.user) == "customer":
            return s.CustomerPublicIncidentSerializer
        return s.PublicIncidentSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if role_of(self.request.user) == "customer":
            context["redact"] = redactor_for(self.request.user.customer_id)
        return context

    @extend_schema(
        responses={200: s.PublicIncidentSerializer(many=True), **ERRORS},
        description="Customer tokens get CustomerPublicIncident items (their organisation's).",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.PublicIncidentCreateSerializer,
        responses={201: s.PublicIncidentSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request):
        return self.idempotent(request, lambda: self._create(request))

    def _create(self, request):
        data = s.PublicIncidentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        incidents = _incidents(request, v.get("incidents", []))
        services = None
        if v.get("services") or v.get("groups"):
            named = {x.pk: x for x in v.get("services", [])}
            groups = [g.pk for g in v.get("groups", [])]
            named.update({x.pk: x for x in Service.objects.filter(group__in=groups)})
            services = list(named.values())
        face = public_incident_publish(
            actor=request.user,
            incidents=incidents,
            services=services,
            **{k: v[k] for k in ("title", "title_en", "body", "body_en", "status") if k in v},
        )
        face = public_incidents_for(request.user).get(pk=face.pk)
        return Response(_output(request, face), status=status.HTTP_201_CREATED)


@extend_schema(tags=["public incidents"])
class PublicIncidentDetailView(APIView):
    @extend_schema(responses={200: s.PublicIncidentSerializer, **ERRORS})
    def get(self, request, pk: int):
        face = get_object_or_404(public_incidents_for(request.user), pk=pk)
        return Response(_output(request, face))

    @extend_schema(
        request=s.PublicIncidentLinkSerializer,
        responses={200: s.PublicIncidentSerializer, **TRANSITION_ERRORS},
        description="Link more incidents (one disruption, several incidents).",
    )
    def patch(self, request, pk: int):
        face = get_object_or_404(public_incidents_for(request.user), pk=pk)
        data = s.PublicIncidentLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incidents = _incidents(request, data.validated_data["incidents"])
        public_incident_link(public_incident=face, actor=request.user, incidents=incidents)
        return Response(_output(request, public_incidents_for(request.user).get(pk=pk)))


@extend_schema(tags=["public incidents"])
class PublicIncidentUpdatesView(Idempotent, APIView):
    @extend_schema(
        request=s.PublicUpdateCreateSerializer,
        responses={201: s.PublicUpdateSerializer, **TRANSITION_ERRORS},
        description="A public update to every customer contact and subscriber; status "
        "`resolved` is the all-clear.",
    )
    def post(self, request, pk: int):
        return self.idempotent(request, lambda: self._post(request, pk))

    def _post(self, request, pk: int):
        face = get_object_or_404(public_incidents_for(request.user), pk=pk)
        data = s.PublicUpdateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        update = public_incident_update_post(
            public_incident=face, actor=request.user, **data.validated_data
        )
        return Response(s.PublicUpdateSerializer(update).data, status=status.HTTP_201_CREATED)
