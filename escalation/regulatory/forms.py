"""Forms of the console's reporting page (they check the input's shape; the services the rules)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Assessment

LOCAL = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
_LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL)


class AwarenessForm(forms.Form):
    aware_at = forms.DateTimeField(
        label=_("Became aware at"), input_formats=[LOCAL], widget=_LOCAL_INPUT
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=2000)


class AssessmentForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Assessment.Decision.REPORTABLE, _("Reportable")),
            (Assessment.Decision.NOT_REPORTABLE, _("Not reportable")),
        ],
        widget=forms.RadioSelect,
    )
    personal_data = forms.ChoiceField(
        label=_("Personal data involved?"),
        choices=[("", _("unknown")), ("yes", _("yes")), ("no", _("no"))],
        required=False,
    )
    users_affected = forms.IntegerField(label=_("Users affected"), min_value=0, required=False)
    reason = forms.CharField(
        label=_("Why"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def personal_data_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("personal_data") or "")


class DraftForm(forms.Form):
    text = forms.CharField(
        label=_("Draft (German)"),
        max_length=50000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 18}),
    )
    text_en = forms.CharField(
        label=_("Draft (English)"),
        max_length=50000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 18}),
    )


class SubmitForm(forms.Form):
    submitted_at = forms.DateTimeField(
        label=_("Submitted at"),
        input_formats=[LOCAL],
        widget=_LOCAL_INPUT,
        required=False,
        help_text=_("Leave empty for now."),
    )
    reference = forms.CharField(label=_("Authority's reference"), max_length=200, required=False)


class ReferenceForm(forms.Form):
    reference = forms.CharField(label=_("Authority's reference"), max_length=200)
