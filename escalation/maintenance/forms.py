from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Service, ServiceGroup

from .models import Maintenance

LOCAL = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


class MaintenanceForm(forms.ModelForm):
    services = forms.ModelMultipleChoiceField(
        Service.objects.order_by("position", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("services"),
    )
    groups = forms.ModelMultipleChoiceField(
        ServiceGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("service groups"),
    )

    class Meta:
        model = Maintenance
        fields = ["title", "body", "services", "groups", "starts_at", "ends_at", "silence"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL),
            "body": forms.Textarea(attrs={"rows": 4}),
        }

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must be after the start."))
        if not data.get("services") and not data.get("groups"):
            self.add_error("services", _("Name at least one service or service group."))
        return data
