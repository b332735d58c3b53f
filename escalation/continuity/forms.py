"""Console forms of business continuity. Steps and per-priority objectives are typed as lines
(one step per line, "who | what"; "P1 30/120") and parsed here into the services' shapes."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from escalation.roles import ESCALATION_MANAGER, RESPONDER
from incidents.models import Customer, Service, ServiceStatus, User

from .models import BusinessProcess, Level

OBJECTIVE = re.compile(r"^P?([1-4])\s*[:=]?\s*(\d+)\s*/\s*(\d+)$", re.IGNORECASE)


def objectives_parse(text: str) -> dict:
    found = {}
    for part in re.split(r"[,;\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        match = OBJECTIVE.match(part)
        if not match:
            raise forms.ValidationError(
                _("Write each priority as 'P1 30/120' (RTO/MTPD in minutes).")
            )
        found[match[1]] = {"rto": int(match[2]), "mtpd": int(match[3])}
    return found


def objectives_text(objectives: dict) -> str:
    return ", ".join(f"P{p} {v['rto']}/{v['mtpd']}" for p, v in sorted(objectives.items()))


def steps_parse(text: str) -> list[dict]:
    steps = []
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*\d+[.)]\s*", "", line).strip()
        if not line:
            continue
        performer, _sep, what = line.rpartition(" | ") if " | " in line else ("", "", line)
        steps.append({"text": what.strip(), "performer": performer.strip()})
    if not steps:
        raise forms.ValidationError(_("Give at least one step."))
    return steps


def steps_text(steps: list[dict]) -> str:
    return "\n".join(
        f"{s['performer']} | {s['text']}" if s.get("performer") else s["text"] for s in steps
    )


def _team():
    return User.objects.filter(
        is_active=True, groups__name__in=[ESCALATION_MANAGER, RESPONDER]
    ).distinct()


class ProcessForm(forms.ModelForm):
    owner = forms.ModelChoiceField(_team(), required=False, label=_("owner"))
    customers = forms.ModelMultipleChoiceField(
        Customer.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("customers"),
    )
    services = forms.ModelMultipleChoiceField(
        Service.objects.order_by("position", "name"),
        widget=forms.CheckboxSelectMultiple,
        label=_("services it depends on"),
    )
    objectives = forms.CharField(
        label=_("objectives per priority"),
        required=False,
        help_text=_("Optional, e.g. 'P1 30/120, P2 60/240' (RTO/MTPD in minutes)."),
    )

    class Meta:
        model = BusinessProcess
        fields = [
            "name",
            "slug",
            "description",
            "owner",
            "customers",
            "services",
            "rto_minutes",
            "mtpd_minutes",
            "objectives",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _team()
        if self.instance.pk:
            self.initial["objectives"] = objectives_text(self.instance.objectives)

    def clean_objectives(self):
        return objectives_parse(self.cleaned_data.get("objectives", ""))

    def clean(self):
        data = super().clean()
        rto, mtpd = data.get("rto_minutes"), data.get("mtpd_minutes")
        if rto is not None and mtpd is not None and mtpd < rto:
            self.add_error("mtpd_minutes", _("The MTPD cannot be shorter than the RTO."))
        return data


class RunbookForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    process = forms.ModelChoiceField(
        BusinessProcess.objects.all(), required=False, label=_("business process")
    )
    service = forms.ModelChoiceField(
        Service.objects.order_by("position", "name"), required=False, label=_("service")
    )
    preconditions = forms.CharField(
        label=_("preconditions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    steps = forms.CharField(
        label=_("steps"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One step per line, in order; 'who | what' names who performs it."),
    )
    performer = forms.CharField(label=_("performed by"), max_length=200)
    customer_text_de = forms.CharField(
        label=_("text for customers (German)"), widget=forms.Textarea(attrs={"rows": 2})
    )
    customer_text_en = forms.CharField(
        label=_("text for customers (English)"), widget=forms.Textarea(attrs={"rows": 2})
    )
    limitations = forms.CharField(
        label=_("known limitations"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    expected_status = forms.ChoiceField(
        label=_("expected service status"), choices=ServiceStatus.choices
    )
    needs_concession = forms.BooleanField(
        label=_("changes what the customer gets"), required=False, initial=True
    )
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)

    def clean_steps(self):
        return steps_parse(self.cleaned_data.get("steps", ""))

    def clean(self):
        data = super().clean()
        if not data.get("process") and not data.get("service"):
            self.add_error("process", _("Name the process or the service the runbook is for."))
        return data


class WorkaroundForm(forms.Form):
    runbook = forms.IntegerField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("ad hoc workaround"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    customer_text_de = forms.CharField(
        label=_("text for customers (German)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    customer_text_en = forms.CharField(
        label=_("text for customers (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("runbook") and not (data.get("text") or "").strip():
            raise forms.ValidationError(_("Choose a runbook or describe the workaround."))
        return data


class ConcessionForm(forms.Form):
    customer = forms.ModelChoiceField(Customer.objects.all(), label=_("customer"))
    accepted_by = forms.CharField(label=_("accepted by"), max_length=200)
    conditions = forms.CharField(
        label=_("conditions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LevelForm(forms.Form):
    level = forms.ChoiceField(label=_("disruption level"), choices=Level.choices)
    reason = forms.CharField(label=_("reason"), max_length=1000)
