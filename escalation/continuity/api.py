"""/api/v1/processes/, /api/v1/runbooks/, /api/v1/incidents/{id}/continuity/ and
POST /api/v1/incidents/{id}/workaround/ (the core's workaround action, extended by a runbook id).

Processes: every role reads those in its scope (a customer contact its organisation's, through
its own serializer); escalation managers write. Runbooks and an incident's continuity record are
the team's: staff and executives read, customers are refused."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation.api import serializers as s
from escalation.api.serializers import StrictBoolean, StrictChar
from escalation.api.views import (
    ERRORS,
    IDEMPOTENCY_KEY,
    IDEMPOTENT_ERRORS,
    TRANSITION_ERRORS,
    IncidentActionView,
    _writable,
)
from escalation.dashboard.selectors import viewer_role
from escalation.selectors import incidents_readable_by
from incidents.models import Customer, Service, ServiceStatus, User
from incidents.selectors import incident_list_for, role_of

from . import selectors
from .forms import objectives_parse
from .models import BusinessProcess, Runbook
from .panel import continuity_context
from .services import (
    process_create,
    process_update,
    runbook_create,
    runbook_revise,
    workaround_apply,
)


def _require_manager(request) -> None:
    if viewer_role(request.user) != "manager":
        raise exceptions.PermissionDenied(_("Only escalation managers change business continuity."))


def _require_team(request) -> None:
    if role_of(request.user) not in ("staff", "executive"):
        raise exceptions.PermissionDenied(_("Runbooks are the team's instructions."))


class ObjectivesField(serializers.JSONField):
    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError(_('An object: {"1": {"rto": 30, "mtpd": 120}}.'))
        text = ", ".join(
            f"P{p} {v.get('rto')}/{v.get('mtpd')}" if isinstance(v, dict) else "x"
            for p, v in data.items()
        )
        from django import forms

        try:
            return objectives_parse(text)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class ProcessSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = s.Text(max_length=200)
    slug = serializers.SlugField(max_length=80)
    description = StrictChar(max_length=10000, required=False, allow_blank=True)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    customers = s.StrictManyRelatedField(
        child_relation=serializers.SlugRelatedField(
            slug_field="slug", queryset=Customer.objects.all()
        ),
        required=False,
    )
    services = s.StrictManyRelatedField(
        child_relation=serializers.SlugRelatedField(
            slug_field="slug", queryset=Service.objects.all()
        )
    )
    rto_minutes = serializers.IntegerField(min_value=1, max_value=525600)
    mtpd_minutes = serializers.IntegerField(min_value=1, max_value=525600)
    objectives = ObjectivesField(
        required=False, help_text='Per priority: {"1": {"rto": 30, "mtpd": 120}} (minutes).'
    )
    is_active = StrictBoolean(required=False, default=True)

    def validate_slug(self, value):
        others = BusinessProcess.objects.filter(slug=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(_("A process with this slug exists."))
        return value

    def validate(self, data):
        rto = data.get("rto_minutes", getattr(self.instance, "rto_minutes", None))
        mtpd = data.get("mtpd_minutes", getattr(self.instance, "mtpd_minutes", None))
        if rto and mtpd and mtpd < rto:
            raise serializers.ValidationError(
                {"mtpd_minutes": [_("The MTPD cannot be shorter than the RTO.")]}
            )
        if "services" in data and not data["services"]:
            raise serializers.ValidationError(
                {"services": [_("Name at least one service the process depends on.")]}
            )
        return data


class CustomerProcessSerializer(serializers.Serializer):
    """What a customer contact reads of their own process: no owner, no other organisation's
    services, and whether a workaround is active for it (in customer words)."""

    id = serializers.IntegerField()
    name = StrictChar()
    description = StrictChar()
    services = serializers.SerializerMethodField()
    rto_minutes = serializers.IntegerField()
    mtpd_minutes = serializers.IntegerField()

    def get_services(self, process) -> list[str]:
        own = self.context["own"]
        return sorted(s.slug for s in process.services.all() if s.pk in own)


class StepSerializer(serializers.Serializer):
    text = s.Text(max_length=2000)
    performer = StrictChar(max_length=200, required=False, allow_blank=True)


class RunbookSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = s.Text(max_length=200)
    process = s.BoundedPrimaryKeyRelatedField(
        queryset=BusinessProcess.objects.all(), required=False, allow_null=True
    )
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), required=False, allow_null=True
    )
    is_active = StrictBoolean(required=False, default=True)
    version = serializers.IntegerField(read_only=True)
    preconditions = StrictChar(max_length=10000, required=False, allow_blank=True)
    steps = StepSerializer(many=True, allow_empty=False)
    performer = s.Text(max_length=200)
    customer_text_de = s.Text(max_length=10000)
    customer_text_en = s.Text(max_length=10000)
    limitations = StrictChar(max_length=10000, required=False, allow_blank=True)
    expected_status = serializers.ChoiceField(
        choices=ServiceStatus.choices, required=False, default="degraded_performance"
    )
    needs_concession = StrictBoolean(required=False, default=True)

    def to_representation(self, runbook):
        version = selectors.runbook_current(runbook)
        body = {
            "id": runbook.pk,
            "title": runbook.title,
            "process": runbook.process_id,
            "service": runbook.service.slug if runbook.service else None,
            "is_active": runbook.is_active,
            "version": runbook.version,
        }
        if version:
            body.update(_version_body(version))
        return body

    def validate(self, data):
        process = data.get("process", getattr(self.instance, "process", None))
        service = data.get("service", getattr(self.instance, "service", None))
        if process is None and service is None:
            raise serializers.ValidationError(
                {"process": [_("Name the process or the service the runbook is for.")]}
            )
        return data


def _version_body(version) -> dict:
    return {
        "version": version.number,
        "preconditions": version.preconditions,
        "steps": version.steps,
        "performer": version.performer,
        "customer_text_de": version.customer_text_de,
        "customer_text_en": version.customer_text_en,
        "limitations": version.limitations,
        "expected_status": version.expected_status,
        "needs_concession": version.needs_concession,
    }


# --- processes --------------------------------------------------------------------------------


def _read_processes(request, processes, *, many: bool = True):
    if role_of(request.user) == "customer":
        own = set(request.user.customer.services.values_list("pk", flat=True))
        return CustomerProcessSerializer(processes, many=many, context={"own": own}).data
    return ProcessSerializer(processes, many=many).data


@extend_schema(tags=["continuity"])
class ProcessListView(APIView):
    @extend_schema(responses={200: ProcessSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response(_read_processes(request, selectors.processes_for(request.user)))

    @extend_schema(request=ProcessSerializer, responses={201: ProcessSerializer, **ERRORS})
    def post(self, request):
        _require_manager(request)
        data = ProcessSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        process = process_create(actor=request.user, **data.validated_data)
        return Response(ProcessSerializer(process).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["continuity"])
class ProcessDetailView(APIView):
    @extend_schema(responses={200: ProcessSerializer, **ERRORS})
    def get(self, request, pk: int):
        process = get_object_or_404(selectors.processes_for(request.user), pk=pk)
        return Response(_read_processes(request, process, many=False))

    @extend_schema(request=ProcessSerializer, responses={200: ProcessSerializer, **ERRORS})
    def patch(self, request, pk: int):
        process = get_object_or_404(selectors.processes_for(request.user), pk=pk)
        _require_manager(request)
        data = ProcessSerializer(process, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        process = process_update(process=process, actor=request.user, **data.validated_data)
        return Response(ProcessSerializer(process).data)


# --- runbooks ---------------------------------------------------------------------------------


@extend_schema(tags=["continuity"])
class RunbookListView(APIView):
    @extend_schema(responses={200: RunbookSerializer(many=True), **ERRORS})
    def get(self, request):
        _require_team(request)
        runbooks = selectors.runbooks_for(request.user).order_by("title", "pk")
        return Response(RunbookSerializer(runbooks, many=True).data)

    @extend_schema(request=RunbookSerializer, responses={201: RunbookSerializer, **ERRORS})
    def post(self, request):
        _require_manager(request)
        data = RunbookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("is_active", None)
        runbook = runbook_create(actor=request.user, **fields)
        return Response(RunbookSerializer(runbook).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["continuity"])
class RunbookDetailView(APIView):
    @extend_schema(responses={200: RunbookSerializer, **ERRORS})
    def get(self, request, pk: int):
        _require_team(request)
        return Response(RunbookSerializer(get_object_or_404(Runbook, pk=pk)).data)

    @extend_schema(
        request=RunbookSerializer,
        responses={200: RunbookSerializer, **ERRORS},
        description="An edit makes a new version; incidents keep the version they used.",
    )
    def patch(self, request, pk: int):
        _require_team(request)
        runbook = get_object_or_404(Runbook, pk=pk)
        _require_manager(request)
        data = RunbookSerializer(runbook, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        runbook_revise(runbook=runbook, actor=request.user, **data.validated_data)
        runbook.refresh_from_db()
        return Response(RunbookSerializer(runbook).data)


# --- on an incident ---------------------------------------------------------------------------


class DeadlineSerializer(serializers.Serializer):
    process = serializers.IntegerField()
    name = StrictChar()
    rto_minutes = serializers.IntegerField()
    mtpd_minutes = serializers.IntegerField()
    rto_at = serializers.DateTimeField()
    mtpd_at = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=["ok", "rto_breached", "mtpd_breached", "recovered"])


class ContinuitySerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["disruption", "emergency", "crisis"])
    level_manual = serializers.BooleanField()
    level_reason = StrictChar()
    level_derived = StrictChar()
    processes = DeadlineSerializer(many=True)
    runbooks = serializers.ListField(child=serializers.DictField())
    workaround = serializers.DictField(allow_null=True)


def _continuity_body(incident) -> dict:
    context = continuity_context(incident)
    level = context["level"]
    workaround = context["workaround"]
    return {
        "level": level.level if level else "disruption",
        "level_manual": bool(level and level.manual),
        "level_reason": level.reason if level else "",
        "level_derived": context["level_derived"],
        "processes": [
            {
                "process": row["d"].process.pk,
                "name": row["d"].process.name,
                "rto_minutes": row["d"].rto_minutes,
                "mtpd_minutes": row["d"].mtpd_minutes,
                "rto_at": row["d"].rto_at,
                "mtpd_at": row["d"].mtpd_at,
                "state": row["state"],
            }
            for row in context["deadlines"]
        ],
        "runbooks": [
            {"id": rb.pk, "title": rb.title, **(_version_body(rb.current) if rb.current else {})}
            for rb in context["runbooks"]
        ],
        "workaround": workaround_body(workaround) if workaround else None,
    }


def workaround_body(workaround) -> dict:
    version = workaround.runbook_version
    return {
        "id": workaround.pk,
        "ad_hoc": workaround.ad_hoc,
        "runbook": version.runbook_id if version else None,
        "runbook_version": version.number if version else None,
        "text": workaround.text,
        "customer_text_de": workaround.customer_text_de,
        "customer_text_en": workaround.customer_text_en,
        "decided_by": workaround.decided_by.username if workaround.decided_by else None,
        "decided_at": workaround.decided_at.isoformat(),
        "needs_concession": workaround.needs_concession,
        "concessions": [
            {
                "customer": c.customer.slug,
                "accepted_by": c.accepted_by,
                "accepted_at": c.accepted_at.isoformat(),
                "conditions": c.conditions,
                "recorded_by": c.recorded_by.username if c.recorded_by else None,
            }
            for c in workaround.concessions.all()
        ],
    }


@extend_schema(tags=["continuity"], responses={200: ContinuitySerializer, **ERRORS})
class IncidentContinuityView(APIView):
    """Affected processes with RTO/MTPD deadlines (from detection), the runbooks offered, the
    workaround record with its concessions, and the disruption level."""

    def get(self, request, pk: int):
        if role_of(request.user) not in ("staff", "executive"):
            raise exceptions.NotFound()
        incident = get_object_or_404(incidents_readable_by(request.user), pk=pk)
        return Response(ContinuitySerializer(_continuity_body(incident)).data)


class WorkaroundInputSerializer(serializers.Serializer):
    runbook = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**31 - 1,
        help_text="Apply this runbook's current version.",
    )
    workaround = s.Text(
        max_length=10000, required=False, allow_blank=True, help_text="Ad hoc (no runbook)."
    )
    customer_text = StrictChar(
        max_length=10000,
        required=False,
        allow_blank=True,
        help_text="What customers read (German; default: the runbook's).",
    )
    customer_text_en = StrictChar(max_length=10000, required=False, allow_blank=True)

    def validate(self, data):
        if not data.get("runbook") and not (data.get("workaround") or "").strip():
            raise serializers.ValidationError(
                {"workaround": [_("Give a runbook id, or describe the workaround.")]}
            )
        if data.get("runbook"):
            runbook = Runbook.objects.filter(pk=data["runbook"], is_active=True).first()
            if runbook is None:
                raise serializers.ValidationError({"runbook": [_("No such active runbook.")]})
            data["runbook"] = runbook
        return data


class IncidentWorkaroundView(IncidentActionView):
    """The core's workaround action (same answer, same Idempotency-Key), extended: with
    `runbook` it applies that runbook's current version, and either way the workaround record
    (runbook version or ad hoc, who decided, when) is kept."""

    action_name = "provide_workaround"

    @extend_schema(
        tags=["incident actions"],
        request=WorkaroundInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.IncidentSerializer, **TRANSITION_ERRORS, **IDEMPOTENT_ERRORS},
        operation_id="incident_provide_workaround",
    )
    def post(self, request, pk: int):
        return self.idempotent(request, lambda: self._act(request, pk))

    def _act(self, request, pk: int):
        incident = _writable(request, pk)
        data = WorkaroundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        workaround_apply(
            incident=incident,
            actor=request.user,
            runbook=fields.get("runbook"),
            text=fields.get("workaround", ""),
            customer_text_de=fields.get("customer_text", ""),
            customer_text_en=fields.get("customer_text_en", ""),
        )
        incident = incident_list_for(request.user).get(pk=incident.pk)
        return Response(s.IncidentSerializer(incident, context={"request": request}).data)
