"""/api/v1/problems/ (the team writes, executives read, customers none of it) and the known
errors of an incident (/api/v1/incidents/{id}/known-errors/)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation.api.serializers import KnownFieldsOnly, StrictChar, Text
from escalation.api.views import ERRORS, TRANSITION_ERRORS
from escalation.selectors import console_incidents_for, incidents_readable_by, is_responder_only
from incidents.models import Service, User
from incidents.selectors import role_of

from .models import ACTION_LABELS, FISHBONE_CATEGORIES, Problem, RootCauseMethod
from .selectors import known_errors_for_incident, problem_linked_to, problems_for
from .services import (
    allowed_actions,
    problem_create,
    problem_link_incident,
    problem_transition,
    problem_unlink_incident,
    problem_update,
)

# --- Output --------------------------------------------------------------------------------------


class ProblemRootCauseSerializer(serializers.Serializer):
    summary = StrictChar(max_length=10000, allow_blank=True, required=False, default="")
    method = serializers.ChoiceField(
        choices=RootCauseMethod.choices, allow_blank=True, required=False, default=""
    )
    whys = serializers.ListField(
        child=Text(max_length=500), max_length=10, required=False, help_text="5 whys, in order."
    )
    categories = serializers.DictField(
        child=serializers.ListField(child=Text(max_length=500), max_length=20),
        required=False,
        help_text="Fishbone: causes per category (" + ", ".join(FISHBONE_CATEGORIES) + ").",
    )

    def validate_categories(self, value: dict) -> dict:
        unknown = sorted(set(value) - set(FISHBONE_CATEGORIES))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown categories: %(names)s.") % {"names": ", ".join(unknown)}
            )
        return value


class KnownErrorSerializer(serializers.Serializer):
    is_known_error = serializers.BooleanField()
    since = serializers.DateTimeField(allow_null=True)
    workaround = StrictChar()
    dedup_keys = serializers.ListField(child=StrictChar())
    alert_labels = serializers.DictField(child=StrictChar())


class ProblemFixSerializer(serializers.Serializer):
    change_ref = StrictChar(max_length=200, allow_blank=True, required=False)
    description = StrictChar(max_length=10000, allow_blank=True, required=False)
    fixed_at = serializers.DateTimeField(allow_null=True, required=False)


class ProblemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = StrictChar()
    statement = StrictChar()
    description = StrictChar()
    state = StrictChar()
    services = serializers.ListField(child=StrictChar())
    owner = StrictChar(allow_null=True)
    incidents = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The linked incidents the caller may read (responders: those they are "
        "pulled into).",
    )
    known_error = KnownErrorSerializer()
    root_cause = ProblemRootCauseSerializer()
    fix = ProblemFixSerializer()
    flagged_at = serializers.DateTimeField(allow_null=True)
    flag_reason = StrictChar()
    allowed_actions = serializers.ListField(child=StrictChar())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _present(problem: Problem, viewer: dict, readable: set | None) -> dict:
    analysis = problem.root_cause_analysis or {}
    incidents = [link.incident_id for link in problem.links.all()]
    return ProblemSerializer(
        {
            "id": problem.pk,
            "reference": problem.reference,
            "statement": problem.statement,
            "description": problem.description,
            "state": problem.state,
            "services": [s.slug for s in problem.services.all()],
            "owner": problem.owner.username if problem.owner_id else None,
            "incidents": [i for i in incidents if readable is None or i in readable],
            "known_error": {
                "is_known_error": problem.is_known_error,
                "since": problem.known_error_at,
                "workaround": problem.workaround,
                "dedup_keys": problem.dedup_keys or [],
                "alert_labels": problem.alert_labels or {},
            },
            "root_cause": {
                "summary": problem.root_cause,
                "method": problem.root_cause_method,
                **{k: v for k, v in analysis.items() if k in ("whys", "categories")},
            },
            "fix": {
                "change_ref": problem.fix_change_ref,
                "description": problem.fix_description,
                "fixed_at": problem.fixed_at,
            },
            "flagged_at": problem.flagged_at,
            "flag_reason": problem.flag_reason,
            "allowed_actions": (
                allowed_actions(problem, may_close=viewer["may_close"]) if viewer["team"] else []
            ),
            "created_at": problem.created_at,
            "updated_at": problem.updated_at,
        }
    ).data


def _viewer(user: User) -> dict:
    """Who reads (once per request): a team member, and whether they may close problems."""
    responder = is_responder_only(user)
    return {"team": role_of(user) == "staff", "may_close": not responder, "responder": responder}


def _readable(user: User, viewer: dict, problems: list[Problem]) -> set | None:
    """The linked incidents a responder may read (one query); None: every one (managers and
    executives)."""
    if not viewer["responder"]:
        return None
    return set(
        incidents_readable_by(user, prefetch=False)
        .filter(problem_link__problem__in=problems)
        .values_list("pk", flat=True)
    )


def _out(request, problems: list[Problem]) -> list[dict]:
    viewer = _viewer(request.user)
    readable = _readable(request.user, viewer, problems)
    return [_present(p, viewer, readable) for p in problems]


# --- Input ---------------------------------------------------------------------------------------


class ProblemInputSerializer(KnownFieldsOnly, serializers.Serializer):
    statement = Text(max_length=300)
    description = StrictChar(max_length=10000, allow_blank=True, required=False)
    services = serializers.ListField(  # a list (DRF's many=True would take an object's keys)
        child=serializers.SlugRelatedField(slug_field="slug", queryset=Service.objects.all()),
        max_length=200,
        required=False,
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_staff=True, is_active=True),
        required=False,
        allow_null=True,
    )
    incidents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        max_length=50,
        required=False,
        help_text="Create only: incidents to link (their services join the affected services, "
        "their alert signature becomes the problem's unless given).",
    )
    root_cause = ProblemRootCauseSerializer(required=False)
    workaround = StrictChar(max_length=10000, allow_blank=True, required=False)
    dedup_keys = serializers.ListField(child=Text(max_length=255), max_length=50, required=False)
    alert_labels = serializers.DictField(child=StrictChar(max_length=500), required=False)
    fix = ProblemFixSerializer(required=False)

    def validate_alert_labels(self, value: dict) -> dict:
        if len(value) > 30:
            raise serializers.ValidationError(_("At most 30 labels."))
        return value

    def service_fields(self) -> dict:
        data = dict(self.validated_data)
        fields = {
            k: data[k]
            for k in (
                "statement",
                "description",
                "owner",
                "workaround",
                "dedup_keys",
                "alert_labels",
            )
            if k in data
        }
        if "root_cause" in data:
            cause = data["root_cause"]
            fields["root_cause"] = cause.get("summary", "")
            fields["root_cause_method"] = cause.get("method", "")
            fields["root_cause_analysis"] = {
                k: cause[k] for k in ("whys", "categories") if cause.get(k)
            }
        if "fix" in data:
            fix = data["fix"]
            names = {"change_ref": "fix_change_ref", "description": "fix_description"}
            fields.update({names.get(k, k): v for k, v in fix.items()})
        return fields


class IncidentRefSerializer(serializers.Serializer):
    incident = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class ProblemReasonSerializer(serializers.Serializer):
    reason = StrictChar(max_length=500, allow_blank=True, required=False, default="")


# --- Views ---------------------------------------------------------------------------------------


def _require_reader(request) -> None:
    if role_of(request.user) not in ("staff", "executive"):
        raise exceptions.PermissionDenied(_("Problems are the team's and executives' to read."))


def _problem(request, pk: int) -> Problem:
    _require_reader(request)
    return get_object_or_404(problems_for(request.user).prefetch_related("links"), pk=pk)


@extend_schema(tags=["problems"])
class ProblemListView(APIView):
    @extend_schema(responses={200: ProblemSerializer(many=True), **ERRORS})
    def get(self, request):
        _require_reader(request)
        problems = problems_for(request.user).prefetch_related("links")
        state = request.query_params.get("state", "")
        if state:
            problems = problems.filter(state=state)
        return Response(_out(request, list(problems[:500])))

    @extend_schema(
        request=ProblemInputSerializer,
        # 409 already_linked: an incident given belongs to another problem.
        responses={201: ProblemSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request):
        data = ProblemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("incidents", [])
        incidents = list(console_incidents_for(request.user).filter(pk__in=ids))
        if len(incidents) != len(set(ids)):
            raise exceptions.ValidationError(
                {"incidents": [_("Unknown incidents, or incidents you do not work on.")]}
            )
        problem = problem_create(
            actor=request.user,
            services=data.validated_data.get("services", []),
            incidents=incidents,
            **data.service_fields(),
        )
        problem = _problem(request, problem.pk)
        return Response(_out(request, [problem])[0], status=status.HTTP_201_CREATED)


@extend_schema(tags=["problems"])
class ProblemDetailView(APIView):
    @extend_schema(responses={200: ProblemSerializer, **ERRORS})
    def get(self, request, pk: int):
        return Response(_out(request, [_problem(request, pk)])[0])

    @extend_schema(
        request=ProblemInputSerializer(partial=True), responses={200: ProblemSerializer, **ERRORS}
    )
    def patch(self, request, pk: int):
        problem = _problem(request, pk)
        data = ProblemInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "incidents" in data.validated_data:
            raise exceptions.ValidationError(
                {"incidents": [_("Link and unlink incidents through link/ and unlink/.")]}
            )
        problem_update(
            problem=problem,
            actor=request.user,
            services=data.validated_data.get("services"),
            **data.service_fields(),
        )
        return Response(_out(request, [_problem(request, pk)])[0])


def _incident_to_write(request, pk: int):
    return get_object_or_404(console_incidents_for(request.user), pk=pk)


@extend_schema(tags=["problems"])
class ProblemLinkView(APIView):
    """Link an incident (one the caller works on) to the problem that caused it."""

    @extend_schema(
        request=IncidentRefSerializer, responses={200: ProblemSerializer, **TRANSITION_ERRORS}
    )
    def post(self, request, pk: int):
        problem = _problem(request, pk)
        data = IncidentRefSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = _incident_to_write(request, data.validated_data["incident"])
        problem_link_incident(problem=problem, incident=incident, actor=request.user)
        return Response(_out(request, [_problem(request, pk)])[0])


@extend_schema(tags=["problems"])
class ProblemUnlinkView(APIView):
    @extend_schema(request=IncidentRefSerializer, responses={200: ProblemSerializer, **ERRORS})
    def post(self, request, pk: int):
        problem = _problem(request, pk)
        data = IncidentRefSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = _incident_to_write(request, data.validated_data["incident"])
        problem_unlink_incident(problem=problem, incident=incident, actor=request.user)
        return Response(_out(request, [_problem(request, pk)])[0])


@extend_schema(tags=["problems"])
class ProblemTransitionView(APIView):
    """A lifecycle step: investigate, known_error (needs root cause and workaround), resolve
    (needs the root cause), close (needs the fix; escalation managers only), reopen. A step not
    possible now is a 409 that says why."""

    @extend_schema(
        operation_id="problems_transition",
        parameters=[
            OpenApiParameter(
                "action", str, OpenApiParameter.PATH, enum=list(ACTION_LABELS), required=True
            )
        ],
        request=ProblemReasonSerializer,
        responses={200: ProblemSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request, pk: int, action: str):
        problem = _problem(request, pk)
        if action not in ACTION_LABELS:
            raise exceptions.NotFound()
        data = ProblemReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        problem_transition(
            problem=problem, action=action, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(_out(request, [_problem(request, pk)])[0])


class KnownErrorMatchSerializer(serializers.Serializer):
    problem = ProblemSerializer()
    reasons = serializers.ListField(
        child=serializers.DictField(),
        help_text="Why it matches: {kind: service, services}, {kind: dedup_key, dedup_key}, "
        "{kind: alert_labels, labels}.",
    )


class IncidentKnownErrorsSerializer(serializers.Serializer):
    linked_problem = ProblemSerializer(allow_null=True)
    known_errors = KnownErrorMatchSerializer(many=True)


@extend_schema(tags=["incidents"], responses={200: IncidentKnownErrorsSerializer, **ERRORS})
class IncidentKnownErrorsView(APIView):
    """The known errors matching an incident (same service, same dedup key, or all of a known
    error's alert labels on one of its alerts), with their workarounds, and the problem it is
    linked to. The team's and executives' view only."""

    def get(self, request, pk: int):
        if role_of(request.user) not in ("staff", "executive"):
            raise exceptions.NotFound()
        incident = get_object_or_404(incidents_readable_by(request.user), pk=pk)
        matches = known_errors_for_incident(incident)
        linked = problem_linked_to(incident)
        problems = [m["problem"] for m in matches] + ([linked] if linked else [])
        viewer = _viewer(request.user)
        readable = _readable(request.user, viewer, problems)
        return Response(
            {
                "linked_problem": _present(linked, viewer, readable) if linked else None,
                "known_errors": [
                    {
                        "problem": _present(m["problem"], viewer, readable),
                        "reasons": m["reasons"],
                    }
                    for m in matches
                ],
            }
        )
