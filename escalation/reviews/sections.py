"""What this app contributes to the core's pages through escalation.hooks: the review panel on
the console's incident page, the executive summary on the dashboard, the dossier's section (the
review and its actions) and the handbook's section (the review and CAPA rules in force)."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import selectors
from .models import TEXT_FIELDS, Action, Review
from .services import REMIND_BEFORE


def incident_panel(request, incident) -> str:
    """Two queries: the review (with its people) and its actions."""
    if not selectors.may_read(request.user):
        return ""
    review = selectors.review_of(incident)
    return render_to_string(
        "reviews/_incident_panel.html",
        {
            "incident": incident,
            "review": review,
            "actions": selectors.actions_of(review) if review else [],
            "required": incident.escalated_at is not None,
            "may_write": selectors.may_write(request.user),
            "today": timezone.localdate(),
        },
        request=request,
    )


def dashboard_section(request, now) -> str:
    """Executive summary: reviews approved in the last 30 days, and overdue actions."""
    today = timezone.localdate(now)
    reviews = selectors.recent_reviews(since=now - timedelta(days=30))
    overdue = list(selectors.overdue_actions(today)[:10])
    if not reviews and not overdue:
        return ""
    return render_to_string(
        "reviews/_dashboard.html",
        {"reviews": reviews, "overdue": overdue, "today": today},
        request=request,
    )


def _action_item(action: Action) -> dict:
    return {
        "id": action.pk,
        "title": action.title,
        "kind": action.kind,
        "owner": str(action.owner),
        "due_on": action.due_on.isoformat(),
        "state": action.state,
        "done_at": action.done_at.isoformat() if action.done_at else None,
        "check_on": action.check_on.isoformat(),
        "check_kind": action.check_kind,
        "check_criterion": action.check_criterion,
        "checked_at": action.checked_at.isoformat() if action.checked_at else None,
        "check_note": action.check_note,
    }


def review_data(review: Review) -> dict:
    """The review as JSON (the dossier; the API has its own serializer)."""
    return {
        "id": review.pk,
        "state": review.state,
        **{name: getattr(review, name) for name in TEXT_FIELDS},
        "key_moments": [
            {"seq": e.seq, "at": e.created_at.isoformat(), "kind": e.kind, "actor": e.actor_label}
            for e in selectors.key_moments_of(review)
        ],
        "figures": selectors.figures_of(review),
        "author": str(review.author) if review.author else None,
        "submitted_at": review.submitted_at.isoformat() if review.submitted_at else None,
        "approved_by": str(review.approved_by) if review.approved_by else None,
        "approved_at": review.approved_at.isoformat() if review.approved_at else None,
    }


def dossier_section(incident) -> dict | None:
    review = selectors.review_of(incident)
    if review is None:
        return None
    return {
        "key": "reviews",
        "title": _("Post-incident review and corrective actions"),
        "items": [
            {
                "review": review_data(review),
                "actions": [_action_item(a) for a in selectors.actions_of(review)],
            }
        ],
    }


def handbook_section(as_of) -> dict:
    """The rules are in the code (this app), so they are the same at every date."""
    return {
        "key": "reviews",
        "title": _("Post-incident review and corrective actions (CAPA)"),
        "where": _("Console: an incident's review page, and Corrective actions (%(url)s)")
        % {"url": reverse("reviews:actions")},
        "html": render_to_string(
            "reviews/_handbook.html", {"remind_days": REMIND_BEFORE.days, "as_of": as_of}
        ),
    }
