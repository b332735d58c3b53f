"""API v1 views: validate with an input serializer, call a service, answer with an output one."""

import hashlib
import json
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import EventKind, Service
from incidents.presentation import faces_prefetch, incident_for_customer, redactor_for
from incidents.selectors import (
    attach_slugs,
    customers_for,
    incident_list_for,
    role_of,
    services_for,
    updates_for,
)

from ..models import Contract, IdempotencyRecord
from ..selectors import (
    console_incidents_for,
    customer_exposure,
    incident_alerts,
    incidents_readable_by,
    sla_exposure,
    with_sla,
)
from ..services import incident_edit, incident_open, incident_perform
from ..services.matrix import update_publish
from ..services.sla import sla_pause, sla_resume
from . import serializers as s


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    413: ErrorSerializer,
    415: ErrorSerializer,
    429: ErrorSerializer,
}
TRANSITION_ERRORS = {**ERRORS, 409: ErrorSerializer}
# POSTs that take an Idempotency-Key (see Idempotent): the header, and the 422 for a key reused
# with another request.
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (at most 200 characters): a repeat of the same request with "
    "the same key within 24 hours replays the first answer (header Idempotent-Replayed: true) "
    "instead of acting twice.",
)
IDEMPOTENT_ERRORS = {
    422: OpenApiResponse(
        ErrorSerializer,
        description="This Idempotency-Key was used for a different request "
        "(code idempotency_key_reused).",
    )
}


def _writable(request, pk: int):
    """An incident the caller may change: escalation managers any, responders those they are
    pulled into (as in the console); anything else is 404, as if it did not exist."""
    return get_object_or_404(console_incidents_for(request.user), pk=pk)


