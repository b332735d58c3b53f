"""Executives' questions for the escalation manager.

Executives never reach the resolving team: a question from the dashboard is a row in the
manager's queue plus one email to each escalation manager on duty, written in one transaction.
Nothing here changes an incident or contacts a responder. The question row is its own record of
who asked and who answered when (no incident timeline entry: asking must not touch the incident).
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.exceptions import InvalidInput, PermissionDenied
from incidents.models import Incident, State, User

from .. import roles, selectors
from ..dashboard import selectors as dashboard  # the executive read path: who, which incidents
from ..models import Question
from . import matrix

QUESTION_MAX_LENGTH = 2000
ANSWER_MAX_LENGTH = 4000


@transaction.atomic
def question_ask(*, actor: User, text: str, incident: Incident | None = None) -> Question:
    """Queue a question (optionally about an open escalation) and email the managers on duty."""
    if not dashboard.viewer_role(actor):
        raise PermissionDenied(_("Only executives and escalation managers may ask questions here."))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Please write your question."), field="text")
    if len(text) > QUESTION_MAX_LENGTH:
        raise InvalidInput(
            _("A question may have at most %(max)d characters.") % {"max": QUESTION_MAX_LENGTH},
            field="text",
        )
    if incident is not None and not (
        dashboard.open_escalations_base().filter(pk=incident.pk).exists()
    ):
        raise InvalidInput(_("Choose an open escalation from the list."), field="incident")
    question = Question.objects.create(asked_by=actor, incident=incident, text=text)
    matrix.email_each(
        _managers_to_ask(timezone.now(), actor=actor),
        dedup=f"question:{question.pk}",
        template="question_asked",
        subject=f"question:{question.pk}",
        context=lambda manager: _message_context(question, manager),
    )
    return question


def _is_manager(user: User) -> bool:
    return dashboard.viewer_role(user) == "manager"


def _managers_to_ask(at: datetime, *, actor: User) -> list[User]:
    """The escalation managers on duty, never anybody else (a responder in the manager-on-duty
    rota gets nothing; then every active escalation manager is asked). Not the asker."""
    managers = [m for m in selectors.managers_on_duty(at) if _is_manager(m)]
    if not managers:
        managers = list(
            User.objects.filter(groups__name=roles.ESCALATION_MANAGER, is_active=True)
            .distinct()
            .order_by("pk")
        )
    return [m for m in managers if m.pk != actor.pk]


def _message_context(question: Question, manager: User) -> dict:
    incident = question.incident
    state = ""
    if incident is not None:
        with translation.override(manager.language or settings.LANGUAGE_CODE):
            state = str(State(incident.state).label)
    return {
        "question_id": question.pk,
        "question": question.text,
        "asked_by_name": question.asked_by.display_name,
        "asked_at": question.created_at.isoformat(),
        "recipient_name": manager.display_name,
        "incident_id": incident.pk if incident else None,
        "title": incident.title if incident else "",
        "priority": incident.priority if incident else None,
        "state": state,
        "questions_url": f"{settings.BASE_URL}{reverse('console:questions')}",
    }


@transaction.atomic
def question_answer(*, actor: User, question: Question, answer: str) -> Question:
    """An escalation manager answers an open question; the asker reads it on the dashboard."""
    if not _is_manager(actor):
        raise PermissionDenied(_("Only escalation managers answer questions."))
    answer = (answer or "").strip()
    if not answer:
        raise InvalidInput(_("Please write an answer."), field="answer")
    if len(answer) > ANSWER_MAX_LENGTH:
        raise InvalidInput(
            _("An answer may have at most %(max)d characters.") % {"max": ANSWER_MAX_LENGTH},
            field="answer",
        )
    locked = Question.objects.select_for_update().get(pk=question.pk)
    if locked.answered_at is not None:
        raise InvalidInput(_("This question has already been answered."), field="answer")
    locked.answer = answer
    locked.answered_by = actor
    locked.answered_at = timezone.now()
    locked.save(update_fields=["answer", "answered_by", "answered_at"])
    return locked
