"""The console's problem form: the statement and services, the owner, the root cause with its
method's structured record (5 whys, or causes per fishbone category), the workaround and alert
signature of the known error, and the permanent fix."""

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Service, User

from .models import FISHBONE_CATEGORIES, Problem, RootCauseMethod

LOCAL = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
WHYS = 5


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProblemForm(forms.ModelForm):
    services = forms.ModelMultipleChoiceField(
        Service.objects.order_by("position", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("affected services"),
    )
    owner = forms.ModelChoiceField(
        User.objects.filter(is_staff=True, is_active=True).order_by("username"),
        required=False,
        label=_("owner"),
    )
    dedup_keys_text = forms.CharField(
        label=_("deduplication keys"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: new incidents with one of these keys show this known error."),
    )
    alert_labels_text = forms.CharField(
        label=_("alert labels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "One label=value per line: new incidents with an alert carrying all of them show "
            "this known error."
        ),
    )

    class Meta:
        model = Problem
        fields = [
            "statement",
            "description",
            "services",
            "owner",
            "root_cause_method",
            "root_cause",
            "workaround",
            "fix_change_ref",
            "fix_description",
            "fixed_at",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
            "workaround": forms.Textarea(attrs={"rows": 3}),
            "fix_description": forms.Textarea(attrs={"rows": 2}),
            "fixed_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        analysis = self.instance.root_cause_analysis or {}
        whys = analysis.get("whys", [])
        for i in range(WHYS):
            self.fields[f"why_{i + 1}"] = forms.CharField(
                label=_("Why? (%(n)s)") % {"n": i + 1},
                required=False,
                max_length=500,
                initial=whys[i] if i < len(whys) else "",
            )
        categories = analysis.get("categories", {})
        for key, label in FISHBONE_CATEGORIES.items():
            self.fields[f"fishbone_{key}"] = forms.CharField(
                label=label,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial="\n".join(categories.get(key, [])),
            )
        if self.instance.pk:
            self.fields["dedup_keys_text"].initial = "\n".join(self.instance.dedup_keys or [])
            self.fields["alert_labels_text"].initial = "\n".join(
                f"{k}={v}" for k, v in (self.instance.alert_labels or {}).items()
            )

    def clean_alert_labels_text(self) -> dict:
        labels = {}
        for line in _lines(self.cleaned_data.get("alert_labels_text", "")):
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(_("Write each label as label=value."))
            labels[key.strip()] = value.strip()
        return labels

    def clean(self):
        data = super().clean()
        method = data.get("root_cause_method")
        if method == RootCauseMethod.FIVE_WHYS:
            whys = [data.get(f"why_{i + 1}", "").strip() for i in range(WHYS)]
            analysis = {"whys": [w for w in whys if w]}
        elif method == RootCauseMethod.FISHBONE:
            analysis = {
                "categories": {
                    key: causes
                    for key in FISHBONE_CATEGORIES
                    if (causes := _lines(data.get(f"fishbone_{key}", "")))
                }
            }
        else:
            analysis = {}
        data["root_cause_analysis"] = analysis
        data["dedup_keys"] = _lines(data.get("dedup_keys_text", ""))
        data["alert_labels"] = data.get("alert_labels_text") or {}
        return data

    def service_fields(self) -> dict:
        """What problem_create / problem_update take from this form."""
        data = self.cleaned_data
        fields = {name: data[name] for name in self.Meta.fields if name in data}
        fields.update(
            root_cause_analysis=data["root_cause_analysis"],
            dedup_keys=data["dedup_keys"],
            alert_labels=data["alert_labels"],
        )
        fields["root_cause_method"] = fields.get("root_cause_method") or ""
        return fields