class Idempotent:
    """POST with `Idempotency-Key`: a repeat within 24 h replays the first answer."""

    IDEMPOTENCY_HOURS = 24

    def _request_hash(self, request) -> str:
        body = json.dumps(request.data, sort_keys=True, default=str)
        return hashlib.sha256(f"{request.method} {request.path} {body}".encode()).hexdigest()

    def idempotent(self, request, handler):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return handler()
        if len(key) > 200:
            raise exceptions.ValidationError({"Idempotency-Key": [_("At most 200 characters.")]})
        since = timezone.now() - timedelta(hours=self.IDEMPOTENCY_HOURS)
        IdempotencyRecord.objects.filter(user=request.user, created_at__lt=since).delete()
        digest = self._request_hash(request)
        previous = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if previous:
            if previous.request_hash != digest:
                return Response(
                    {
                        "code": "idempotency_key_reused",
                        "errors": {},
                        "detail": _("This Idempotency-Key was used for a different request."),
                    },
                    status=status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            response = Response(previous.body, status=previous.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        response = handler()
        if response.status_code < 500:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        method=request.method,
                        path=request.path,
                        request_hash=digest,
                        status_code=response.status_code,
                        body=json.loads(json.dumps(response.data, default=str)),
                        created_at=timezone.now(),
                    )
            except IntegrityError:
                pass  # a concurrent twin stored it first
        return response


class IncidentPagination(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-id"

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is not None and not (
            re.fullmatch(r"[0-9]{1,4}", value) and 1 <= int(value) <= self.max_page_size
        ):
            message = _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}
            raise exceptions.ValidationError({"page_size": [message]})
        return super().get_page_size(request)


def _serializer_for(request):
    return (
        s.CustomerIncidentSerializer
        if role_of(request.user) == "customer"
        else s.IncidentSerializer
    )


def _readable(request, *, prefetch: bool = True):
    """The incidents the caller may read (responders: those they are pulled into); a customer
    contact only those with a public face (read through it: CustomerIncidentSerializer)."""
    incidents = incidents_readable_by(request.user, prefetch=prefetch)
    if role_of(request.user) == "customer":
        incidents = (
            incidents.filter(public_incidents__isnull=False)
            .distinct()
            .prefetch_related(faces_prefetch(), "services__customers")
        )
    return incidents


def _customer_context(request) -> dict:
    """One redaction for a whole page (incidents.presentation)."""
    if role_of(request.user) != "customer":
        return {"request": request}
    return {"request": request, "redact": redactor_for(request.user.customer_id)}


@extend_schema(tags=["incidents"])
class IncidentListView(Idempotent, generics.ListAPIView):
    pagination_class = IncidentPagination

    def get_serializer_class(self):
        return _serializer_for(self.request)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_customer_context(self.request)}

    def paginate_queryset(self, queryset):
        """A page of rows, not model instances (building 50 instances cost more than the query):
        the columns the serializers read, and the slugs (attach_slugs). Customers: instances,
        read through their public faces."""
        if role_of(self.request.user) == "customer":
            return super().paginate_queryset(queryset)
        page = super().paginate_queryset(queryset.values(*s.IncidentSerializer.COLUMNS))
        return attach_slugs(page) if page is not None else None

    def get_queryset(self):
        user = self.request.user
        incidents = _readable(self.request, prefetch=False)
        params = self.request.query_params
        if role_of(self.request.user) == "customer" and ({"state", "priority"} & set(params)):
            # Internal states and priorities are the team's: not even as a filter.
            raise exceptions.ValidationError(
                {"state": [_("Customers filter by nothing but service and updated_since.")]}
            )
        if params.get("state"):
            incidents = incidents.filter(state__in=params["state"].split(","))
        if "priority" in params:
            if not re.fullmatch(r"[1-5](,[1-5])*", params["priority"]):
                raise exceptions.ValidationError({"priority": [_("Give numbers 1-5, e.g. 1,2.")]})
            incidents = incidents.filter(priority__in=params["priority"].split(","))
        # A slug outside the caller's scope answers exactly as an unknown one (an empty list):
        # a customer's filter never tells whether another organisation or its private service
        # is involved in the caller's incidents.
        if params.get("service"):
            slug = params["service"]
            public = Service.objects.filter(slug=slug, is_private=False)
            if not (public.exists() or services_for(user).filter(slug=slug).exists()):
                incidents = incidents.none()
            incidents = incidents.filter(services__slug=params["service"])
        if params.get("customer"):
            if not customers_for(user).filter(slug=params["customer"]).exists():
                incidents = incidents.none()
            incidents = incidents.filter(customers__slug=params["customer"])
        if "updated_since" in params:
            since = parse_datetime(params["updated_since"])
            if since is None or since.tzinfo is None:
                raise exceptions.ValidationError(
                    {"updated_since": [_("Give an ISO 8601 time with a time zone.")]}
                )
            incidents = incidents.filter(updated_at__gte=since)
        return (
            incidents.distinct() if params.get("service") or params.get("customer") else incidents
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, description="comma-separated states"),
            OpenApiParameter(
                "priority",
                str,
                description="comma-separated priorities 1-5",
                pattern=r"^[1-5](,[1-5])*$",
            ),
            OpenApiParameter("service", str, description="service slug"),
            OpenApiParameter("customer", str, description="customer slug"),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="ISO 8601 time with zone"
            ),
        ],
        responses={200: s.IncidentSerializer(many=True), **ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.IncidentCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.IncidentSerializer, **TRANSITION_ERRORS, **IDEMPOTENT_ERRORS},
    )
    def post(self, request):
        return self.idempotent(request, lambda: self._create(request))

    def _create(self, request):
        data = s.IncidentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        incident = incident_open(
            actor=request.user,
            title=v["title"],
            description=v["description"],
            services=v["services"],
            customers=v["customers"],
            commander=v.get("commander"),
            source="api",
            impact=v.get("impact", ""),
            urgency=v.get("urgency", ""),
        )
        incident = incident_list_for(request.user).get(pk=incident.pk)
        body = s.IncidentSerializer(incident, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["incidents"])
class IncidentDetailView(APIView):
    def _get(self, request, pk):
        return get_object_or_404(_readable(request), pk=pk)

    @extend_schema(
        responses={200: s.IncidentSerializer, **ERRORS},
        description="Customer tokens read the incident's public face (CustomerIncident).",
    )
    def get(self, request, pk: int):
        incident = self._get(request, pk)
        serializer = _serializer_for(request)(incident, context=_customer_context(request))
        return Response(serializer.data)

    @extend_schema(
        request=s.IncidentPatchSerializer, responses={200: s.IncidentSerializer, **ERRORS}
    )
    def patch(self, request, pk: int):
        incident = _writable(request, pk)
        data = s.IncidentPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident_edit(incident=incident, actor=request.user, **data.validated_data)
        incident = self._get(request, pk)
        return Response(s.IncidentSerializer(incident, context={"request": request}).data)


ACTION_INPUT = {
    "classify": s.ClassifySerializer,
    "escalate": s.ReasonSerializer,
    "acknowledge": s.EmptySerializer,
    "provide_workaround": s.WorkaroundSerializer,
    "resolve": s.ResolveSerializer,
    "close": s.CloseSerializer,
    "reopen": s.ReasonSerializer,
}


# What each action's operation says in the schema (the view's docstring is for us, not clients).
ACTION_DESCRIPTIONS = {
    "classify": "Set the incident's impact and urgency, which give its priority.",
    "escalate": "Escalate the classified incident, with the reason.",
    "acknowledge": "Acknowledge the incident as the caller: paging stops.",
    "provide_workaround": "Record a workaround, optionally with a text for customers.",
    "resolve": "Resolve the incident, with its resolution.",
    "close": "Close a resolved incident, optionally with a review.",
    "reopen": "Reopen a resolved incident, with the reason.",
}


