"""Input forms for the lifecycle actions, shared by the admin and the console."""

from django import forms
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _

from incidents.models import ACTION_LABELS, Impact, Language, PublicStatus, Urgency  # noqa: F401
from incidents.models import Audience as UpdateAudience

from .models import Integration


class ClassifyForm(forms.Form):
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)


class EscalateForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for escalating"), widget=forms.Textarea(attrs={"rows": 3})
    )


class AcknowledgeForm(forms.Form):
    pass


class WorkaroundForm(forms.Form):
    workaround = forms.CharField(
        label=_("Workaround (how the business process keeps running)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    customer_text = forms.CharField(
        label=_("What customers read of it (public update)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Sent to customers and the status page if the incident is published; empty: a "
            "standard text. The workaround above stays internal."
        ),
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution (or why it was a false alarm)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CloseForm(forms.Form):
    review = forms.CharField(
        label=_("Closing note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Required for escalated incidents, whose post-incident review must be approved "
            "first (its own page): the conclusion in a few sentences."
        ),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for reopening"), widget=forms.Textarea(attrs={"rows": 3})
    )


ACTION_FORMS = {
    "classify": ClassifyForm,
    "escalate": EscalateForm,
    "acknowledge": AcknowledgeForm,
    "provide_workaround": WorkaroundForm,
    "resolve": ResolveForm,
    "close": CloseForm,
    "reopen": ReopenForm,
}


class PublishUpdateForm(forms.Form):
    audience = forms.ChoiceField(label=_("Audience"), choices=UpdateAudience.choices)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))


class PublicIncidentForm(forms.Form):
    """Publish for customers: the public face of the incident, in German and English."""

    title = forms.CharField(label=_("Title (German)"), max_length=300)
    title_en = forms.CharField(label=_("Title (English)"), max_length=300, required=False)
    body = forms.CharField(label=_("Text (German)"), widget=forms.Textarea(attrs={"rows": 4}))
    body_en = forms.CharField(
        label=_("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    status = forms.ChoiceField(
        label=_("Public status"),
        choices=[(v, label) for v, label in PublicStatus.choices if v != PublicStatus.RESOLVED],
    )


class PublicLinkForm(forms.Form):
    public_incident = forms.IntegerField(label=_("Public incident"), min_value=1)


class PublicUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Public status"), choices=PublicStatus.choices)
    body = forms.CharField(
        label=_("Text (German)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    body_en = forms.CharField(
        label=_("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class NewIncidentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(
        label=_("What is happening? (symptoms, since when, who noticed)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Affected services"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    customers = forms.ModelMultipleChoiceField(
        label=_("Affected customers (customers of the services are added)"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    impact = forms.ChoiceField(
        label=_("Impact"),
        choices=[("", _("classify later"))] + list(Impact.choices),
        required=False,
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=[("", _("classify later"))] + list(Urgency.choices),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        from incidents.models import Customer, Service

        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = Service.objects.order_by("position", "name")
        self.fields["customers"].queryset = Customer.objects.order_by("name")

    def clean(self):
        data = super().clean()
        if bool(data.get("impact")) != bool(data.get("urgency")):
            raise forms.ValidationError(_("Give impact and urgency together, or neither."))
        return data


MATRIX_TEMPLATES = [
    ("incident_escalated", _("Escalated: pulled in (team)")),
    ("internal_update", _("Internal update (team)")),
    ("executive_update", _("Executive update")),
    ("customer_update", _("Customer update")),
]


class CommunicationRuleForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=[
            ("email", _("Email")),
            ("apprise", _("Chat/SMS (Apprise URL)")),
            ("webhook", _("Webhook")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    template = forms.ChoiceField(label=_("Message"), choices=MATRIX_TEMPLATES)

    class Meta:
        from .models import CommunicationRule

        model = CommunicationRule
        fields = [
            "position",
            "is_active",
            "priority",
            "customer",
            "service",
            "audience",
            "users",
            "group",
            "channels",
            "cadence_minutes",
            "template",
            "auto_publish",
        ]
        widgets = {"users": forms.CheckboxSelectMultiple}


def _integration_field(name: str):
    return Integration._meta.get_field(name)


def _window(name: str) -> forms.IntegerField:
    field = _integration_field(name)
    return forms.IntegerField(
        label=capfirst(field.verbose_name),
        help_text=field.help_text,
        min_value=0,
        max_value=Integration.MAX_WINDOW_MINUTES,
        error_messages={"max_value": _("At most %(limit_value)s minutes (one week).")},
    )


class IntegrationRulesForm(forms.Form):
    """An integration's grouping rules in the console: the group-by names as one comma-separated
    text (what the API takes as a list). The checks are the API's; the service checks once more
    with Integration.clean()."""

    group_labels = forms.CharField(
        label=_("Group by"),
        required=False,
        help_text=_(
            "Alertmanager labels or Events API v2 payload fields (source, severity, component, "
            "group, class, summary or a key of custom_details), separated by commas, e.g. "
            "alertname, instance. Alerts with equal values share one incident. Empty: one "
            "incident per alert."
        ),
    )
    group_window = _window("group_window")
    flap_window = _window("flap_window")
    resolve_on_resolved = forms.BooleanField(
        label=capfirst(_integration_field("resolve_on_resolved").verbose_name),
        required=False,
        help_text=_("With group-by names: when the last of its alerts resolves."),
    )

    def clean_group_labels(self) -> list[str]:
        names = [part.strip() for part in self.cleaned_data["group_labels"].split(",")]
        names = [name for name in names if name]
        errors = []
        for name in dict.fromkeys(
            name for name in names if len(name) > Integration.MAX_LABEL_LENGTH
        ):
            errors.append(
                _("A name has at most %(n)d characters: %(name)s is longer.")
                % {"n": Integration.MAX_LABEL_LENGTH, "name": Truncator(name).chars(40)}
            )
        twice = [name for name in dict.fromkeys(names) if names.count(name) > 1]
        if twice:
            errors.append(
                _("Each name at most once (more than once: %(names)s).")
                % {"names": ", ".join(Truncator(name).chars(40) for name in twice)}
            )
        if len(set(names)) > Integration.MAX_GROUP_LABELS:
            errors.append(
                _("At most %(n)d names (%(count)d given).")
                % {"n": Integration.MAX_GROUP_LABELS, "count": len(set(names))}
            )
        if errors:
            raise forms.ValidationError(errors)
        return names


def _zones() -> list[tuple[str, str]]:
    import zoneinfo

    return [(zone, zone.replace("_", " ")) for zone in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.Form):
    """A person's own language and time zone (the profile page)."""

    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_zones,
        help_text=_("Every time on these pages and in your messages is shown in this zone."),
    )
