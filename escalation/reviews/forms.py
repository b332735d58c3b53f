from django import forms
from django.utils.translation import gettext_lazy as _

from escalation.narrative import entries_present
from incidents.models import User

from .models import TEXT_FIELDS, Action, Review


class ReviewForm(forms.ModelForm):
    key_moments = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label=_("key moments")
    )

    class Meta:
        model = Review
        fields = [*TEXT_FIELDS, "key_moments"]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in TEXT_FIELDS}

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_moments"].choices = [  # each entry as the timeline says it
            (e.event.seq, f"{e.event.seq} · {e.sentence}") for e in entries_present(events)
        ]


def _owners():
    return User.objects.filter(is_active=True, is_staff=True).order_by("username")


class ActionForm(forms.ModelForm):
    owner = forms.ModelChoiceField(_owners(), label=_("owner"))

    class Meta:
        model = Action
        fields = [
            "title",
            "kind",
            "owner",
            "due_on",
            "check_on",
            "check_kind",
            "check_criterion",
            "description",
        ]
        widgets = {
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "check_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owners()

    def clean(self):
        data = super().clean()
        due, check = data.get("due_on"), data.get("check_on")
        if due and check and check < due:
            self.add_error("check_on", _("The effectiveness check comes after the due date."))
        return data


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class VerdictForm(NoteForm):
    effective = forms.TypedChoiceField(
        label=_("verdict"),
        choices=[("1", _("effective")), ("0", _("not effective"))],
        coerce=lambda v: v == "1",
    )