class IncidentActionView(Idempotent, APIView):
    """POST /incidents/{id}/<action>/: one lifecycle transition (409 when not allowed now)."""

    action_name = ""

    def post(self, request, pk: int):
        return self.idempotent(request, lambda: self._act(request, pk))

    def _act(self, request, pk: int):
        incident = _writable(request, pk)
        data = ACTION_INPUT[self.action_name](data=request.data)
        data.is_valid(raise_exception=True)
        payload = dict(data.validated_data)
        if self.action_name == "acknowledge":
            from ..services import incident_acknowledge

            incident = incident_acknowledge(incident=incident, actor=request.user, via="api")
        else:
            incident = incident_perform(
                incident=incident, actor=request.user, action=self.action_name, data=payload
            )
        incident = incident_list_for(request.user).get(pk=incident.pk)
        return Response(s.IncidentSerializer(incident, context={"request": request}).data)


def action_view(name: str):
    """A view class of its own per action, so each is documented with its own input."""

    @extend_schema(
        tags=["incident actions"],
        request=ACTION_INPUT[name],
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.IncidentSerializer, **TRANSITION_ERRORS, **IDEMPOTENT_ERRORS},
        operation_id=f"incident_{name}",
        description=f"{ACTION_DESCRIPTIONS[name]} Answers 409 when the incident's state does "
        "not allow this step now.",
    )
    def post(self, request, pk: int):
        return IncidentActionView.post(self, request, pk)

    view = type(
        f"Incident{name.title().replace('_', '')}View",
        (IncidentActionView,),
        {"action_name": name, "post": post},
    )
    return view.as_view()


@extend_schema(tags=["incidents"], responses={200: s.TimelineEventSerializer(many=True), **ERRORS})
class TimelineView(APIView):
    def get(self, request, pk: int):
        if role_of(request.user) not in ("staff", "executive"):
            raise exceptions.NotFound()
        incident = get_object_or_404(incidents_readable_by(request.user), pk=pk)
        events = (
            incident.events.exclude(kind=EventKind.UPDATE_POSTED)
            if role_of(request.user) == "executive"
            else incident.events.all()
        )
        return Response(s.TimelineEventSerializer(events.order_by("seq"), many=True).data)


@extend_schema(
    tags=["incidents"],
    responses={200: s.IncidentAlertSerializer(many=True), **ERRORS},
    description="The monitoring alerts of the incident (several when an integration's grouping "
    "rules put them together; it resolves with the last). Team and executives; customer tokens "
    "get a 404.",
)
class IncidentAlertsView(APIView):
    def get(self, request, pk: int):
        if role_of(request.user) not in ("staff", "executive"):
            raise exceptions.NotFound()
        incident = get_object_or_404(incidents_readable_by(request.user), pk=pk)
        return Response(s.IncidentAlertSerializer(incident_alerts(incident), many=True).data)


@extend_schema(tags=["incidents"])
class UpdatesView(Idempotent, APIView):
    @extend_schema(responses={200: s.UpdateSerializer(many=True), **ERRORS})
    def get(self, request, pk: int):
        incident = get_object_or_404(_readable(request), pk=pk)
        if role_of(request.user) == "customer":  # the public updates of its public face
            view = incident_for_customer(
                incident,
                language=s.reader_language(),
                customer_id=request.user.customer_id,
                redact=redactor_for(request.user.customer_id),
            )
            return Response(
                [
                    {
                        "id": u["id"],
                        "audience": "customer",
                        "body": u["body"],
                        "author": None,
                        "created_at": u["created_at"],
                    }
                    for u in view["updates"]
                ]
            )
        return Response(s.UpdateSerializer(updates_for(request.user, incident), many=True).data)

    @extend_schema(
        request=s.UpdateCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.UpdateSerializer, **TRANSITION_ERRORS, **IDEMPOTENT_ERRORS},
        description="Audience `customer`: through the incident's public face (409 "
        "`no_public_face` while it has none).",
    )
    def post(self, request, pk: int):
        return self.idempotent(request, lambda: self._post(request, pk))

    def _post(self, request, pk):
        incident = _writable(request, pk)
        data = s.UpdateCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        update = update_publish(incident=incident, actor=request.user, **data.validated_data)
        return Response(s.UpdateSerializer(update).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["reference"], responses={200: s.ServiceSerializer(many=True), **ERRORS})
class ServiceListView(generics.ListAPIView):
    serializer_class = s.ServiceSerializer
    pagination_class = None

    def get_queryset(self):
        return services_for(self.request.user)


