"""The console's pages of reviews and actions (HTML and PDF). Escalation managers write; the
team and executives read; customers never (403, as the whole console)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from escalation.selectors import incidents_readable_by
from incidents.exceptions import ApplicationError
from incidents.pdf import render_pdf

from . import selectors, services
from .forms import ActionForm, NoteForm, ReviewForm, VerdictForm
from .models import TEXT_FIELDS, Action, Review


def _reader(request) -> None:
    if not selectors.may_read(request.user):
        raise PermissionDenied


def _writer(request) -> None:
    if not selectors.may_write(request.user):
        raise PermissionDenied


def _incident(request, pk: int):
    return get_object_or_404(incidents_readable_by(request.user, prefetch=False), pk=pk)


def _review(request, pk: int) -> Review:
    return get_object_or_404(
        Review.objects.select_related("incident"), incident=_incident(request, pk)
    )


def _context(request, incident, review: Review | None) -> dict:
    context = {
        "incident": incident,
        "review": review,
        "may_write": selectors.may_write(request.user),
        "today": timezone.localdate(),
        "text_fields": [],
    }
    if review is not None:
        context.update(
            figures=selectors.figures_of(review),
            moments=selectors.key_moments_of(review),
            actions=selectors.actions_of(review),
            text_fields=[
                (Review._meta.get_field(n).verbose_name, getattr(review, n)) for n in TEXT_FIELDS
            ],
        )
    return context


@login_required
def review_page(request, pk: int):
    """GET: the review (or the offer to draft it); POST: save a draft's edits."""
    _reader(request)
    incident = _incident(request, pk)
    review = selectors.review_of(incident)
    form = action_form = None
    if (
        review is not None
        and review.state == Review.State.DRAFT
        and selectors.may_write(request.user)
    ):
        events = selectors.timeline_of(incident)
        form = ReviewForm(request.POST or None, instance=review, events=events)
        if request.method == "POST" and form.is_valid():
            data = {name: form.cleaned_data[name] for name in TEXT_FIELDS}
            try:
                services.review_edit(
                    review=review,
                    actor=request.user,
                    key_moments=form.cleaned_data["key_moments"],
                    **data,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The review was saved."))
                return redirect("reviews:review", pk=incident.pk)
    elif request.method == "POST":
        _writer(request)
        return redirect("reviews:review", pk=incident.pk)
    if review is not None and not review.is_frozen and selectors.may_write(request.user):
        action_form = ActionForm(initial={"kind": Action.Kind.CORRECTIVE})
    context = _context(request, incident, review)
    context.update(form=form, action_form=action_form, note_form=NoteForm())
    return render(
        request, "reviews/review.html", context, status=400 if form and form.errors else 200
    )


@login_required
@require_safe
def review_pdf(request, pk: int):
    _reader(request)
    review = _review(request, pk)
    html = render_to_string(
        "reviews/review_pdf.html",
        {**_context(request, review.incident, review), "now": timezone.now()},
        request=request,
    )
    pdf = render_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="pir-{review.incident_id}.pdf"'
    return response


def _step(request, pk: int, call, done: str):
    _writer(request)
    try:
        call()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("reviews:review", pk=pk)


@login_required
@require_POST
def review_draft_view(request, pk: int):
    _writer(request)
    incident = _incident(request, pk)
    return _step(
        request,
        pk,
        lambda: services.review_draft(incident=incident, actor=request.user),
        _("The review was drafted from the record."),
    )


@login_required
@require_POST
def review_submit_view(request, pk: int):
    _writer(request)
    review = _review(request, pk)
    return _step(
        request,
        pk,
        lambda: services.review_submit(review=review, actor=request.user),
        _("The review was submitted for approval."),
    )


@login_required
@require_POST
def review_approve_view(request, pk: int):
    _writer(request)
    review = _review(request, pk)
    return _step(
        request,
        pk,
        lambda: services.review_approve(review=review, actor=request.user),
        _("The review was approved."),
    )


@login_required
@require_POST
def review_send_back_view(request, pk: int):
    _writer(request)
    review = _review(request, pk)
    form = NoteForm(request.POST)
    reason = form.cleaned_data["note"] if form.is_valid() else ""
    return _step(
        request,
        pk,
        lambda: services.review_send_back(review=review, actor=request.user, reason=reason),
        _("The review was sent back to its author."),
    )


@login_required
@require_POST
def action_add_view(request, pk: int):
    _writer(request)
    review = _review(request, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        context = _context(request, review.incident, review)
        context.update(form=None, action_form=form, note_form=NoteForm())
        return render(request, "reviews/review.html", context, status=400)
    return _step(
        request,
        pk,
        lambda: services.action_create(actor=request.user, review=review, **form.cleaned_data),
        _("The action was added."),
    )


# --- Actions -----------------------------------------------------------------------------------


@login_required
@require_safe
def action_list(request):
    _reader(request)
    state = request.GET.get("state", "active")
    if state not in ("active", "overdue", "all", *Action.State.values):
        state = "active"
    actions = selectors.actions_for_team(state="" if state == "all" else state)[:500]
    return render(
        request,
        "reviews/actions.html",
        {
            "actions": actions,
            "state": state,
            "states": Action.State.choices,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_safe
def action_detail(request, pk: int):
    _reader(request)
    action = get_object_or_404(selectors.actions_for_team(), pk=pk)
    may_complete = selectors.may_write(request.user) or action.owner_id == request.user.pk
    return render(
        request,
        "reviews/action.html",
        {
            "action": action,
            "may_write": selectors.may_write(request.user),
            "may_complete": may_complete,
            "note_form": NoteForm(),
            "verdict_form": VerdictForm(),
            "today": timezone.localdate(),
        },
    )


def _action_step(request, pk: int, call, done: str):
    try:
        call()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("reviews:action", pk=pk)


@login_required
@require_POST
def action_complete_view(request, pk: int):
    _reader(request)
    action = get_object_or_404(selectors.actions_for_team(), pk=pk)
    if not (selectors.may_write(request.user) or action.owner_id == request.user.pk):
        raise PermissionDenied
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _action_step(
        request,
        pk,
        lambda: services.action_complete(action=action, actor=request.user, note=note),
        _("The action is done; its effectiveness will be checked."),
    )


@login_required
@require_POST
def action_verdict_view(request, pk: int):
    _writer(request)
    action = get_object_or_404(selectors.actions_for_team(), pk=pk)
    form = VerdictForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a verdict and say how it was judged."))
        return redirect("reviews:action", pk=pk)
    return _action_step(
        request,
        pk,
        lambda: services.action_verdict(
            action=action,
            actor=request.user,
            effective=form.cleaned_data["effective"],
            note=form.cleaned_data["note"],
        ),
        _("The effectiveness check was recorded."),
    )


@login_required
@require_POST
def action_cancel_view(request, pk: int):
    _writer(request)
    action = get_object_or_404(selectors.actions_for_team(), pk=pk)
    form = NoteForm(request.POST)
    reason = form.cleaned_data["note"] if form.is_valid() else ""
    return _action_step(
        request,
        pk,
        lambda: services.action_cancel(action=action, actor=request.user, reason=reason),
        _("The action was cancelled."),
    )
