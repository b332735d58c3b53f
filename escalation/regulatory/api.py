"""/api/v1/incidents/{id}/reporting/: an incident's regulatory assessments, obligations (reports
with their deadlines and states) and report texts; actions to assess, change the moment of
becoming aware, save a draft, mark a report submitted and attach the authority's reference.

Executives and the team read (responders what they are pulled into); escalation managers write;
customer contacts are refused (403) whatever the id, before any lookup."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation.api.serializers import StrictBoolean, StrictChar
from escalation.api.views import ERRORS, TRANSITION_ERRORS
from escalation.dashboard.selectors import viewer_role
from escalation.selectors import console_incidents_for, incidents_readable_by
from incidents.selectors import role_of

from . import selectors
from .models import Assessment, Regime, Report
from .services import (
    assessment_decide,
    awareness_set,
    report_draft_save,
    report_reference_set,
    report_submit,
)


class ReportSerializer(serializers.ModelSerializer):
    regime = StrictChar(source="assessment.regime.code")
    code = StrictChar(source="report_type.code")
    name = StrictChar(source="report_type.name_en")
    name_de = StrictChar(source="report_type.name")
    authority = StrictChar(source="assessment.regime.authority")
    frozen = serializers.BooleanField(source="is_frozen")

    class Meta:
        model = Report
        fields = [
            "id",
            "regime",
            "code",
            "name",
            "name_de",
            "authority",
            "state",
            "rule",
            "started_at",
            "due_at",
            "next_alert_at",
            "breached_at",
            "submitted_at",
            "submitted_by_label",
            "reference",
            "frozen",
            "text",
            "text_en",
        ]


class AssessmentSerializer(serializers.ModelSerializer):
    regime = StrictChar(source="regime.code")
    regime_name = StrictChar(source="regime.name")
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "regime",
            "regime_name",
            "decision",
            "checks",
            "personal_data",
            "users_affected",
            "reason",
            "decided_by",
            "decided_at",
        ]

    def get_decided_by(self, assessment) -> str:
        return assessment.decided_by.display_name if assessment.decided_by else ""


class RegimeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Regime
        fields = ["code", "name", "authority", "legal_basis", "criteria"]


class ReportingSerializer(serializers.Serializer):
    incident = serializers.IntegerField()
    aware_at = serializers.DateTimeField(allow_null=True)
    aware_recorded = serializers.BooleanField()
    regimes = RegimeSerializer(many=True)
    assessments = AssessmentSerializer(many=True)
    reports = ReportSerializer(many=True)


class AssessInput(serializers.Serializer):
    regime = serializers.SlugRelatedField(
        slug_field="code", queryset=Regime.objects.filter(is_active=True)
    )
    decision = serializers.ChoiceField(
        choices=[Assessment.Decision.REPORTABLE, Assessment.Decision.NOT_REPORTABLE]
    )
    reason = StrictChar(max_length=4000)
    checks = serializers.DictField(child=StrictBoolean(), required=False, default=dict)
    personal_data = StrictBoolean(required=False, allow_null=True, default=None)
    users_affected = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=2**31 - 1
    )


class AwareInput(serializers.Serializer):
    aware_at = serializers.DateTimeField()
    reason = StrictChar(max_length=2000)


class DraftInput(serializers.Serializer):
    text = StrictChar(max_length=50000, allow_blank=True)
    text_en = StrictChar(max_length=50000, allow_blank=True)


class SubmitInput(serializers.Serializer):
    submitted_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reference = StrictChar(max_length=200, required=False, allow_blank=True, default="")


class ReferenceInput(serializers.Serializer):
    reference = StrictChar(max_length=200)


def _refuse_customers(request) -> None:
    if role_of(request.user) == "customer":
        raise exceptions.PermissionDenied(_("Regulatory reporting is internal."))


def _readable(request, pk: int):
    _refuse_customers(request)
    return get_object_or_404(incidents_readable_by(request.user, prefetch=False), pk=pk)


def _writable(request, pk: int):
    _refuse_customers(request)
    if viewer_role(request.user) != "manager":
        raise exceptions.PermissionDenied(
            _("Only escalation managers record regulatory reporting.")
        )
    return get_object_or_404(console_incidents_for(request.user), pk=pk)


def _report(request, pk: int, report_pk: int) -> Report:
    incident = _writable(request, pk)
    return get_object_or_404(Report.objects.filter(assessment__incident=incident), pk=report_pk)


def _overview(incident) -> dict:
    return ReportingSerializer(
        {
            "incident": incident.pk,
            "aware_at": selectors.aware_at(incident),
            "aware_recorded": selectors.awareness_recorded(incident),
            "regimes": list(selectors.regimes_for(incident)),
            "assessments": list(selectors.assessments_for(incident)),
            "reports": list(selectors.reports_for(incident)),
        }
    ).data


@extend_schema(tags=["regulatory reporting"])
class ReportingView(APIView):
    @extend_schema(
        summary="An incident's regulatory reporting",
        description="Regimes covering the incident, assessments, and the reports with their "
        "deadlines and states. The product submits nothing to authorities by itself.",
        responses={200: ReportingSerializer, **ERRORS},
    )
    def get(self, request, pk: int):
        return Response(_overview(_readable(request, pk)))


@extend_schema(tags=["regulatory reporting"])
class AssessView(APIView):
    @extend_schema(
        summary="Decide whether the incident is reportable under a regime",
        request=AssessInput,
        responses={200: ReportingSerializer, **ERRORS},
    )
    def post(self, request, pk: int):
        incident = _writable(request, pk)
        data = AssessInput(data=request.data)
        data.is_valid(raise_exception=True)
        assessment_decide(incident=incident, actor=request.user, **data.validated_data)
        return Response(_overview(incident))


@extend_schema(tags=["regulatory reporting"])
class AwareView(APIView):
    @extend_schema(
        summary="Change when we became aware (with a reason)",
        request=AwareInput,
        responses={200: ReportingSerializer, **ERRORS},
    )
    def post(self, request, pk: int):
        incident = _writable(request, pk)
        data = AwareInput(data=request.data)
        data.is_valid(raise_exception=True)
        awareness_set(incident=incident, actor=request.user, **data.validated_data)
        return Response(_overview(incident))


@extend_schema(tags=["regulatory reporting"])
class DraftView(APIView):
    @extend_schema(
        summary="Save a report's draft (refused once submitted: 409 report_frozen)",
        request=DraftInput,
        responses={200: ReportSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request, pk: int, report_pk: int):
        report = _report(request, pk, report_pk)
        data = DraftInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_draft_save(report=report, actor=request.user, **data.validated_data)
        return Response(ReportSerializer(report).data)


@extend_schema(tags=["regulatory reporting"])
class SubmitView(APIView):
    @extend_schema(
        summary="Mark a report submitted to the authority",
        description="Stops its clock, freezes its text and starts the next report's period. "
        "409 report_frozen if submitted already, 409 report_not_due if its period has not "
        "started.",
        request=SubmitInput,
        responses={200: ReportSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request, pk: int, report_pk: int):
        report = _report(request, pk, report_pk)
        data = SubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        report = report_submit(
            report=report,
            actor=request.user,
            submitted_at=values["submitted_at"] or timezone.now(),
            reference=values["reference"],
        )
        return Response(ReportSerializer(report).data)


@extend_schema(tags=["regulatory reporting"])
class ReferenceView(APIView):
    @extend_schema(
        summary="Attach the authority's reference to a submitted report",
        request=ReferenceInput,
        responses={200: ReportSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request, pk: int, report_pk: int):
        report = _report(request, pk, report_pk)
        data = ReferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_reference_set(
            report=report, actor=request.user, reference=data.validated_data["reference"]
        )
        return Response(ReportSerializer(report).data)
