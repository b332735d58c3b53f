"""The one form on the dashboard: a question for the escalation manager (it never reaches the team).

The form checks the input's shape; `escalation.services.questions.question_ask` checks the rules
(who may ask, which incident) and writes.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..services.questions import QUESTION_MAX_LENGTH


class QuestionForm(forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Please write your question.")},
    )
    incident = forms.IntegerField(
        label=_("About (optional)"),
        required=False,
        min_value=1,
        error_messages={"invalid": _("Choose an open escalation from the list.")},
    )
