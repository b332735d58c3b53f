"""/api/v1/incidents/{id}/review/ (and its steps) and /api/v1/actions/: read by the team and
executives, written by escalation managers; customers get a 404, as if none of it existed."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation.api.serializers import StrictBoolean, StrictChar, Text
from escalation.api.views import ERRORS, TRANSITION_ERRORS
from escalation.selectors import incidents_readable_by
from incidents.models import User

from . import selectors, services
from .models import TEXT_FIELDS, Action, Review
from .sections import review_data


def _reader(request) -> None:
    if not selectors.may_read(request.user):
        raise exceptions.NotFound()


def _review(request, pk: int) -> Review:
    _reader(request)
    incident = get_object_or_404(incidents_readable_by(request.user, prefetch=False), pk=pk)
    review = selectors.review_of(incident)
    if review is None:
        raise exceptions.NotFound(_("This incident has no review yet."))
    return review


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = StrictChar()
    summary = StrictChar()
    customer_impact = StrictChar()
    business_impact = StrictChar()
    root_cause = StrictChar()
    contributing_factors = StrictChar()
    went_well = StrictChar()
    went_badly = StrictChar()
    key_moments = serializers.ListField(child=serializers.DictField())
    figures = serializers.DictField()
    author = StrictChar(allow_null=True)
    submitted_at = StrictChar(allow_null=True)
    approved_by = StrictChar(allow_null=True)
    approved_at = StrictChar(allow_null=True)


class ReviewEditSerializer(serializers.Serializer):
    summary = StrictChar(max_length=20000, required=False, allow_blank=True)
    customer_impact = StrictChar(max_length=20000, required=False, allow_blank=True)
    business_impact = StrictChar(max_length=20000, required=False, allow_blank=True)
    root_cause = StrictChar(max_length=20000, required=False, allow_blank=True)
    contributing_factors = StrictChar(max_length=20000, required=False, allow_blank=True)
    went_well = StrictChar(max_length=20000, required=False, allow_blank=True)
    went_badly = StrictChar(max_length=20000, required=False, allow_blank=True)
    key_moments = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        max_length=500,
    )


def _answer(review: Review, code=status.HTTP_200_OK) -> Response:
    return Response(review_data(Review.objects.get(pk=review.pk)), status=code)


class ReviewView(APIView):
    """The incident's post-incident review. POST drafts it from the record (idempotent); PATCH
    edits a draft (an approved review is frozen: 409)."""

    @extend_schema(tags=["reviews"], responses={200: ReviewSerializer, **ERRORS})
    def get(self, request, pk: int):
        return _answer(_review(request, pk))

    @extend_schema(
        tags=["reviews"], request=None, responses={201: ReviewSerializer, **TRANSITION_ERRORS}
    )
    def post(self, request, pk: int):
        _reader(request)
        incident = get_object_or_404(incidents_readable_by(request.user, prefetch=False), pk=pk)
        review = services.review_draft(incident=incident, actor=request.user)
        return _answer(review, status.HTTP_201_CREATED)

    @extend_schema(
        tags=["reviews"],
        request=ReviewEditSerializer,
        responses={200: ReviewSerializer, **TRANSITION_ERRORS},
    )
    def patch(self, request, pk: int):
        review = _review(request, pk)
        data = ReviewEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        texts = {k: v for k, v in fields.items() if k in TEXT_FIELDS}
        review = services.review_edit(
            review=review, actor=request.user, key_moments=fields.get("key_moments"), **texts
        )
        return _answer(review)


class ReviewStepSerializer(serializers.Serializer):
    reason = StrictChar(max_length=5000, required=False, allow_blank=True)


def _step_view(name: str, doc: str):
    @extend_schema(
        tags=["reviews"],
        request=ReviewStepSerializer,
        responses={200: ReviewSerializer, **TRANSITION_ERRORS},
        summary=doc,
    )
    def post(self, request, pk: int):
        review = _review(request, pk)
        data = ReviewStepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if name == "submit":
            review = services.review_submit(review=review, actor=request.user)
        elif name == "approve":
            review = services.review_approve(review=review, actor=request.user)
        else:
            reason = data.validated_data.get("reason", "")
            review = services.review_send_back(review=review, actor=request.user, reason=reason)
        return _answer(review)

    return type(f"Review{name.title().replace('_', '')}View", (APIView,), {"post": post})


ReviewSubmitView = _step_view("submit", "Submit the draft for approval")
ReviewApproveView = _step_view("approve", "Approve (four eyes: not the author; 403 four_eyes)")
ReviewSendBackView = _step_view("send_back", "Send back to the author as a draft, with a reason")


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = Text(max_length=300)
    description = StrictChar(max_length=10000, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Action.Kind.choices)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True, is_staff=True)
    )
    due_on = serializers.DateField()
    state = StrictChar(read_only=True)
    incident = serializers.IntegerField(
        write_only=True,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The incident whose review the action comes from.",
    )
    review_incident = serializers.IntegerField(
        source="review.incident_id", read_only=True, allow_null=True
    )
    check_on = serializers.DateField()
    check_kind = serializers.ChoiceField(
        choices=Action.Check.choices, required=False, default=Action.Check.NO_RECURRENCE
    )
    check_criterion = StrictChar(max_length=500, required=False, allow_blank=True)
    done_at = serializers.DateTimeField(read_only=True, allow_null=True)
    checked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    check_note = StrictChar(read_only=True)

    def validate(self, data):
        if data["check_on"] < data["due_on"]:
            raise serializers.ValidationError(
                {"check_on": [_("The effectiveness check comes after the due date.")]}
            )
        return data


class ActionListView(APIView):
    """Corrective and preventive actions, soonest due first. `?state=` open, done, effective,
    ineffective, cancelled, active (open or done) or overdue."""

    @extend_schema(tags=["reviews"], responses={200: ActionSerializer(many=True), **ERRORS})
    def get(self, request):
        _reader(request)
        state = request.query_params.get("state", "")
        if state not in ("", "active", "overdue", *Action.State.values):
            raise exceptions.ValidationError({"state": [_("Unknown state.")]})
        actions = selectors.actions_for_team(state=state)[:500]
        return Response(ActionSerializer(actions, many=True).data)

    @extend_schema(
        tags=["reviews"],
        request=ActionSerializer,
        responses={201: ActionSerializer, **TRANSITION_ERRORS},
    )
    def post(self, request):
        _reader(request)
        data = ActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        review = _review(request, fields.pop("incident"))
        action = services.action_create(actor=request.user, review=review, **fields)
        return Response(ActionSerializer(action).data, status=status.HTTP_201_CREATED)


class ActionDetailView(APIView):
    @extend_schema(tags=["reviews"], responses={200: ActionSerializer, **ERRORS})
    def get(self, request, pk: int):
        _reader(request)
        return Response(ActionSerializer(get_object_or_404(Action, pk=pk)).data)


class _ActionStepSerializer(serializers.Serializer):
    note = StrictChar(max_length=5000)
    effective = StrictBoolean(required=False, help_text="The verdict (verdict step only).")


def _action_step_view(name: str, doc: str):
    @extend_schema(
        tags=["reviews"],
        request=_ActionStepSerializer,
        responses={200: ActionSerializer, **TRANSITION_ERRORS},
        summary=doc,
    )
    def post(self, request, pk: int):
        _reader(request)
        action = get_object_or_404(Action, pk=pk)
        data = _ActionStepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = data.validated_data["note"]
        if name == "complete":
            action = services.action_complete(action=action, actor=request.user, note=note)
        elif name == "verdict":
            if "effective" not in data.validated_data:
                # DRF's own message for a missing field (translated by DRF)
                required = serializers.Field.default_error_messages["required"]
                raise exceptions.ValidationError({"effective": [required]})
            action = services.action_verdict(
                action=action,
                actor=request.user,
                effective=data.validated_data["effective"],
                note=note,
            )
        else:
            action = services.action_cancel(action=action, actor=request.user, reason=note)
        return Response(ActionSerializer(action).data)

    return type(f"Action{name.title()}View", (APIView,), {"post": post})


ActionCompleteView = _action_step_view("complete", "Report the action done (owner or manager)")
ActionVerdictView = _action_step_view("verdict", "Record the effectiveness check's verdict")
ActionCancelView = _action_step_view("cancel", "Cancel the action, with the reason as note")