@extend_schema(tags=["reference"], responses={200: s.CustomerSerializer(many=True), **ERRORS})
class CustomerListView(generics.ListAPIView):
    serializer_class = s.CustomerSerializer
    pagination_class = None

    def get_queryset(self):
        return customers_for(self.request.user)


# --- SLA clocks and penalty exposure ----------------------------------------------------------


def _sla_reader(request) -> None:
    """Contracts and penalties are the provider's business: staff and executives only."""
    if role_of(request.user) not in ("staff", "executive"):
        raise exceptions.NotFound()


def _incident_sla_body(incident, at) -> dict:
    from ..sla import is_paused

    pauses = [(p.started_at, p.ended_at) for p in incident.sla_pauses.all() if not p.automatic]
    return {
        "incident": incident.pk,
        "priority": incident.priority,
        "at": at,
        "paused": is_paused(pauses, at),
        "contracts": sla_exposure(incident, at),
    }


@extend_schema(tags=["sla"], responses={200: s.IncidentSlaSerializer, **ERRORS})
class IncidentSlaView(APIView):
    """The incident's SLA clocks per contract and target (service time), and the penalty accrued
    now and if it is restored in 1 h or 4 h, with the clauses that produce it."""

    def get(self, request, pk: int):
        _sla_reader(request)
        incident = get_object_or_404(with_sla(incidents_readable_by(request.user)), pk=pk)
        body = _incident_sla_body(incident, timezone.now())
        return Response(s.IncidentSlaSerializer(body).data)


class SlaPauseSerializer(serializers.Serializer):
    reason = s.Text(max_length=2000)
    contract = serializers.IntegerField(
        required=False, allow_null=True, help_text="only this contract's clocks; default: all"
    )


def _sla_action(request, pk: int, act):
    incident = _writable(request, pk)
    act(incident)
    incident = get_object_or_404(with_sla(incidents_readable_by(request.user)), pk=pk)
    return Response(s.IncidentSlaSerializer(_incident_sla_body(incident, timezone.now())).data)


@extend_schema(tags=["sla"])
class SlaPauseView(APIView):
    """Stop the SLA clocks where the contract allows it (e.g. waiting for the customer)."""

    @extend_schema(
        request=SlaPauseSerializer,
        responses={200: s.IncidentSlaSerializer, **ERRORS},
        operation_id="incident_sla_pause",
    )
    def post(self, request, pk: int):
        data = SlaPauseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contract = None
        if data.validated_data.get("contract") is not None:
            contract = Contract.objects.filter(pk=data.validated_data["contract"]).first()
            if contract is None:
                raise exceptions.ValidationError({"contract": [_("Unknown contract.")]})
        return _sla_action(
            request,
            pk,
            lambda incident: sla_pause(
                incident=incident,
                actor=request.user,
                reason=data.validated_data["reason"],
                contract=contract,
            ),
        )


@extend_schema(tags=["sla"])
class SlaResumeView(APIView):
    @extend_schema(
        request=None,
        responses={200: s.IncidentSlaSerializer, **ERRORS},
        operation_id="incident_sla_resume",
    )
    def post(self, request, pk: int):
        return _sla_action(
            request, pk, lambda incident: sla_resume(incident=incident, actor=request.user)
        )


@extend_schema(tags=["sla"], responses={200: s.CustomerExposureSerializer, **ERRORS})
class CustomerExposureView(APIView):
    """What open incidents cost under this customer's contracts right now (and if restored in
    1 h / 4 h), and the credits of the current month so far under the month cap."""

    def get(self, request, pk: int):
        _sla_reader(request)
        customer = get_object_or_404(customers_for(request.user), pk=pk)
        data = customer_exposure(customer, timezone.now())
        body = {
            "customer": {"id": customer.pk, "slug": customer.slug, "name": customer.name},
            "at": data["at"],
            "open_incidents": [
                {
                    "id": item["incident"].pk,
                    "title": item["incident"].title,
                    "priority": item["incident"].priority,
                    "state": item["incident"].state,
                    "contracts": item["exposures"],
                }
                for item in data["open"]
            ],
            "totals": [
                {
                    "currency": currency,
                    "accrued": sums["accrued"],
                    "if_restored_in_1h": sums["in_1h"],
                    "if_restored_in_4h": sums["in_4h"],
                }
                for currency, sums in sorted(data["totals"].items())
            ],
            "month_to_date": [
                {
                    "contract": {"id": row["contract"].pk, "name": row["contract"].name},
                    "currency": row["contract"].currency,
                    "incidents": row["incidents"],
                    "credits": row["total"].amount,
                    "uncapped": row["total"].uncapped,
                    "cap": row["total"].cap,
                }
                for row in data["month"]
            ],
        }
        return Response(s.CustomerExposureSerializer(body).data)
